"""Throttling of password and code guesses, shared by every server process through the database.

Three counters, each reserved *before* a password or code is checked, by one conditional UPDATE
whose row count says whether the attempt may go ahead (`… SET n = n + 1 WHERE … n < limit`). The
database serialises those updates (SQLite: one writer at a time; PostgreSQL: the row lock, and
the WHERE clause re-checked on the locked row), so however many sign-ins arrive at once, no more
attempts are in flight or failed than a counter allows. Reading the count first and writing
`count + 1` afterwards — as before — let 40 parallel guesses check 29 passwords.

1. Per client address across all accounts (`login_rate`, fixed windows of
   `login_rate_limit_window_seconds`): more than `login_rate_limit_attempts` failed sign-ins
   answer 429 `too_many_requests` with Retry-After. A successful attempt gives its reservation
   back, so an office behind one address is not throttled by its own staff.
2. Per account *and* client address (`login_failures`): `login_lockout_attempts` wrong passwords
   or codes in a row from one address lock that address out of that account for
   `login_lockout_minutes`. A stranger guessing therefore cannot lock the owner out: the owner
   signs in from another address as usual.
3. Per account from all addresses (`users.failed_attempts` since `users.failures_since`, a window
   of `login_account_failure_window_minutes`): `login_account_failure_ceiling` failures — a guess
   spread over many addresses — lock the whole account for `login_lockout_minutes`. This is the
   one lock a stranger can impose, and it needs ceiling / attempts addresses within the window.

A locked account answers exactly like a wrong password or an unknown user (auth/service.py), so
neither existence nor lock state can be probed. An attempt is settled as a failure (counted; may
lock), a success (the account-and-address count starts again) or neutral (the right password
without the code it needs, or the server's key unusable: given back, not a failure).

IPv6 clients are counted per /64 (one subscriber usually holds a whole /64).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from safetynet.auth import errors
from safetynet.auth.store import login_failures, login_rate, users
from safetynet.config import get_settings

LOCKED = "locked"                  # this address is locked out of the account
ACCOUNT_LOCKED = "account_locked"  # the whole account is locked (the ceiling)
# An address's failures on an account not added to for this long are forgotten (housekeeping:
# rows of addresses that never came back would otherwise stay for good).
FORGET_FAILURES_AFTER = dt.timedelta(days=30)


def client_key(address: str | None) -> str:
    """The key a client address is counted under: IPv4 as is, IPv6 by its /64."""
    address = (address or "unknown").strip()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _insert(conn: Connection, table, **values):  # noqa: ANN001, ANN003, ANN202
    """INSERT … ON CONFLICT DO NOTHING on either database (the row a counter lives in)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).values(**values).on_conflict_do_nothing()


# --- 1. per client address, all accounts -----------------------------------------------------

def _window(now: dt.datetime, seconds: int) -> dt.datetime:
    start = math.floor(now.timestamp() / seconds) * seconds
    return dt.datetime.fromtimestamp(start, dt.UTC)


def reserve_rate(engine: Engine, client: str, now: dt.datetime) -> dt.datetime:
    """Reserve one sign-in attempt of `client` in the current window (returned, for `release_rate`);
    raise 429 `too_many_requests` when the window's allowance is used up."""
    s = get_settings()
    start = _window(now, s.login_rate_limit_window_seconds)
    with engine.begin() as conn:
        opened = conn.execute(
            _insert(conn, login_rate, client=client, window_start=start, attempts=0)).rowcount
        if opened:  # a new window: forget the windows past, of every address
            conn.execute(delete(login_rate).where(login_rate.c.window_start < start))
        taken = conn.execute(
            update(login_rate).where(login_rate.c.client == client, login_rate.c.window_start == start,
                                     login_rate.c.attempts < s.login_rate_limit_attempts)
            .values(attempts=login_rate.c.attempts + 1)).rowcount
    if opened:  # and failures long left alone (a transaction of its own: it takes no row the above holds)
        lf = login_failures
        with engine.begin() as conn:
            conn.execute(delete(lf).where(lf.c.updated_at < now - FORGET_FAILURES_AFTER,
                                          or_(lf.c.locked_until.is_(None), lf.c.locked_until < now)))
    if not taken:
        end = start + dt.timedelta(seconds=s.login_rate_limit_window_seconds)
        raise errors.too_many_requests(max(1, math.ceil((end - now).total_seconds())))
    return start


def release_rate(conn: Connection, client: str, window_start: dt.datetime) -> None:
    """Give a reserved attempt back (it was not a failure)."""
    conn.execute(update(login_rate).where(login_rate.c.client == client,
                                          login_rate.c.window_start == window_start,
                                          login_rate.c.attempts > 0)
                 .values(attempts=login_rate.c.attempts - 1))


# --- 2 and 3. per account and address, per account ---------------------------------------------

@dataclass(frozen=True)
class Hold:
    """An attempt reserved on an account's counters; settle it with `failed`, `succeeded` or
    `neutral` in the transaction that records the outcome."""

    user_id: int
    client: str


def reserve_account(engine: Engine, user_id: int, client: str, now: dt.datetime) -> Hold | str:
    """Reserve an attempt on the account for `client`: a Hold, or LOCKED / ACCOUNT_LOCKED when
    no password or code may be checked now."""
    s = get_settings()
    lf, u = login_failures, users
    window_start = now - dt.timedelta(minutes=s.login_account_failure_window_minutes)
    fresh = or_(u.c.failures_since.is_(None), u.c.failures_since <= window_start)
    with engine.connect() as conn, conn.begin() as tx:
        conn.execute(_insert(conn, lf, user_id=user_id, client=client, failures=0, locked_until=None,
                             updated_at=now))
        mine = conn.execute(
            update(lf).where(lf.c.user_id == user_id, lf.c.client == client,
                             or_(lf.c.locked_until.is_(None), lf.c.locked_until <= now),
                             lf.c.failures < s.login_lockout_attempts)
            .values(failures=lf.c.failures + 1, locked_until=None, updated_at=now)).rowcount
        if not mine:
            tx.rollback()
            return LOCKED
        # both right-hand sides read the row as it was before this UPDATE (SQL semantics)
        everyone = conn.execute(
            update(u).where(u.c.id == user_id, or_(u.c.locked_until.is_(None), u.c.locked_until <= now),
                            or_(fresh, u.c.failed_attempts < s.login_account_failure_ceiling))
            .values(failed_attempts=case((fresh, 1), else_=u.c.failed_attempts + 1),
                    failures_since=case((fresh, now), else_=u.c.failures_since))).rowcount
        if not everyone:
            tx.rollback()
            return ACCOUNT_LOCKED
    return Hold(user_id, client)


def failed(conn: Connection, hold: Hold, now: dt.datetime) -> list[str]:
    """The reserved attempt failed (it stays counted). Returns the locks it set: "locked_out"
    (this address, the limit reached) and/or "account_locked_out" (the ceiling reached)."""
    s = get_settings()
    lf, u = login_failures, users
    until = now + dt.timedelta(minutes=s.login_lockout_minutes)
    flags = []
    # the count starts again after a lock, as before; the conditional UPDATE locks exactly once
    if conn.execute(update(lf).where(lf.c.user_id == hold.user_id, lf.c.client == hold.client,
                                     lf.c.failures >= s.login_lockout_attempts)
                    .values(failures=0, locked_until=until, updated_at=now)).rowcount:
        flags.append("locked_out")
    if conn.execute(update(u).where(u.c.id == hold.user_id,
                                    u.c.failed_attempts >= s.login_account_failure_ceiling)
                    .values(failed_attempts=0, failures_since=None, locked_until=until)).rowcount:
        flags.append("account_locked_out")
    return flags


def _give_back_account(conn: Connection, hold: Hold) -> None:
    conn.execute(update(users).where(users.c.id == hold.user_id, users.c.failed_attempts > 0)
                 .values(failed_attempts=users.c.failed_attempts - 1))


def succeeded(conn: Connection, hold: Hold) -> None:
    """The right password (and code): this address starts a fresh count on the account; the
    account-wide count only gives this attempt back (the others' failures stay in their window)."""
    conn.execute(delete(login_failures).where(login_failures.c.user_id == hold.user_id,
                                              login_failures.c.client == hold.client))
    _give_back_account(conn, hold)


def neutral(conn: Connection, hold: Hold) -> None:
    """Neither success nor failure (the right password without its code; the server's key at
    fault): the reservation is given back and the count stays as it was."""
    lf = login_failures
    conn.execute(update(lf).where(lf.c.user_id == hold.user_id, lf.c.client == hold.client,
                                  lf.c.failures > 0).values(failures=lf.c.failures - 1))
    _give_back_account(conn, hold)


def clear(conn: Connection, user_id: int) -> None:
    """An administrator's unlock or password reset: every lock and count of the account goes."""
    conn.execute(delete(login_failures).where(login_failures.c.user_id == user_id))
    conn.execute(update(users).where(users.c.id == user_id)
                 .values(failed_attempts=0, failures_since=None, locked_until=None))

