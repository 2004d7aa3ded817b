"""Engine API JWT authentication as execution clients enforce it.

HS256 with a 32-byte secret shared through a hex file; the token's ``iat`` must lie within
+-60 s of the verifier's clock (that window, not ``exp``, is what bounds replay in the spec).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

import jwt

IAT_WINDOW_S = 60
_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


class JwtSecretError(ValueError):
    """Unusable secret file; one line naming the file and the problem."""


class JwtAuthError(Exception):
    """A request that must be answered 401; the message says why."""


def parse_secret(text: str, source: str = "secret") -> bytes:
    value = text.strip()
    if not _HEX64.match(value):
        raise JwtSecretError(f"{source}: JWT secret must be 32 bytes of hex (64 hex digits)")
    return bytes.fromhex(value.removeprefix("0x"))


def load_secret(path: str | Path) -> bytes:
    try:
        return parse_secret(Path(path).read_text(), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise JwtSecretError(f"{path}: cannot read JWT secret ({exc.__class__.__name__})") from None


def write_secret(path: str | Path, secret: bytes | None = None) -> bytes:
    """Create a secret file (0600) the way clients do with --jwt-secret; returns the secret."""
    secret = secret if secret is not None else secrets.token_bytes(32)
    if len(secret) != 32:
        raise JwtSecretError("JWT secret must be 32 bytes")
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("0x" + secret.hex())
    return secret


def make_token(secret: bytes, iat: float | None = None, **claims: object) -> str:
    payload = {"iat": int(time.time() if iat is None else iat), **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def verify_token(secret: bytes, token: str, now: float | None = None) -> dict:
    """Return the claims or raise JwtAuthError (bad signature, algorithm, or stale iat)."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "HS256":
            raise JwtAuthError(f"algorithm {header.get('alg')!r} not allowed")
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_iat": False, "require": ["iat"]},
        )
    except jwt.PyJWTError as exc:
        raise JwtAuthError(f"invalid token: {exc}") from None
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise JwtAuthError("iat claim must be a number")
    now = time.time() if now is None else now
    if abs(now - iat) > IAT_WINDOW_S:
        raise JwtAuthError(f"iat {int(iat)} is {int(now - iat)} s from now (allowed +-60 s)")
    return claims


def bearer_token(header: str | None) -> str:
    if not header:
        raise JwtAuthError("missing Authorization header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise JwtAuthError("Authorization must be 'Bearer <jwt>'")
    return token.strip()
