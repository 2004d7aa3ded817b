"""authentication: the endpoint's JWT checks (authentication.md), probed with crafted tokens."""

from __future__ import annotations

import time

from ...oracles.engine import spec
from ...oracles.engine.jwt_tokens import make_token, unsigned_token
from ..base import Outcome, harness_test
from .kit import LighthouseBase, expect


class Authentication(LighthouseBase):
    @harness_test("authentication")
    async def test_jwt_authentication(self, out: Outcome) -> None:
        """Missing, expired, future, wrong-key and unsigned tokens get 401; fresh ones 200."""
        body = {"jsonrpc": "2.0", "id": 1, "method": "engine_exchangeCapabilities", "params": [[]]}
        async with self.target.session(self.compact) as s:
            now = time.time()
            other = bytes(b ^ 0xFF for b in s.secret)
            window = spec.IAT_WINDOW_S
            cases: list[tuple[str, str | None, int]] = [
                ("fresh JWT accepted", make_token(s.secret), 200),
                ("JWT 30 s old accepted", make_token(s.secret, iat=now - window / 2), 200),
                ("missing JWT refused", None, 401),
                (
                    "expired JWT refused (iat -120 s)",
                    make_token(s.secret, iat=now - 2 * window),
                    401,
                ),
                (
                    "future JWT refused (iat +120 s)",
                    make_token(s.secret, iat=now + 2 * window),
                    401,
                ),
                # just past the +-60 s bound, so a window widened to minutes is caught
                (
                    "stale JWT refused (iat -70 s)",
                    make_token(s.secret, iat=now - window - 10),
                    401,
                ),
                (
                    "early JWT refused (iat +90 s)",
                    make_token(s.secret, iat=now + window + 30),
                    401,
                ),
                ("wrong-key JWT refused", make_token(other), 401),
                ("unsigned JWT refused", unsigned_token(now), 401),
                ("garbage token refused", "not.a.jwt", 401),
            ]
            codes = {}
            for label, token, want in cases:
                status, _ = await s.client.post(body, token=token)
                codes[label] = status
                expect(
                    out, spec.COMMON_AUTH, status == want, label, f"HTTP {status}, expected {want}"
                )
            out.record(http_status=codes)
