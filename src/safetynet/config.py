"""All settings in one place (environment variables prefixed SAFETYNET_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFETYNET_", env_file=".env", extra="ignore")

    # Local folder holding the embedded database, the lake and generated demo data.
    data_dir: Path = Path("data")
    # SQLAlchemy URL; empty means the embedded SQLite file under data_dir.
    database_url: str = ""
    # Province whose administrative tree the demo and synthetic data use (Shandong).
    demo_province: str = "37"
    host: str = "127.0.0.1"
    port: int = 8000
    # Requests a server process works on at once (its threads for blocking work; the others
    # wait their turn on the event loop). Each is Python holding the GIL or a PostgreSQL backend
    # wanting a core: on 2 cores, 6 gave p95 detail 64–79 ms and search 70–83 ms where anyio's
    # default 40 gave 76–90 and 88–103 ms (1M persons, 20 clients, docs/benchmarks.md). A request
    # that runs long (an export, a dispatch) holds one of them.
    server_threads: int = Field(6, ge=1, le=200)
    # Origins besides the server's own from which pages may send requests that change data
    # (api/guard.py), comma-separated, e.g. "https://dibao.example.gov.cn" behind a proxy that
    # rewrites the Host header. Empty: only the server's own origin.
    allowed_origins: str = ""
    # Sign-in (auth/throttle.py): wrong passwords or codes from one client address before that
    # address is locked out of the account, and for how long (the owner elsewhere signs in still).
    login_lockout_attempts: int = Field(5, ge=1, le=100)
    login_lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    # Failed sign-ins on one account from all addresses together (a distributed guess) within the
    # window after which the whole account locks for login_lockout_minutes (audited).
    login_account_failure_ceiling: int = Field(50, ge=2, le=10_000)
    login_account_failure_window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    # Failed sign-ins one client address may make across all accounts per window before the
    # answer is 429 `too_many_requests` (a successful sign-in does not use up the allowance, so a
    # whole office behind one address is not throttled by its own staff).
    login_rate_limit_attempts: int = Field(20, ge=1, le=100_000)
    login_rate_limit_window_seconds: int = Field(600, ge=1, le=24 * 3600)
    # Take the client address from the last X-Forwarded-For entry (set only behind a reverse proxy
    # that appends it; otherwise anyone could choose their own address and escape the limits).
    trust_forwarded_for: bool = False
    # A session unused this long is signed out; no session lives longer than the maximum.
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    # Argon2id cost of password hashes (argon2-cffi defaults; lower only for tests).
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    # Send the session cookie only over HTTPS (the `Secure` flag). On by default: production runs
    # behind TLS. `safetynet demo` (plain http on 127.0.0.1) turns it off unless set explicitly;
    # set SAFETYNET_SESSION_COOKIE_SECURE=false only for plain http on a trusted network.
    session_cookie_secure: bool = True
    # Key that encrypts secrets at rest (TOTP): 32 random bytes, URL-safe base64; empty → data_dir/secret.key.
    secret_key: SecretStr = SecretStr("")

    @property
    def embedded_database(self) -> Path:
        return self.data_dir / "safetynet.sqlite3"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.embedded_database.resolve()}"

    def database_exists(self) -> bool:
        """False only for an embedded database not created yet (nothing to read from)."""
        return bool(self.database_url) or self.embedded_database.exists()


@lru_cache
def get_settings() -> Settings:
    return Settings()
