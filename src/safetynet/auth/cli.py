"""`safetynet users …`: accounts from the command line (the server operator's tool)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from safetynet.auth import service
from safetynet.auth.errors import ApiError
from safetynet.auth.model import ROLE_LABELS, Role, is_admin
from safetynet.cli.output import cli_engine

app = typer.Typer(help="User accounts (用户管理): create, list, reset passwords, seed demo users.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _fail(e: ApiError) -> typer.Exit:
    where = f" ({e.field})" if e.field else ""
    err.print(f"[red]{e.message}{where}[/red]  {e.message_zh}")
    return typer.Exit(1)


def _password(password: str | None) -> str:
    if password:
        return password
    return typer.prompt("password (≥ 10 characters, letters and digits, not easy to guess)", hide_input=True,
                        confirmation_prompt=True)


TOTP_AT_FIRST_SIGN_IN = ("an administrator: at first sign-in the account must enrol a second factor "
                         "(an authenticator app, TOTP) before it can use anything else "
                         "(管理员首次登录须先绑定动态口令)")


def print_users(items: list[dict], title: str = "users") -> None:
    t = Table(title=title)
    for col in ("username", "role", "region", "department", "active"):
        t.add_column(col)
    for u in items:
        role = f"{u['role']} {u['role_label']['zh']}"
        t.add_row(u["username"], role, f"{u['region_code']} {u['region_name']}", u["department"] or "",
                  "yes" if u["active"] else "no")
    console.print(t)


@app.command("create")
def create(
    username: str = typer.Argument(..., help="3–32 lower-case letters, digits, _ . -"),
    role: str = typer.Option(..., help="One of: " + ", ".join(r.value for r in Role)),
    region: str = typer.Option(..., help="Region code the user is bound to (2/4/6/9/12 digits)"),
    display_name: str = typer.Option(None, help="Name shown in the web UI"),
    department: str = typer.Option(None, help="Department of a department_liaison (e.g. medical_insurance)"),
    password: str = typer.Option(None, help="Password (prompted when omitted)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create an account."""
    engine = cli_engine()
    try:
        user = service.create_user(engine, username=username, password=_password(password), role=role,
                                   region_code=region, display_name=display_name, department=department)
    except ApiError as e:
        raise _fail(e) from None
    if as_json:
        typer.echo(json.dumps(user, ensure_ascii=False))
    else:
        console.print(f"created {user['username']}: {ROLE_LABELS[Role(user['role'])]['zh']}, "
                      f"{user['region_code']} {user['region_name']}")
        if is_admin(user["role"]):
            console.print(TOTP_AT_FIRST_SIGN_IN, soft_wrap=True)


@app.command("list")
def list_(
    region: str = typer.Option("", help="Only users in this region's subtree (short code, e.g. 3701)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List accounts."""
    page = service.list_users(cli_engine(), scope_prefix=region, page=1, page_size=10_000)
    if as_json:
        typer.echo(json.dumps(page["items"], ensure_ascii=False))
    else:
        print_users(page["items"], title=f"{page['total']} users")


@app.command("set-password")
def set_password(
    username: str,
    password: str = typer.Option(None, help="New password (prompted when omitted)"),
) -> None:
    """Reset a password (also unlocks the account and ends its sessions)."""
    try:
        service.update_user(cli_engine(), username=username, by=None, password=_password(password),
                            unlock=True)
    except ApiError as e:
        raise _fail(e) from None
    console.print(f"password of {username} reset")


@app.command("reset-totp")
def reset_totp(username: str) -> None:
    """Turn two-factor sign-in off for USERNAME (lost authenticator, or the secret key that
    encrypts the TOTP seeds was lost); the user can set it up again after signing in."""
    try:
        service.totp_reset(cli_engine(), username=username)
    except ApiError as e:
        raise _fail(e) from None
    console.print(f"two-factor sign-in of {username} turned off")


@app.command("totp-code")
def totp_code(username: str) -> None:
    """Print the current sign-in code of a demo administrator (demo accounts only: those still
    holding the published demo password; any other account is refused)."""
    try:
        code = service.demo_totp_code(cli_engine(), username=username)
    except ApiError as e:
        raise _fail(e) from None
    typer.echo(code)


def print_demo_totp(items: list[dict]) -> None:
    """How to get the demo administrators' codes (their second factor is enrolled by the demo)."""
    admins = [u for u in items if u.get("otpauth_uri")]
    if not admins:
        return
    console.print("demo administrators sign in with a code too (动态口令): add the otpauth URI to an "
                  "authenticator app, or print the current code with "
                  "[bold]safetynet users totp-code USERNAME[/bold]", soft_wrap=True)
    for u in admins:
        # soft_wrap: the URI stays on one line, whole, whatever the terminal's width
        console.print(f"  {u['username']}  {u['otpauth_uri']}", soft_wrap=True, markup=False, highlight=False)


@app.command("seed-demo")
def seed_demo(
    province: str = typer.Option(None, help="Demo province (default: settings demo_province, 37)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One demo account per role (password Demo@2026) in the demo province. Idempotent."""
    from safetynet.config import get_settings
    from safetynet.regions import service as regions_service

    engine = cli_engine()
    province = province or get_settings().demo_province
    regions_service.seed_demo_province(engine, province=province, seed=0)
    try:
        items = service.seed_demo_users(engine, province=province)
    except ApiError as e:
        raise _fail(e) from None
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False))
    else:
        print_users(items, title=f"demo users (password {service.DEMO_PASSWORD})")
        print_demo_totp(items)
