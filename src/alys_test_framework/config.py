"""TestConfig: one validated object that decides every scale, bound and seed of a run.

Loaded from presets, TOML files and ``ALYS_TEST_*`` environment variables; errors name the field
and the allowed range so that a user can fix the file without reading this code.
"""

from __future__ import annotations

import os
import tomllib
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_PREFIX = "ALYS_TEST_"


class ConfigError(ValueError):
    """A config that cannot be used; the message is one line naming the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


class RestartStrategy(str, Enum):
    EXPONENTIAL_BACKOFF = "exponential_backoff"
    ALWAYS = "always"
    NEVER = "never"


class NetworkConfig(_Section):
    max_peers: int = Field(50, gt=0, description="max peers each node holds")
    latency_ms: float = Field(100.0, ge=0, description="base link latency for latency tests")
    jitter_ms: float = Field(50.0, ge=0)
    failure_rate: float = Field(0.01, ge=0, le=1, description="link loss probability")
    node_count: int = Field(4, gt=0, description="nodes in partition/propagation clusters")
    discovery_nodes: int = Field(10, gt=0, description="nodes in the peer discovery test")
    min_discovered_peers: int = Field(3, gt=0, description="k: peers each node must reach")
    high_latency_ms: float = Field(200.0, gt=0)
    convergence_timeout_s: float = Field(60.0, gt=0)
    node_command: list[str] = Field(
        default_factory=lambda: ["{python}", "-m", "alys_node"],
        description="command template for a node process; {python} is this interpreter",
    )
    node_profile: Literal["reference", "alys"] = Field(
        "reference",
        description="node profile: CLI flags, ready line, RPC and metrics names of the node binary",
    )


class ActorSystemConfig(_Section):
    max_actors: int = Field(1000, gt=0)
    message_timeout_ms: int = Field(5000, gt=0)
    restart_strategy: RestartStrategy = RestartStrategy.EXPONENTIAL_BACKOFF
    max_retries: int = Field(3, ge=0)
    restart_window_s: float = Field(5.0, gt=0, description="restart intensity period")
    backoff_base_ms: float = Field(10.0, gt=0)
    backoff_cap_ms: float = Field(1000.0, gt=0)
    mailbox_capacity: int = Field(1000, gt=0)
    actor_count: int = Field(100, gt=0, description="actors spawned by scale tests")
    message_count: int = Field(10_000, gt=0, description="messages sent by load tests")
    load_balance_tolerance: float = Field(0.10, gt=0, le=1)
    runtime: Literal["alys_actors", "pykka"] = Field(
        "alys_actors", description="actor runtime the ActorCore harness is pointed at"
    )
    ordering_examples: int = Field(
        40, gt=0, description="hypothesis cases per generated message-ordering property"
    )
    supervision_examples: int = Field(
        25, gt=0, description="hypothesis cases (crash schedules) of the supervision property"
    )


class SyncConfig(_Section):
    max_chain_height: int = Field(10_000, gt=0, description="blocks synced by the full-sync test")
    extra_heights: list[int] = Field(default_factory=list, description="additional sync heights")
    checkpoint_interval: int = Field(100, gt=0)
    timeout_s: float = Field(300.0, gt=0)
    block_rate: float = Field(100.0, gt=0, description="blocks per second produced in dev mode")
    parallel_sources: int = Field(3, gt=0)
    stall_s: float = Field(
        15.0, gt=0, description="a wait for progress fails after this long still"
    )
    scenario_height: int = Field(
        2_000, gt=0, description="blocks of the resilience/checkpoint/byzantine/parallel chains"
    )
    template_cache: bool = Field(True, description="keep template chains between runs")
    # the original SyncTestHarness's quality gates (judged by SyncQualityValidator)
    min_blocks_per_s: float = Field(100.0, gt=0, description="full-sync throughput gate")
    checkpoint_intervals: list[int] = Field(
        default_factory=lambda: [10, 250], description="intervals the interval test exercises"
    )
    min_checkpoint_interval: int = Field(10, gt=0, description="smallest interval accepted")
    max_checkpoint_interval: int = Field(250, gt=0, description="largest interval accepted")
    max_parallel_sessions: int = Field(6, gt=0, description="fresh nodes syncing at once")
    min_load_balance: float = Field(
        0.70, gt=0, le=1, description="smallest / largest share of ranges per source"
    )
    min_failure_throughput: float = Field(
        0.60, gt=0, le=1, description="throughput with a lost source / failure-free throughput"
    )
    min_recovery_rate: float = Field(
        0.80, gt=0, le=1, description="share of failure scenarios (and disconnections) recovered"
    )


class PerformanceConfig(_Section):
    regression_threshold_pct: float = Field(15.0, gt=0)
    baseline_file: Path | None = None
    max_test_duration_s: float = Field(300.0, gt=0)
    min_success_rate: float = Field(0.95, gt=0, le=1)
    sample_interval_s: float = Field(0.5, gt=0)


class ChaosConfig(_Section):
    events_per_minute: float = Field(2.0, gt=0, description="event_frequency of the scheduler")
    duration_minutes: float = Field(10.0, gt=0, description="length of the injection phase")
    max_concurrent_events: int = Field(1, gt=0, description="faults active at the same time")
    allowed_types: list[str] = Field(
        default_factory=list, description="ChaosEvent names to schedule; empty = every type"
    )
    nodes: int = Field(3, ge=2, description="nodes of the chaos cluster (node 0 produces)")
    recovery_timeout_s: float = Field(30.0, gt=0, description="bound on recovery per event")


class GovernanceConfig(_Section):
    federation_size: int = Field(5, gt=0)
    threshold: int = Field(3, gt=0)
    max_aggregation_signers: int = Field(100, gt=0)
    property_examples: int = Field(25, gt=0, description="hypothesis examples per property")
    byzantine_examples: int = Field(
        60, gt=0, description="hypothesis cases per generated Byzantine-attack property"
    )


class LighthouseConfig(_Section):
    preset: Literal["mainnet", "minimal"] = "mainnet"
    engine_url: str | None = Field(None, description="external Engine API URL; None = embedded")
    jwt_secret_file: Path | None = None
    genesis_block_hash: str | None = Field(
        None,
        description="external execution chain's genesis block hash; when unset it is read from "
        "the client (eth_getBlockByNumber on the Engine API port), and if set the two must agree",
    )
    blocks: int = Field(100, gt=0, description="blocks produced end to end")
    capella_block: int = Field(30, ge=0, description="fork transition points (block index)")
    deneb_block: int = Field(60, ge=0)


class ReportingConfig(_Section):
    html: bool = Field(True, description="write report.html beside report.json")
    history: bool = Field(True, description="record every reported run in the history database")
    history_db: Path | None = Field(
        None, description="SQLite run history; unset = $XDG_DATA_HOME/alys-test/history.sqlite"
    )
    trend_runs: int = Field(20, gt=0, description="earlier runs drawn in the report's trends")
    coverage_threshold_pct: float = Field(
        80.0, ge=0, le=100, description="line coverage of the targets the coverage gate requires"
    )
    coverage_source: list[str] = Field(
        default_factory=lambda: ["alys_node", "alys_actors"],
        description="packages whose line coverage is measured when coverage_enabled",
    )


class TestConfig(_Section):
    """The whole run's configuration. Construct via a preset, ``from_toml`` or ``load``."""

    __test__ = False

    parallel_tests: bool = False
    chaos_enabled: bool = False
    performance_tracking: bool = True
    coverage_enabled: bool = False
    test_data_dir: Path = Path("test-data")
    workers: int = Field(8, gt=0)
    seed: int = Field(0, ge=0)
    continue_on_failure: bool = False
    fail_fast: bool = Field(
        False, description="stop a harness at its first FAILED test (the rest: skipped)"
    )
    plugins: list[str] = Field(
        default_factory=list,
        description="'module:function' hooks called with the harness registry to add harnesses",
    )
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    actor_system: ActorSystemConfig = Field(default_factory=ActorSystemConfig)
    sync: SyncConfig = Field(default_factory=SyncConfig)
    performance: PerformanceConfig = Field(default_factory=PerformanceConfig)
    chaos: ChaosConfig = Field(default_factory=ChaosConfig)
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)
    lighthouse: LighthouseConfig = Field(default_factory=LighthouseConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)

    # -- presets -------------------------------------------------------------------------
    @classmethod
    def default(cls) -> TestConfig:
        return cls()

    @classmethod
    def development(cls) -> TestConfig:
        """Small, serial and fast: what a developer runs on a laptop between edits."""
        return cls.model_validate(_PRESETS["development"])

    @classmethod
    def ci_cd(cls) -> TestConfig:
        """Parallel, chaos on, larger scales: what CI runs before a merge."""
        return cls.model_validate(_PRESETS["ci_cd"])

    @classmethod
    def preset(cls, name: str) -> TestConfig:
        if name == "default":
            return cls()
        if name not in _PRESETS:
            raise ConfigError(
                f"unknown preset {name!r}; choose one of: default, {', '.join(_PRESETS)}"
            )
        return cls.model_validate(_PRESETS[name])

    # -- files and environment -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TestConfig:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{source}: {describe_validation_error(exc)}") from None

    @classmethod
    def from_toml(cls, path: str | Path) -> TestConfig:
        return cls.from_dict(_read_toml(Path(path)), source=str(path))

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        preset: str | None = None,
        env: dict[str, str] | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> TestConfig:
        """Preset (or defaults), then the TOML file, then ALYS_TEST_* env vars, then overrides."""
        data = cls.preset(preset).to_dict() if preset else {}
        source = "config"
        if path is not None:
            source = str(path)
            _deep_merge(data, _read_toml(Path(path)))
        env_data = env_overrides(os.environ if env is None else env)
        if env_data:
            source = f"{source} (with {ENV_PREFIX}* environment)"
            _deep_merge(data, env_data)
        if overrides:
            _deep_merge(data, overrides)
        return cls.from_dict(data, source=source)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a TOML file") from None
    except PermissionError:
        raise ConfigError(f"{path}: not readable (permission denied)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text") from None


def _deep_merge(into: dict[str, Any], src: dict[str, Any]) -> None:
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def env_overrides(env: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    """``ALYS_TEST_SEED=7`` → {"seed": "7"}; ``ALYS_TEST_SYNC__TIMEOUT_S=9`` → nested.

    Values stay strings (lists/objects may be JSON); pydantic converts and validates them.
    """
    import json

    out: dict[str, Any] = {}
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        parts = key[len(ENV_PREFIX) :].lower().split("__")
        value: Any = raw
        if raw[:1] in "[{":
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def describe_validation_error(exc: ValidationError) -> str:
    """Turn pydantic's multi-line error into one line naming each field and its allowed range."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        ctx = err.get("ctx") or {}
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            parts.append(f"unknown key '{loc}'")
            continue
        bounds = []
        for name, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if name in ctx:
                bounds.append(f"{sym} {ctx[name]}")
        field_range = _range_of(loc)
        if bounds:
            parts.append(
                f"{loc} = {value!r} is out of range: must be {' and '.join(bounds)}{field_range}"
            )
        else:
            parts.append(f"{loc}: {err['msg']} (got {value!r})")
    return "; ".join(parts)


def _range_of(loc: str) -> str:
    """Full allowed range for two-sided fields, e.g. failure_rate in [0, 1]."""
    node: Any = TestConfig
    for part in loc.split("."):
        fields = getattr(node, "model_fields", None)
        if not fields or part not in fields:
            return ""
        info = fields[part]
        node = info.annotation
    lo = hi = None
    for meta in info.metadata:
        lo = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else lo
        lo = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else lo
        hi = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else hi
    if lo is not None and hi is not None:
        return f" (allowed range [{lo}, {hi}])"
    return ""


_PRESETS: dict[str, dict[str, Any]] = {
    "development": {
        "parallel_tests": False,
        "chaos_enabled": False,
        "workers": 2,
        "network": {"node_count": 3, "discovery_nodes": 5, "min_discovered_peers": 2},
        "actor_system": {
            "actor_count": 50,
            "message_count": 2_000,
            "max_actors": 200,
            "ordering_examples": 15,
            "supervision_examples": 10,
        },
        "sync": {"max_chain_height": 1_000, "checkpoint_interval": 50},
        "governance": {
            "federation_size": 4,
            "threshold": 3,
            "property_examples": 10,
            "byzantine_examples": 20,
        },
        "lighthouse": {"blocks": 30, "capella_block": 10, "deneb_block": 20},
        "chaos": {"events_per_minute": 6.0, "duration_minutes": 1.0},
    },
    "ci_cd": {
        "parallel_tests": True,
        "chaos_enabled": True,
        "workers": 8,
        "network": {"node_count": 5, "discovery_nodes": 10, "min_discovered_peers": 3},
        "actor_system": {
            "actor_count": 1_000,
            "message_count": 100_000,
            "max_actors": 2_000,
            "ordering_examples": 1_000,
            "supervision_examples": 200,
        },
        "sync": {"max_chain_height": 10_000, "extra_heights": [15_000], "checkpoint_interval": 100},
        "governance": {
            "federation_size": 7,
            "threshold": 5,
            "property_examples": 50,
            "byzantine_examples": 750,
        },
        "lighthouse": {"blocks": 100},
        "chaos": {"events_per_minute": 2.0, "duration_minutes": 10.0, "max_concurrent_events": 2},
    },
}
