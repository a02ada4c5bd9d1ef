"""Use cases of sign-in and user administration.

Passwords are hashed with Argon2id (argon2-cffi) and must pass zxcvbn (auth/model.py); session
tokens are random and only their SHA-256 is stored. Guesses are throttled per client address,
per account and address, and per account (auth/throttle.py, reserved before any password is
checked); a locked account, an unknown user and a wrong password get the same answer. Sessions
end after an idle period. Administrators must enrol a TOTP second factor (until they do, their
session reaches only the enrolment routes: auth/deps.py); each code is accepted once. Every
sign-in attempt and every change to an account is written to the audit log. All time-dependent
functions take `now` so tests inject the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, bindparam, func, select, update

from safetynet.audit import service as audit
from safetynet.auth import encryption, errors, throttle
from safetynet.auth.model import (
    DEPARTMENTS,
    ROLE_CAPABILITIES,
    ROLE_LABELS,
    AccountRuleError,
    CurrentUser,
    Role,
    check_department,
    check_new_password,
    check_password,
    check_role_level,
    check_username,
    is_admin,
    may_grant,
    parse_role,
)
from safetynet.auth.store import login_failures, sessions, users
from safetynet.config import get_settings
from safetynet.regions.model import full_code
from safetynet.regions.store import regions

log = logging.getLogger(__name__)

TOTP_ISSUER = "safetynet"
# A session's last_seen_at is written at most this often (not on every request).
_TOUCH_EVERY = dt.timedelta(seconds=60)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands timestamps back without a zone; they are stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def hasher() -> PasswordHasher:
    s = get_settings()
    return PasswordHasher(time_cost=s.password_hash_time_cost, memory_cost=s.password_hash_memory_kib)


def hash_password(password: str) -> str:
    return hasher().hash(check_password(password))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _rule(e: AccountRuleError) -> errors.ApiError:
    return errors.invalid(e.field, str(e), e.message_zh)


# --- reading users ------------------------------------------------------------------------

_USER_COLUMNS = [users.c.id, users.c.username, users.c.display_name, users.c.role, users.c.region_code,
                 users.c.department, users.c.active, users.c.totp_enabled, users.c.locked_until,
                 users.c.created_at, users.c.updated_at, regions.c.name.label("region_name")]


# the latest lock of any client address out of the account (auth/throttle.py), for administrators
_ADDRESS_LOCKED_UNTIL = (select(func.max(login_failures.c.locked_until))
                         .where(login_failures.c.user_id == users.c.id).scalar_subquery())


def _user_query():  # noqa: ANN202
    return (select(*_USER_COLUMNS, _ADDRESS_LOCKED_UNTIL.label("address_locked_until"))
            .select_from(users.join(regions, regions.c.code == users.c.region_code)))


def _current(row) -> CurrentUser:  # noqa: ANN001
    return CurrentUser(
        username=row.username, display_name=row.display_name, role=row.role, region_code=row.region_code,
        region_name=row.region_name, department=row.department,
        capabilities=ROLE_CAPABILITIES[Role(row.role)], totp_enabled=bool(row.totp_enabled),
    )


def _public(row) -> dict:  # noqa: ANN001
    role = Role(row.role)
    # locked for some address or for everyone: whichever lasts longer (the administrator's view)
    locks = [t for t in (_utc(row.locked_until), _utc(row.address_locked_until)) if t is not None]
    locked = max(locks) if locks else None
    return {
        "username": row.username, "display_name": row.display_name, "role": role.value,
        "role_label": ROLE_LABELS[role], "region_code": row.region_code, "region_name": row.region_name,
        "department": row.department,
        "department_label": DEPARTMENTS.get(row.department) if row.department else None,
        "active": bool(row.active), "totp_enabled": bool(row.totp_enabled),
        "locked_until": locked.isoformat() if locked else None,
        "created_at": _utc(row.created_at).isoformat(),
    }


def _region(conn: Connection, code: str) -> Any:
    code = (code or "").strip()
    full = code if len(code) in (12, 14) else full_code(code)
    row = conn.execute(select(regions).where(regions.c.code == full)).first() if code.isdigit() else None
    if row is None:
        raise errors.invalid("region_code", f"region {code!r} not found; give a 2/4/6/9/12-digit "
                             "administrative code such as 370102", f"行政区划 {code!r} 不存在")
    return row


def get_user(engine: Engine, *, username: str, scope: CurrentUser | None = None) -> dict:
    with engine.connect() as conn:
        row = conn.execute(_user_query().where(users.c.username == username)).first()
    if row is None or (scope is not None and not scope.in_scope(row.region_code)):
        raise errors.ApiError(404, "not_found", f"user {username!r} not found", f"用户 {username} 不存在")
    return _public(row)


def list_users(engine: Engine, *, scope_prefix: str = "", page: int = 1, page_size: int = 20) -> dict:
    q = _user_query()
    if scope_prefix:
        q = q.where(users.c.region_code.like(scope_prefix + "%"))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        rows = conn.execute(q.order_by(users.c.region_code, users.c.username)
                            .limit(page_size).offset((page - 1) * page_size)).all()
    return {"items": [_public(r) for r in rows], "total": total, "page": page, "page_size": page_size}


# --- administering users ------------------------------------------------------------------

def _check_grant(by: CurrentUser | None, role: Role, region_code: str) -> None:
    """An administrator acts only within their subtree and never grants above their own role."""
    if by is None:  # the command line (server operator)
        return
    if not by.can("users.admin"):
        raise errors.forbidden("users.admin")
    if not may_grant(Role(by.role), role):
        raise errors.ApiError(403, "forbidden", f"you cannot grant the role {role.value}: it is above "
                              f"your own ({by.role})", f"不能授予高于本人的角色（{ROLE_LABELS[role]['zh']}）",
                              field="role")
    if not by.in_scope(region_code):
        raise errors.ApiError(403, "forbidden", f"region {region_code} is outside your region "
                              f"({by.region_code})", "不能管理本辖区以外的用户", field="region_code")


def create_user(engine: Engine, *, username: str, password: str, role: str, region_code: str,
                display_name: str | None = None, department: str | None = None,
                by: CurrentUser | None = None, now: dt.datetime | None = None,
                _demo_password: bool = False) -> dict:
    """Create an account. `by` is the administrator doing it (None: the command line)."""
    now = now or _now()
    try:
        check_username(username)
        role_ = parse_role(role)
        department = check_department(role_, department or None)
        if not _demo_password:  # only the published demo accounts skip the policy
            check_password(password, user_inputs=(username, display_name))
    except AccountRuleError as e:
        raise _rule(e) from None
    with engine.begin() as conn:
        region = _region(conn, region_code)
        _check_grant(by, role_, region.code)
        try:
            check_role_level(role_, region.level)
        except AccountRuleError as e:
            raise _rule(e) from None
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise errors.ApiError(409, "invalid", f"username {username!r} is taken",
                                  f"用户名 {username} 已存在", field="username")
        conn.execute(users.insert(), {
            "username": username, "display_name": (display_name or username).strip()[:100],
            "password_hash": hasher().hash(password), "role": role_.value, "region_code": region.code,
            "department": department, "active": True, "totp_secret": None, "totp_enabled": False,
            "failed_attempts": 0, "locked_until": None, "created_at": now,
            "created_by": by.username if by else None, "updated_at": now, "password_changed_at": now,
        })
        audit.record(None, conn=conn, actor=by or "cli", action="write", object_type="user",
                     object_id=username, fields=["username", "role", "region_code", "password", "department",
                                                 "display_name"], detail="create", at=now)
        row = conn.execute(_user_query().where(users.c.username == username)).one()
    return _public(row)


def update_user(engine: Engine, *, username: str, by: CurrentUser | None, role: str | None = None,
                region_code: str | None = None, active: bool | None = None, password: str | None = None,
                display_name: str | None = None, department: str | None = None,
                unlock: bool = False, now: dt.datetime | None = None) -> dict:
    """Change role, region, active flag, display name or password (reset) of an account in the
    administrator's subtree. A reset password or deactivation ends the user's sessions."""
    now = now or _now()
    with engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
        if row is None or (by is not None and not by.in_scope(row.region_code)):
            raise errors.ApiError(404, "not_found", f"user {username!r} not found", f"用户 {username} 不存在")
        if by is not None and username == by.username and (role or region_code or active is False):
            raise errors.ApiError(403, "forbidden", "you cannot change your own role, region or "
                                  "active flag", "不能修改本人的角色、辖区或启用状态")
        if by is not None and username == by.username and password is not None:
            # a reset needs no current password: one's own goes through the checked route
            raise errors.ApiError(403, "forbidden", "change your own password with POST "
                                  "/api/v1/auth/password (it asks for the current one)",
                                  "请通过“修改密码”修改本人密码（需验证当前密码）", field="password")
        # the administrator must be allowed to manage the account as it is now ...
        _check_grant(by, Role(row.role), row.region_code)
        changes: dict[str, Any] = {}
        try:
            new_role = parse_role(role) if role else Role(row.role)
            if role or department is not None:
                new_dep = check_department(new_role, department if department is not None else row.department)
                if new_dep != row.department:
                    changes["department"] = new_dep
            if password is not None:
                check_password(password, user_inputs=(
                    username, display_name if display_name is not None else row.display_name))
        except AccountRuleError as e:
            raise _rule(e) from None
        region = _region(conn, region_code) if region_code else _region(conn, row.region_code)
        # ... and as it will be
        _check_grant(by, new_role, region.code)
        try:
            check_role_level(new_role, region.level)
        except AccountRuleError as e:
            raise _rule(e) from None
        if new_role.value != row.role:
            changes["role"] = new_role.value
        if region.code != row.region_code:
            changes["region_code"] = region.code
        if active is not None and bool(active) != bool(row.active):
            changes["active"] = bool(active)
        if display_name is not None and display_name.strip() != row.display_name:
            changes["display_name"] = display_name.strip()[:100]
        if password is not None:
            changes["password_hash"] = hasher().hash(password)
            changes["password_changed_at"] = now
        if (unlock or password is not None) and (row.failed_attempts or row.locked_until or conn.execute(
                select(login_failures.c.user_id).where(login_failures.c.user_id == row.id).limit(1)).first()):
            throttle.clear(conn, row.id)  # every address's lock and count, and the account's
            changes |= {"failed_attempts": 0, "locked_until": None}
        if changes:
            conn.execute(update(users).where(users.c.id == row.id).values(**changes, updated_at=now))
            if {"password_hash", "active", "role", "region_code"} & changes.keys():
                _end_sessions(conn, row.id, now)
            fields = sorted("password" if k == "password_hash" else k for k in changes
                            if k not in ("password_changed_at",))
            audit.record(None, conn=conn, actor=by or "cli", action="write", object_type="user",
                         object_id=username, fields=fields, detail="update", at=now)
        out = conn.execute(_user_query().where(users.c.id == row.id)).one()
    return _public(out)


def _end_sessions(conn: Connection, user_id: int, now: dt.datetime, *, keep: str | None = None) -> int:
    """End the user's live sessions except the one whose token hash is `keep`; how many ended."""
    q = update(sessions).where(sessions.c.user_id == user_id, sessions.c.ended_at.is_(None))
    if keep is not None:
        q = q.where(sessions.c.token_hash != keep)
    return conn.execute(q.values(ended_at=now)).rowcount


def change_password(engine: Engine, *, user: CurrentUser, current_password: str, new_password: str,
                    token: str | None, now: dt.datetime | None = None, client: str = "local") -> dict:
    """The signed-in user's own password. The current one must be given: a wrong one counts
    towards the lockout like a failed sign-in from `client` (reserved before it is checked, as
    at sign-in), and a lock ends every session (a stolen session cannot keep guessing). On
    success the user's other sessions end; the one in use (`token`) stays signed in. Audited
    either way, never with the passwords."""
    now = now or _now()
    client = throttle.client_key(client)
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == user.username)).first()
    if row is None or not row.active:
        raise errors.not_signed_in()
    minutes = get_settings().login_lockout_minutes
    hold = throttle.reserve_account(engine, row.id, client, now)
    if not isinstance(hold, throttle.Hold):
        audit.record(engine, actor=user, action="write", object_type="user", object_id=user.username,
                     fields=["password"], result="denied", at=now, detail=f"password_change:{hold}")
        raise errors.account_locked(minutes)
    if not _verify(row.password_hash, current_password or ""):
        with engine.begin() as conn:
            locks = throttle.failed(conn, hold, now)
            if locks:
                _end_sessions(conn, row.id, now)
            audit.record(None, conn=conn, actor=user, action="write", object_type="user",
                         object_id=user.username, fields=["password"], result="denied", at=now,
                         detail=",".join(["password_change:bad_current", *locks]))
        if locks:
            raise errors.account_locked(minutes)
        raise errors.invalid("current_password", "the current password is wrong", "当前密码不正确")
    with engine.begin() as conn:
        throttle.succeeded(conn, hold)
    try:
        check_new_password(new_password, current=current_password, username=user.username,
                           display_name=user.display_name)
    except AccountRuleError as e:
        raise _rule(e) from None
    keep = token_hash(token) if token else None
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == row.id).values(
            password_hash=hasher().hash(new_password), password_changed_at=now, updated_at=now))
        ended = _end_sessions(conn, row.id, now, keep=keep)
        audit.record(None, conn=conn, actor=user, action="write", object_type="user", object_id=user.username,
                     fields=["password"], detail=f"password_change,other_sessions_ended={ended}", at=now)
    return {"password_changed_at": now.isoformat(), "other_sessions_ended": ended}


# --- signing in ---------------------------------------------------------------------------

def _verify(password_hash: str, password: str) -> bool:
    """Check a password against an account's hash (the only place one is checked)."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: list[str] = []


def _spend_like_verify(password: str) -> None:
    """Unknown users and locked accounts cost as much time as a checked password (no probing by
    timing); no account's password is checked."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hasher().hash("dummy-password-0"))
    try:
        hasher().verify(_DUMMY_HASH[0], password)
    except (VerificationError, InvalidHashError):
        pass


def _invalid() -> errors.ApiError:
    s = get_settings()
    return errors.invalid_credentials(s.login_lockout_attempts, s.login_lockout_minutes)


def login(engine: Engine, *, username: str, password: str, totp_code: str | None = None,
          now: dt.datetime | None = None, purpose: str | None = None,
          client: str = "local") -> tuple[str, CurrentUser]:
    """Check the credentials of a sign-in from `client` (its address); returns (session token for
    the cookie, the user).

    Before anything is checked the attempt is reserved on the address's allowance and on the
    account's counters (auth/throttle.py); a wrong password or code keeps it counted, so under
    any concurrency at most `login_lockout_attempts` guesses per address reach the hash.

    Raises ApiError: too_many_requests (429, the address's allowance is used up),
    invalid_credentials (401: wrong password or code, unknown or inactive user, or a locked
    account — one answer for all, so a prober cannot tell them apart), totp_required (401: the
    right password, the code missing). Every attempt is audited (detail: ok, bad_password,
    bad_totp[,reused], unknown_user, inactive, locked, account_locked, rate_limited, with
    ,locked_out / ,account_locked_out when it set a lock)."""
    now = now or _now()
    client = throttle.client_key(client)
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    actor = username if row is None else _actor(row)

    def audit_attempt(conn: Connection | None, detail: str, failure: errors.ApiError | None) -> None:
        result = "ok" if failure is None else "error" if failure.status >= 500 else "denied"
        audit.record(engine if conn is None else None, conn=conn, actor=actor, action="login",
                     object_type="user", object_id=(username or "")[:64], detail=detail, purpose=purpose,
                     at=now, result=result)

    try:
        window = throttle.reserve_rate(engine, client, now)
    except errors.ApiError as e:
        audit_attempt(None, "rate_limited", e)
        raise
    hold: throttle.Hold | str | None = None
    if row is not None and row.active:
        hold = throttle.reserve_account(engine, row.id, client, now)
    failure: errors.ApiError | None = None
    outcome = "failed"  # or "succeeded", "neutral" (given back: not a guess that failed)
    step: int | None = None
    if not isinstance(hold, throttle.Hold):
        _spend_like_verify(password or "")
        failure = _invalid()
        detail = "unknown_user" if row is None else "inactive" if not row.active else hold
    elif not _verify(row.password_hash, password or ""):
        failure, detail = _invalid(), "bad_password"
    elif row.totp_enabled and not totp_code:
        failure, detail, outcome = errors.totp_required(), "totp_required", "neutral"
    elif row.totp_enabled:
        try:
            step, detail = _totp_match(row, totp_code, now)
            if step is None:
                failure = _invalid()
        except errors.ApiError as e:  # the server's key, not the user, is at fault: no failed attempt
            failure, detail, outcome = e, "secret_key_unusable", "neutral"
    else:
        detail = "ok"
    if failure is None and step is not None:
        # spent in a transaction of its own: the one below takes the counters' rows first and
        # the user's row last, in the order every other writer of them does (no deadlock)
        with engine.begin() as conn:
            if not _claim_step(conn, row.id, step):
                failure, detail = _invalid(), "bad_totp,reused"  # a request at the same moment won
    if failure is None:
        outcome = "succeeded"
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        if outcome != "failed":
            throttle.release_rate(conn, client, window)
        if isinstance(hold, throttle.Hold):
            if outcome == "failed":
                detail = ",".join([detail, *throttle.failed(conn, hold, now)])
            elif outcome == "succeeded":
                throttle.succeeded(conn, hold)
            else:
                throttle.neutral(conn, hold)
        if failure is None:
            if hasher().check_needs_rehash(row.password_hash):
                conn.execute(update(users).where(users.c.id == row.id)
                             .values(password_hash=hasher().hash(password)))
            conn.execute(sessions.insert(), {"token_hash": token_hash(token), "user_id": row.id,
                                             "created_at": now, "last_seen_at": now, "ended_at": None})
        audit_attempt(conn, detail, failure)
    if failure is not None:
        raise failure
    with engine.connect() as conn:
        user = _current(conn.execute(_user_query().where(users.c.id == row.id)).one())
    return token, user


class _RowActor:
    def __init__(self, row) -> None:  # noqa: ANN001
        self.username, self.role, self.region_code = row.username, row.role, row.region_code


def _actor(row) -> _RowActor:  # noqa: ANN001
    return _RowActor(row)


_SESSION_USER = (
    select(*_USER_COLUMNS, sessions.c.created_at.label("s_created"), sessions.c.last_seen_at,
           sessions.c.ended_at)
    .select_from(sessions.join(users, users.c.id == sessions.c.user_id)
                 .join(regions, regions.c.code == users.c.region_code))
    .where(sessions.c.token_hash == bindparam("token_hash"))
)


def resolve_session(engine: Engine, token: str | None, *,
                    now: dt.datetime | None = None) -> CurrentUser | None:
    """The user of a live session, or None (unknown, signed out, idle too long, too old, or the
    account deactivated). Refreshes the idle clock."""
    if not token:
        return None
    now = now or _now()
    settings = get_settings()
    h = token_hash(token)
    # every API request runs this: one statement built once, outside a transaction (no
    # BEGIN/ROLLBACK round trips for a single read)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        row = conn.execute(_SESSION_USER, {"token_hash": h}).first()
    if row is None or row.ended_at is not None or not row.active:
        return None
    last_seen, created = _utc(row.last_seen_at), _utc(row.s_created)
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    if now - last_seen > idle or now - created > dt.timedelta(hours=settings.session_max_hours):
        with engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.token_hash == h).values(ended_at=now))
        return None
    if now - last_seen >= _TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.token_hash == h).values(last_seen_at=now))
    return _current(row)


def logout(engine: Engine, token: str | None, *, user: CurrentUser | None = None,
           now: dt.datetime | None = None) -> None:
    if not token:
        return
    now = now or _now()
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.token_hash == token_hash(token),
                                            sessions.c.ended_at.is_(None)).values(ended_at=now))
        if user is not None:
            audit.record(None, conn=conn, actor=user, action="logout", object_type="user",
                         object_id=user.username, at=now)


# --- TOTP (administrators) ----------------------------------------------------------------

def _totp_secret(username: str, stored: str) -> str:
    """The plain seed of a stored (encrypted) one; a key that does not fit is the operator's
    problem: logged in full, answered with `secret_key_unusable`."""
    try:
        return encryption.decrypt(stored, context=encryption.totp_context(username))
    except encryption.SecretKeyError as e:
        log.error("TOTP secret of %s: %s", username, e)
        raise errors.secret_key_unusable() from None


def _totp_steps(secret: str, code: str | None, now: dt.datetime) -> list[int]:
    """The time steps (unix time // 30) around `now` — one back, now, one ahead, for clocks a
    little off — whose code is `code`, latest first."""
    totp = pyotp.TOTP(secret)
    code = str(code or "").strip()
    current = totp.timecode(now)
    return [step for step in (current + 1, current, current - 1)
            if len(code) == totp.digits and hmac.compare_digest(totp.generate_otp(step), code)]


def _totp_match(row, code: str | None, now: dt.datetime) -> tuple[int | None, str]:  # noqa: ANN001
    """(the step `code` is for, "ok"), or (None, "bad_totp" / "bad_totp,reused") when it is wrong or
    of a step already used (single use: steps up to users.totp_last_step are spent)."""
    steps = _totp_steps(_totp_secret(row.username, row.totp_secret), code, now)
    fresh = [st for st in steps if row.totp_last_step is None or st > row.totp_last_step]
    if fresh:
        return fresh[0], "ok"
    return None, "bad_totp,reused" if steps else "bad_totp"


def _claim_step(conn: Connection, user_id: int, step: int) -> bool:
    """Spend time step `step` of the user's codes; False when it (or a later one) was already
    spent — also by a request running at the same moment (one conditional UPDATE decides)."""
    return bool(conn.execute(
        update(users).where(users.c.id == user_id,
                            (users.c.totp_last_step.is_(None)) | (users.c.totp_last_step < step))
        .values(totp_last_step=step)).rowcount)


def totp_setup(engine: Engine, *, user: CurrentUser, now: dt.datetime | None = None) -> dict:
    """A new secret for the user's authenticator app; enforced only after `totp_confirm`."""
    if not is_admin(user.role):
        raise errors.ApiError(403, "forbidden", "two-factor sign-in is for administrator accounts",
                              "动态口令仅适用于管理员账户")
    if user.totp_enabled:
        raise errors.ApiError(409, "invalid", "two-factor sign-in is already enabled for this account",
                              "该账户已启用动态口令")
    secret = pyotp.random_base32()
    try:
        sealed = encryption.encrypt(secret, context=encryption.totp_context(user.username))
    except encryption.SecretKeyError as e:
        log.error("TOTP setup for %s: %s", user.username, e)
        raise errors.secret_key_unusable() from None
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.username == user.username)
                     .values(totp_secret=sealed, updated_at=now or _now()))
        audit.record(None, conn=conn, actor=user, action="write", object_type="user", object_id=user.username,
                     fields=["totp_secret"], detail="totp_setup", at=now)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)
    return {"secret": secret, "otpauth_uri": uri}


def totp_confirm(engine: Engine, *, user: CurrentUser, code: str, now: dt.datetime | None = None) -> dict:
    """Turn the second factor on with a first code from the app; that code is spent (it cannot
    then sign in). A wrong or spent code is refused and audited as bad_totp."""
    now = now or _now()
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == user.username)).first()
    if row is None or not row.totp_secret:
        raise errors.invalid(None, "start with POST /api/v1/auth/totp/setup", "请先生成动态口令密钥")
    step, detail = _totp_match(row, code, now)
    with engine.begin() as conn:
        if step is not None and not _claim_step(conn, row.id, step):
            step, detail = None, "bad_totp,reused"
        if step is None:
            audit.record(None, conn=conn, actor=user, action="write", object_type="user",
                         object_id=user.username, fields=["totp_enabled"], result="denied", at=now,
                         detail=f"totp_confirm:{detail}")
        else:
            conn.execute(update(users).where(users.c.id == row.id).values(totp_enabled=True, updated_at=now))
            audit.record(None, conn=conn, actor=user, action="write", object_type="user",
                         object_id=user.username, fields=["totp_enabled"], detail="totp_confirm", at=now)
    if step is None:
        raise errors.invalid("code", "the code does not match or was used already; enter the 6 digits "
                             "your authenticator app shows now",
                             "动态口令不正确或已使用过，请输入验证器当前显示的 6 位数字")
    return {"totp_enabled": True}


def totp_reset(engine: Engine, *, username: str, now: dt.datetime | None = None) -> None:
    """Turn two-factor sign-in off for an account (the operator's way out when the secret key
    was lost or the user lost the authenticator); the user may set it up again."""
    now = now or _now()
    with engine.begin() as conn:
        done = conn.execute(update(users).where(users.c.username == username)
                            .values(totp_secret=None, totp_enabled=False, updated_at=now)).rowcount
        if not done:
            raise errors.ApiError(404, "not_found", f"user {username!r} not found", f"用户 {username} 不存在")
        audit.record(None, conn=conn, actor="cli", action="write", object_type="user", object_id=username,
                     fields=["totp_enabled", "totp_secret"], detail="totp_reset", at=now)


# --- demo accounts ------------------------------------------------------------------------

# The published password of the demo accounts (README); demo data only, never production.
DEMO_PASSWORD = "Demo@2026"

# username, role, level of the bound region, department, display name
DEMO_USERS: list[tuple[str, Role, str, str | None, str]] = [
    ("province_admin", Role.province_admin, "province", None, "演示·省级管理员"),
    ("city_admin", Role.city_admin, "city", None, "演示·市级管理员"),
    ("county_admin", Role.county_admin, "county", None, "演示·县级管理员"),
    ("caseworker", Role.township_caseworker, "township", None, "演示·乡镇经办人"),
    ("reviewer", Role.township_reviewer, "township", None, "演示·乡镇审核人"),
    ("grid_worker", Role.grid_worker, "grid", None, "演示·网格员"),
    ("liaison_medical", Role.department_liaison, "city", "medical_insurance", "演示·医保部门联络员"),
    ("charity", Role.charity, "county", None, "演示·慈善组织"),
    ("auditor", Role.auditor, "province", None, "演示·审计员"),
    ("data_officer", Role.data_officer, "province", None, "演示·数据管理员"),
]


def demo_regions(engine: Engine, *, province: str = "37") -> dict[str, str]:
    """Region code per level for the demo accounts: the grid of the demo province that holds
    the most households (so the demo caseworker and grid worker have cases to open) and its
    village, township, county and city; without households yet, the first of each level."""
    from sqlalchemy import func, select

    from safetynet.regions import store as regions_store
    from safetynet.registry import store as registry_store

    out = {"province": full_code(province)}
    levels = ("city", "county", "township", "village", "grid")
    with engine.connect() as conn:
        h = registry_store.households
        busiest = conn.execute(
            select(h.c.grid_code).where(h.c.grid_code.like(f"{province}%"))
            .group_by(h.c.grid_code).order_by(func.count().desc(), h.c.grid_code).limit(1)).scalar()
        if busiest is not None:
            chain, code = [], busiest
            while code is not None and code != out["province"]:
                region = regions_store.get(conn, code)
                if region is None:
                    break
                chain.append(region.code)
                code = region.parent_code
            if code == out["province"] and len(chain) == len(levels):
                return out | dict(zip(levels, reversed(chain), strict=True))
        code = out["province"]
        for level in levels:
            kids = regions_store.children(conn, code)
            if not kids:
                raise errors.invalid("province", f"the demo province {province} has no {level} under {code}; "
                                     "run `safetynet regions seed-demo` (or `safetynet demo`) first",
                                     "演示省份的行政区划不完整，请先生成演示区划")
            code = out[level] = kids[0].code
    return out


def seed_demo_users(engine: Engine, *, province: str = "37") -> list[dict]:
    """One account per role in the demo province, password DEMO_PASSWORD (idempotent: existing
    accounts are left as they are). The demo administrators get their second factor enrolled
    (administrators must have one): their entries carry `otpauth_uri` for an authenticator app
    (`safetynet users totp-code USER` prints the current code instead)."""
    where = demo_regions(engine, province=province)
    out = []
    for username, role, level, department, display in DEMO_USERS:
        try:
            user = get_user(engine, username=username)
            user["created"] = False
        except errors.ApiError:
            user = create_user(engine, username=username, password=DEMO_PASSWORD, role=role.value,
                               region_code=where[level], display_name=display, department=department,
                               _demo_password=True)
            user["created"] = True
        if is_admin(role) and _is_demo_account(engine, username):
            user["otpauth_uri"] = _demo_totp(engine, username)
            user["totp_enabled"] = True
        out.append(user)
    return out


def _is_demo_account(engine: Engine, username: str) -> bool:
    """One of the demo usernames still holding the published demo password: nothing about it is
    secret, so its second factor may be printed too. An account someone gave a password of its
    own (or a real account that happens to bear a demo name) is not."""
    if username not in {u[0] for u in DEMO_USERS}:
        return False
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == username)).scalar()
    return stored is not None and _verify(stored, DEMO_PASSWORD)


def _demo_totp(engine: Engine, username: str, now: dt.datetime | None = None) -> str:
    """The otpauth URI of a demo administrator's second factor, enrolled first if it is not."""
    now = now or _now()
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).one()
    if row.totp_enabled and row.totp_secret:
        secret = _totp_secret(username, row.totp_secret)
    else:
        secret = pyotp.random_base32()
        sealed = encryption.encrypt(secret, context=encryption.totp_context(username))
        with engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == row.id)
                         .values(totp_secret=sealed, totp_enabled=True, updated_at=now))
            audit.record(None, conn=conn, actor="demo", action="write", object_type="user",
                         object_id=username, fields=["totp_enabled", "totp_secret"], detail="totp_demo_enrol",
                         at=now)
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def demo_totp_code(engine: Engine, *, username: str, now: dt.datetime | None = None) -> str:
    """The current code of a demo account's second factor (`safetynet users totp-code`); refused
    for every other account — a real administrator's codes come only from their own app."""
    now = now or _now()
    if not _is_demo_account(engine, username):
        raise errors.ApiError(403, "forbidden", f"{username!r} is not a demo account with the published demo "
                              "password: its codes come only from its owner's authenticator app",
                              f"{username} 不是使用公开演示密码的演示账户，动态口令只能由本人的验证器生成")
    with engine.connect() as conn:
        row = conn.execute(select(users.c.totp_secret, users.c.totp_enabled)
                           .where(users.c.username == username)).one()
    if not (row.totp_enabled and row.totp_secret):
        raise errors.invalid(None, f"{username} has no second factor (only the demo administrators do)",
                             f"{username} 未启用动态口令（仅演示管理员启用）")
    code = pyotp.TOTP(_totp_secret(username, row.totp_secret)).at(now)
    audit.record(engine, actor="cli", action="read", object_type="user", object_id=username,
                 fields=["totp_code"], detail="totp_demo_code", at=now)
    return code
