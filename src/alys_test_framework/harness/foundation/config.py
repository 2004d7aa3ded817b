"""Category config: invalid values are refused naming the field; TOML and env round trips."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ...config import ConfigError
from ..base import Outcome, harness_test
from .kit import FoundationBase

# (overrides, field that the error message must name)
BAD_CONFIGS: list[tuple[dict[str, Any], str]] = [
    ({"network": {"failure_rate": 1.5}}, "network.failure_rate"),
    ({"network": {"failure_rate": -0.1}}, "network.failure_rate"),
    ({"workers": 0}, "workers"),
    ({"sync": {"checkpoint_interval": 0}}, "sync.checkpoint_interval"),
    ({"sync": {"block_rate": -1}}, "sync.block_rate"),
    ({"performance": {"regression_threshold_pct": 0}}, "performance.regression_threshold_pct"),
    ({"chaos": {"events_per_minute": 0}}, "chaos.events_per_minute"),
    ({"no_such_key": 1}, "no_such_key"),
    ({"actor_system": {"mailbox_capacity": "many"}}, "actor_system.mailbox_capacity"),
]


class ConfigChecks(FoundationBase):
    @harness_test("config")
    async def test_config_validation(self, out: Outcome) -> None:
        rejected = 0
        for overrides, field in BAD_CONFIGS:
            try:
                self.config_cls.from_dict(overrides)
            except ConfigError as exc:
                rejected += 1
                text = str(exc)
                out.expect(
                    field in text, "config error names the field", f"{overrides} -> {text!r}"
                )
                out.expect("\n" not in text, "config error is one line", repr(text))
            else:
                out.fail("invalid config rejected", f"{overrides} was accepted")
        out.record(bad_configs=len(BAD_CONFIGS), rejected=rejected)

    @harness_test("config")
    async def test_config_round_trip(self, out: Outcome) -> None:
        for name in ("default", "development", "ci_cd"):
            cfg = self.config_cls.preset(name)
            with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as fh:
                fh.write(cfg.to_toml())
            try:
                back = self.config_cls.from_toml(fh.name)
            finally:
                os.unlink(fh.name)
            out.expect(
                back == cfg, "TOML round trip is exact", f"preset {name} changed after a round trip"
            )
        env = {"ALYS_TEST_SEED": "4242", "ALYS_TEST_SYNC__TIMEOUT_S": "12.5"}
        cfg = self.config_cls.load(env=env)
        out.expect(
            cfg.seed == 4242 and cfg.sync.timeout_s == 12.5,
            "environment overrides apply",
            f"seed={cfg.seed} sync.timeout_s={cfg.sync.timeout_s}",
        )
        dev, ci = self.config_cls.development(), self.config_cls.ci_cd()
        out.expect(
            not dev.parallel_tests and ci.parallel_tests and ci.chaos_enabled,
            "presets differ as documented",
            "development serial; ci_cd parallel with chaos",
        )
