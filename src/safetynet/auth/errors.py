"""The API error of the shared web contract: an HTTP status, a stable code, English and
Chinese messages and the input field at fault. `api/app.py` renders it as
`{"code", "message", "message_zh", "field"}`."""

from __future__ import annotations

from safetynet.errors import SafetynetError


class ApiError(SafetynetError):
    def __init__(self, status: int, code: str, message: str, message_zh: str,
                 field: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.message_zh = message_zh
        self.field = field
        self.headers = headers

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "message_zh": self.message_zh,
                "field": self.field}


def not_signed_in() -> ApiError:
    return ApiError(401, "not_signed_in", "sign in first (POST /api/v1/auth/login)", "请先登录")


def invalid_credentials(lockout_attempts: int, lockout_minutes: int) -> ApiError:
    # The one answer to a wrong password, a wrong code, an unknown or inactive user and a locked
    # account alike (auth/throttle.py), so a prober learns nothing; it names the lockout rule so
    # a user who is locked out knows to wait.
    return ApiError(401, "invalid_credentials",
                    f"wrong username or password (after {lockout_attempts} failed attempts, sign-in "
                    f"from this address is locked for {lockout_minutes} minutes)",
                    f"用户名或密码错误（连续失败 {lockout_attempts} 次后，"
                    f"本机登录将被锁定 {lockout_minutes} 分钟）")


def too_many_requests(retry_after_seconds: int) -> ApiError:
    return ApiError(429, "too_many_requests",
                    f"too many failed sign-ins from your address; try again in {retry_after_seconds} seconds",
                    f"您所在地址登录失败次数过多，请 {retry_after_seconds} 秒后再试",
                    headers={"Retry-After": str(retry_after_seconds)})


def totp_enrolment_required() -> ApiError:
    return ApiError(403, "totp_enrolment_required",
                    "administrators must set up two-factor sign-in first: POST /api/v1/auth/totp/setup, "
                    "then confirm a code with POST /api/v1/auth/totp/confirm",
                    "管理员须先绑定动态口令（身份验证器）才能使用系统")


def totp_required() -> ApiError:
    return ApiError(401, "totp_required", "this account needs the 6-digit code from its authenticator app "
                    "(field totp_code)", "该账户已启用动态口令，请输入验证器中的 6 位数字", field="totp_code")


def account_locked(minutes_left: int) -> ApiError:
    # Only to a signed-in user (the password change): they know the account exists.
    return ApiError(423, "account_locked",
                    f"too many failed attempts; the account is locked for {minutes_left} more minute(s)",
                    f"失败次数过多，账户已锁定，请 {minutes_left} 分钟后再试")


def forbidden(capability: str) -> ApiError:
    return ApiError(403, "forbidden", f"your role does not have the capability {capability!r}",
                    f"您的角色没有此权限（{capability}）")


def out_of_region() -> ApiError:
    # Exactly the body of a missing object (code included), so an object outside the user's
    # region does not reveal that it exists.
    return ApiError(404, "not_found", "not found", "未找到")


def invalid(field: str | None, message: str, message_zh: str) -> ApiError:
    return ApiError(400, "invalid", message, message_zh, field=field)


def secret_key_unusable() -> ApiError:
    # The details (which key, which file) go to the server log, not to the browser.
    return ApiError(500, "secret_key_unusable",
                    "the server cannot read two-factor secrets: its secret key is missing or is not the "
                    "one they were encrypted with; ask the system operator (details in the server log)",
                    "服务器密钥配置有误，无法校验动态口令，请联系系统运维人员（详见服务器日志）")
