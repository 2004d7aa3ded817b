import pytest

from alys_test_framework.config import ConfigError, RestartStrategy, TestConfig


def test_defaults_follow_the_original_framework():
    c = TestConfig()
    assert c.workers == 8
    assert (c.network.max_peers, c.network.latency_ms, c.network.failure_rate) == (50, 100.0, 0.01)
    assert c.actor_system.max_actors == 1000 and c.actor_system.message_timeout_ms == 5000
    assert c.actor_system.restart_strategy is RestartStrategy.EXPONENTIAL_BACKOFF
    assert c.actor_system.max_retries == 3
    assert (c.sync.max_chain_height, c.sync.checkpoint_interval, c.sync.timeout_s) == (
        10_000,
        100,
        300.0,
    )
    assert c.performance.regression_threshold_pct == 15.0
    assert (c.chaos.events_per_minute, c.chaos.duration_minutes) == (2.0, 10.0)


def test_presets_differ_as_documented():
    dev, ci = TestConfig.development(), TestConfig.ci_cd()
    assert not dev.parallel_tests and not dev.chaos_enabled
    assert ci.parallel_tests and ci.chaos_enabled
    assert ci.actor_system.actor_count >= 1000 and ci.actor_system.message_count >= 100_000
    assert dev.sync.max_chain_height < ci.sync.max_chain_height


@pytest.mark.parametrize("preset", ["default", "development", "ci_cd"])
def test_toml_round_trip_is_exact(tmp_path, preset):
    cfg = TestConfig.preset(preset).model_copy(update={"seed": 99})
    path = tmp_path / "c.toml"
    path.write_text(cfg.to_toml())
    again = TestConfig.from_toml(path)
    assert again == cfg
    assert again.to_toml() == cfg.to_toml()


def test_environment_overrides_top_level_and_sections(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("seed = 1\n[sync]\ntimeout_s = 5.0\n")
    env = {
        "ALYS_TEST_SEED": "7",
        "ALYS_TEST_SYNC__TIMEOUT_S": "9.5",
        "ALYS_TEST_NETWORK__NODE_COMMAND": '["x", "y"]',
    }
    cfg = TestConfig.load(path, env=env)
    assert cfg.seed == 7 and cfg.sync.timeout_s == 9.5 and cfg.network.node_command == ["x", "y"]


def test_unknown_environment_key_is_rejected():
    with pytest.raises(ConfigError, match="unknown key 'sync.bogus'"):
        TestConfig.load(env={"ALYS_TEST_SYNC__BOGUS": "1"})


@pytest.mark.parametrize(
    "data, needle",
    [
        (
            {"network": {"failure_rate": 1.01}},
            "network.failure_rate = 1.01 is out of range: must be <= 1.0 (allowed range [0, 1])",
        ),
        ({"network": {"failure_rate": -0.5}}, "network.failure_rate"),
        ({"workers": 0}, "workers = 0 is out of range: must be > 0"),
        ({"workers": -3}, "workers"),
        ({"sync": {"block_rate": 0}}, "sync.block_rate"),
        ({"sync": {"checkpoint_interval": 0}}, "sync.checkpoint_interval"),
        ({"performance": {"regression_threshold_pct": -1}}, "performance.regression_threshold_pct"),
        ({"extra": True}, "unknown key 'extra'"),
        ({"network": {"nope": 1}}, "unknown key 'network.nope'"),
        ({"seed": "abc"}, "seed: Input should be a valid integer"),
        ({"lighthouse": {"preset": "huge"}}, "lighthouse.preset"),
    ],
)
def test_validation_names_the_field_in_one_line(data, needle):
    with pytest.raises(ConfigError) as info:
        TestConfig.from_dict(data)
    text = str(info.value)
    assert needle in text
    assert "\n" not in text


def test_bad_files_give_one_line(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        TestConfig.from_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        TestConfig.from_toml(bad)
    with pytest.raises(ConfigError, match="unknown preset"):
        TestConfig.preset("turbo")
