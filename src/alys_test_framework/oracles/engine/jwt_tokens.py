"""Engine API JWTs as authentication.md defines them, for probing an endpoint's checks.

Rules: HS256 over the shared 32-byte secret; the ``iat`` claim is required and the execution
layer must refuse a token whose ``iat`` is more than 60 s from its clock; ``alg: none`` and any
other key must be refused.
"""

from __future__ import annotations

import time

import jwt


def make_token(secret: bytes, iat: float | None = None, **claims: object) -> str:
    """A token signed with ``secret``, issued at ``iat`` (now by default)."""
    payload = {"iat": int(time.time() if iat is None else iat), **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def unsigned_token(iat: float | None = None) -> str:
    """An ``alg: none`` token: a correct endpoint refuses it."""
    return jwt.encode({"iat": int(time.time() if iat is None else iat)}, None, algorithm="none")
