"""Sign-in (`/auth/*`) and user administration (`/users*`) endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from safetynet.auth import service
from safetynet.auth.deps import SESSION_COOKIE, CurrentUser, client_address, current_user, now, require
from safetynet.config import get_settings

router = APIRouter(tags=["auth 登录与用户"])


class LoginBody(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    totp_code: str | None = Field(None, max_length=16)


class TotpConfirmBody(BaseModel):
    code: str = Field(max_length=16)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256, description="at least 10 characters with letters and digits, "
                              "not easy to guess (zxcvbn), not the current one, not containing the username")


class NewUser(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    role: str
    region_code: str = Field(max_length=14)
    display_name: str | None = Field(None, max_length=100)
    department: str | None = None


class UserChange(BaseModel):
    role: str | None = None
    region_code: str | None = Field(None, max_length=14)
    active: bool | None = None
    password: str | None = Field(None, max_length=256, description="reset the password")
    display_name: str | None = Field(None, max_length=100)
    department: str | None = None
    unlock: bool = False


def _set_cookie(response: Response, token: str) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it) and, by
    default, Secure (HTTPS only; `session_cookie_secure`, which the plain-http demo turns off)."""
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=settings.session_cookie_secure)


@router.post("/auth/login", responses={429: {"description": "too many failed sign-ins from this address "
                                              "(`too_many_requests`, Retry-After header)"}})
def login(body: LoginBody, request: Request, response: Response) -> dict:
    """Sign in. A wrong password or code, an unknown user and a locked account all answer 401
    `invalid_credentials`; an administrator without a second factor gets a session limited to
    enrolment (`user.totp_enrolment_required`)."""
    token, user = service.login(request.app.state.engine, username=body.username, password=body.password,
                                totp_code=body.totp_code, now=now(request), client=client_address(request))
    _set_cookie(response, token)
    return {"user": user.me()}


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, user: CurrentUser = Depends(current_user)) -> Response:
    service.logout(request.app.state.engine, request.cookies.get(SESSION_COOKIE), user=user, now=now(request))
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return out


@router.get("/auth/me")
def me(user: CurrentUser = Depends(current_user)) -> dict:
    return user.me()


@router.post("/auth/totp/setup")
def totp_setup(request: Request, user: CurrentUser = Depends(current_user)) -> dict:
    return service.totp_setup(request.app.state.engine, user=user, now=now(request))


@router.post("/auth/totp/confirm")
def totp_confirm(body: TotpConfirmBody, request: Request, user: CurrentUser = Depends(current_user)) -> dict:
    return service.totp_confirm(request.app.state.engine, user=user, code=body.code, now=now(request))


@router.post("/auth/password")
def change_password(body: PasswordChange, request: Request,
                    user: CurrentUser = Depends(current_user)) -> dict:
    """Change one's own password; the user's other sessions end, this one stays."""
    return service.change_password(request.app.state.engine, user=user,
                                   current_password=body.current_password, new_password=body.new_password,
                                   token=request.cookies.get(SESSION_COOKIE), now=now(request),
                                   client=client_address(request))


@router.get("/users")
def list_users(request: Request, page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=200),
               user: CurrentUser = Depends(require("users.admin"))) -> dict:
    return service.list_users(request.app.state.engine, scope_prefix=user.scope_prefix, page=page,
                              page_size=page_size)


@router.post("/users", status_code=201)
def create_user(body: NewUser, request: Request, user: CurrentUser = Depends(require("users.admin"))) -> dict:
    return service.create_user(request.app.state.engine, username=body.username, password=body.password,
                               role=body.role, region_code=body.region_code, display_name=body.display_name,
                               department=body.department, by=user, now=now(request))


@router.get("/users/{username}")
def get_user(username: str, request: Request, user: CurrentUser = Depends(require("users.admin"))) -> dict:
    return service.get_user(request.app.state.engine, username=username, scope=user)


@router.patch("/users/{username}")
def update_user(username: str, body: UserChange, request: Request,
                user: CurrentUser = Depends(require("users.admin"))) -> dict:
    return service.update_user(request.app.state.engine, username=username, by=user, role=body.role,
                               region_code=body.region_code, active=body.active, password=body.password,
                               display_name=body.display_name, department=body.department,
                               unlock=body.unlock, now=now(request))
