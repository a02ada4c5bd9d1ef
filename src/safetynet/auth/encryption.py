"""Secrets at rest (the TOTP seeds of administrators): AES-256-GCM with the server's key.

The key is 32 random bytes, written as URL-safe base64. It comes from the setting
SAFETYNET_SECRET_KEY or, when that is empty, from `<data_dir>/secret.key`, which is created
(mode 0600) the first time a secret is stored. The database alone therefore gives no usable
seed: a stolen dump needs the key too.

Stored form: `v1:` + base64url(12-byte nonce ‖ ciphertext ‖ 16-byte tag). The associated data
names the column and the row (`users.totp_secret:<username>`), so a ciphertext copied to
another user's row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from safetynet.config import Settings, get_settings
from safetynet.errors import ConfigurationError

PREFIX = "v1:"
KEY_FILE_NAME = "secret.key"
_KEY_BYTES = 32
_NONCE_BYTES = 12
_HOW_TO_MAKE_A_KEY = ("python -c \"import base64,secrets; "
                      "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())\"")


class SecretKeyError(ConfigurationError):
    """The server's secret key is missing, malformed, unsafe or not the one a value was
    encrypted with. The message names where the key came from and how to fix it."""


@dataclass(frozen=True)
class SecretKey:
    key: bytes
    source: str  # "SAFETYNET_SECRET_KEY" or the key file's path, for error messages


def generate_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).decode()


def _parse(text: str, source: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != _KEY_BYTES:
        raise SecretKeyError(f"the secret key in {source} is not 32 bytes of URL-safe base64 "
                             f"(44 characters); make one with: {_HOW_TO_MAKE_A_KEY}")
    return key


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def _read_key_file(path: Path) -> SecretKey:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # like ssh with a private key: a key others can read protects nothing
        raise SecretKeyError(f"the secret key file {path} can be read by other users (mode {mode:04o}); "
                             f"run: chmod 600 {path}")
    return SecretKey(_parse(path.read_text(), str(path)), str(path))


def _create_key_file(path: Path) -> None:
    from safetynet.files import private_dir

    private_dir(path.parent)  # it may create the data folder itself: 0700
    try:
        # O_EXCL: two processes starting at once never overwrite each other's key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as f:
        f.write(generate_key_text() + "\n")


def load_key(settings: Settings | None = None, *, create: bool = False) -> SecretKey:
    """The configured key. With `create`, a missing key file is generated (only when a value
    is about to be encrypted: decrypting with a fresh key could only fail)."""
    settings = settings or get_settings()
    configured = settings.secret_key.get_secret_value()
    if configured:
        return SecretKey(_parse(configured, "SAFETYNET_SECRET_KEY"), "SAFETYNET_SECRET_KEY")
    path = key_file(settings)
    if not path.exists():
        if not create:
            raise SecretKeyError(f"no secret key: SAFETYNET_SECRET_KEY is empty and {path} does not exist, "
                                 "so values encrypted earlier cannot be read; restore the key file (or set "
                                 "SAFETYNET_SECRET_KEY) that the server used before")
        _create_key_file(path)
    return _read_key_file(path)


def is_encrypted(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(PREFIX)


def encrypt(plain: str, *, context: str, key: SecretKey | None = None) -> str:
    """`plain` encrypted for storage; `context` names the column and row it is stored in."""
    key = key or load_key(create=True)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(key.key).encrypt(nonce, plain.encode(), context.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(stored: str, *, context: str, key: SecretKey | None = None) -> str:
    """The plain value of `encrypt`'s output; SecretKeyError when the key does not fit."""
    if not is_encrypted(stored):
        raise SecretKeyError(f"{context} is not encrypted (no {PREFIX!r} prefix): run `safetynet "
                             "db-upgrade` (migration 0010 encrypts the secrets stored before)")
    key = key or load_key()
    try:
        raw = base64.urlsafe_b64decode(stored[len(PREFIX):].encode())
        return AESGCM(key.key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError):
        raise SecretKeyError(
            f"{context} cannot be decrypted with the secret key from {key.source}: it is not the key the "
            "value was encrypted with (was the key changed or the key file lost?); restore the previous key, "
            "or turn the user's two-factor sign-in off with `safetynet users reset-totp USERNAME` for them "
            "to set it up again") from None


def totp_context(username: str) -> str:
    return f"users.totp_secret:{username}"
