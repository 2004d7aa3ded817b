"""docs/deploy/docker-compose.yml cannot run here (no images): check it is consistent instead."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from alys_test_framework.config import TestConfig
from alys_test_framework.coordinator.jobs import JobStore
from alys_test_framework.coordinator.metrics import metrics_text
from alys_test_framework.reporting.history import HistoryStore

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def flag(service: dict, name: str) -> str:
    """The value of ``--name=value`` in a service's command list."""
    for arg in service["command"]:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"--{name} not in {service['command']}")


def container_ports(service: dict) -> set[int]:
    return {int(p.rsplit(":", 1)[1].split("/")[0]) for p in service.get("ports", [])}


def test_services_and_dependencies(compose):
    services = compose["services"]
    assert {"bitcoin-core", "reth", "alys", "prometheus", "grafana"} <= set(services)
    for name, svc in services.items():
        deps = svc.get("depends_on", [])
        for dep in deps if isinstance(deps, list) else deps.keys():
            assert dep in services, f"{name} depends on undefined {dep}"
        for vol in svc.get("volumes", []):
            source = vol["source"] if isinstance(vol, dict) else vol.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"


def test_host_ports_are_loopback_and_unique(compose):
    seen: dict[str, str] = {}
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            host, hport, _ = port.split(":")
            assert host == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            assert hport not in seen, f"{name} and {seen.get(hport)} both publish {hport}"
            seen[hport] = name


def test_engine_api_and_jwt_agree(compose):
    reth, alys = compose["services"]["reth"], compose["services"]["alys"]
    secret = flag(reth, "authrpc.jwtsecret")
    assert flag(alys, "jwt-secret") == secret, "reth and alys must share one JWT secret"
    jwt_dir = str(Path(secret).parent)
    for svc in (reth, alys):
        targets = [v["target"] for v in svc["volumes"] if isinstance(v, dict)]
        assert jwt_dir in targets, "the JWT volume is mounted where the flag points"
    assert secret in " ".join(compose["services"]["jwt-init"]["command"])
    engine = urlparse(flag(alys, "geth-url"))
    assert engine.hostname == "reth" and engine.port == int(flag(reth, "authrpc.port"))
    assert engine.port in container_ports(reth)
    cfg = TestConfig.from_toml(DEPLOY / "alys-test.toml")
    assert cfg.lighthouse.engine_url is not None
    assert urlparse(cfg.lighthouse.engine_url).port == engine.port  # published 1:1 on loopback
    assert cfg.network.node_profile == "alys"
    btc = urlparse(flag(alys, "bitcoin-rpc-url"))
    assert btc.hostname == "bitcoin-core"
    assert f"-rpcport={btc.port}" in compose["services"]["bitcoin-core"]["command"]
    assert (
        f"-rpcuser={flag(alys, 'bitcoin-rpc-user')}"
        in (compose["services"]["bitcoin-core"]["command"])
    )


def test_prometheus_scrapes_what_is_exposed(compose):
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    services = compose["services"]
    reth_metrics = int(flag(services["reth"], "metrics").rsplit(":", 1)[1])
    for job in prom["scrape_configs"]:
        for target in job["static_configs"][0]["targets"]:
            host, port = target.rsplit(":", 1)
            if host == "host.docker.internal":
                assert "host.docker.internal:host-gateway" in services["prometheus"]["extra_hosts"]
                continue
            assert host in services, f"scrape target {target} is not a service"
            exposed = container_ports(services[host])
            if host == "reth":
                exposed.add(reth_metrics)
            assert int(port) in exposed, f"{target}: {host} does not expose {port}"


def test_grafana_dashboard_queries_real_metric_names(tmp_path):
    prov = DEPLOY / "grafana" / "provisioning"
    ds = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    dash = json.loads((DEPLOY / "grafana" / "dashboards" / "alys-test.json").read_text())
    providers = yaml.safe_load((prov / "dashboards" / "dashboards.yml").read_text())["providers"]
    assert providers[0]["options"]["path"] == "/var/lib/grafana/dashboards"
    with HistoryStore(tmp_path / "h.sqlite") as store:
        exported = set(
            re.findall(
                r"^(\w+?)(?:_bucket|_sum|_count)?[ {]", metrics_text(JobStore(store)).decode(), re.M
            )
        )
    exported.add("chain_block_height")  # the node metric the `alys` profile reads
    for panel in dash["panels"]:
        assert panel["datasource"]["uid"] == ds["uid"]
        for target in panel["targets"]:
            names = set(re.findall(r"[a-z_]+(?=_bucket|\b)", target["expr"])) - {
                "histogram_quantile",
                "sum",
                "rate",
                "by",
                "le",
                "h",
            }
            metric_names = {n.removesuffix("_bucket") for n in names if "_" in n}
            assert metric_names and metric_names <= exported, (panel["title"], metric_names)
