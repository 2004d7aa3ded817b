"""What a client may ask the coordinator to run, validated before anything is queued.

Rules:
- a request names phases, a preset, a seed and config overrides; everything else is refused
  with a message naming the field (the service answers 400, never 500);
- overrides that would let a client run code or touch server paths (plugins, the node
  command, file paths, where reports and history go) are refused: the server's own config file
  decides those;
- the effective configuration is built and validated here, exactly as `alys-test run` would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import ConfigError, TestConfig
from ..phases import MigrationPhase

PRESETS = ("default", "development", "ci_cd")
ALLOWED_KEYS = {"phases", "preset", "seed", "config"}
# dotted paths (a section name refuses the whole section)
REFUSED_OVERRIDES = (
    "plugins",
    "network.node_command",
    "reporting",
    "test_data_dir",
    "performance.baseline_file",
    "lighthouse.jwt_secret_file",
)


class RequestError(ValueError):
    """A bad request: the message names the field and what is allowed."""


@dataclass(frozen=True)
class RunRequest:
    phases: tuple[MigrationPhase, ...]
    preset: str
    seed: int | None
    overrides: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "phases": [p.value for p in self.phases],
            "preset": self.preset,
            "seed": self.seed,
            "config": self.overrides,
        }


def _refused(overrides: dict[str, Any], prefix: str = "") -> list[str]:
    found = []
    for key, value in overrides.items():
        path = f"{prefix}{key}"
        if path in REFUSED_OVERRIDES:
            found.append(path)
        elif isinstance(value, dict):
            found.extend(_refused(value, f"{path}."))
    return found


def parse_request(body: Any) -> RunRequest:
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object")
    unknown = sorted(set(body) - ALLOWED_KEYS)
    if unknown:
        raise RequestError(
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(ALLOWED_KEYS))}"
        )
    raw_phases = body.get("phases", [])
    if not isinstance(raw_phases, list) or not all(isinstance(p, str) for p in raw_phases):
        raise RequestError("phases must be a list of phase names")
    try:
        phases = tuple(MigrationPhase.parse(p) for p in raw_phases)
    except ValueError as exc:
        raise RequestError(f"phases: {exc}") from None
    preset = body.get("preset", "default")
    if preset not in PRESETS:
        raise RequestError(f"preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise RequestError("seed must be a non-negative integer")
    overrides = body.get("config", {})
    if not isinstance(overrides, dict):
        raise RequestError("config must be an object of configuration overrides")
    refused = _refused(overrides)
    if refused:
        raise RequestError(
            f"config: {', '.join(refused)} cannot be set through the API (set it in the "
            "server's --config file)"
        )
    return RunRequest(phases, preset, seed, overrides)


def effective_config(request: RunRequest, base_file: Path | None, history_db: Path) -> TestConfig:
    """The run's whole configuration: the server's file, the preset, then the overrides."""
    overrides = dict(request.overrides)
    if request.seed is not None:
        overrides["seed"] = request.seed
    try:
        cfg = TestConfig.load(path=base_file, preset=request.preset, overrides=overrides, env={})
    except ConfigError as exc:
        raise RequestError(str(exc)) from None
    reporting = cfg.reporting.model_copy(update={"history_db": history_db})
    return cfg.model_copy(update={"reporting": reporting})
