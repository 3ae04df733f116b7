"""deploy/ files are well-formed and the smallcode commands in them are ones the CLI accepts."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import yaml
from smallcode.cli.main import build_parser
from smallcode.gateway import GatewayConfig

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _smallcode_commands(text: str) -> list[list[str]]:
    """Every `smallcode <command> ...` invocation in ``text`` (folded lines joined)."""
    text = re.sub(r"\s*\n\s*", " ", text)
    found = []
    for match in re.finditer(r"(?<![\w/-])smallcode ((?:serve|status|stop|token|run)\b[^;&|>'\n]*)", text):
        found.append(shlex.split(match.group(1)))
    return found


def _accepts(argv: list[str]) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse rejects by exiting
        raise AssertionError(f"the CLI rejects: smallcode {' '.join(argv)}") from exc


def test_example_gateway_config_loads():
    config = GatewayConfig.from_file(DEPLOY / "gateway.example.toml")
    assert [b.name for b in config.backends] == ["gpu-box-1", "gpu-box-2"]
    assert config.host == "0.0.0.0" and config.tokens_file


def test_ray_cluster_launcher_config_has_head_workers_and_starts_serve():
    data = yaml.safe_load((DEPLOY / "ray" / "cluster.yaml").read_text())
    assert data["provider"]["type"] == "local"
    assert data["provider"]["head_ip"] and len(data["provider"]["worker_ips"]) == data["min_workers"]
    head = " ".join(data["head_start_ray_commands"])
    assert "ray start --head" in head and "smallcode_gateway" in head
    assert any("--address=$RAY_HEAD_IP:6379" in c for c in data["worker_start_ray_commands"])
    commands = _smallcode_commands(head)
    assert commands and commands[0][0] == "serve"
    for argv in commands:
        _accepts(argv)


def test_kuberay_manifests_define_cluster_service_and_config(tmp_path):
    docs = list(yaml.safe_load_all((DEPLOY / "kuberay" / "raycluster.yaml").read_text()))
    by_kind = {d["kind"]: d for d in docs}
    assert set(by_kind) == {"ConfigMap", "RayCluster", "Service"}
    cluster = by_kind["RayCluster"]
    assert cluster["apiVersion"] == "ray.io/v1"
    head = cluster["spec"]["headGroupSpec"]
    containers = {c["name"]: c for c in head["template"]["spec"]["containers"]}
    serve = containers["smallcode-serve"]
    assert serve["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8765}
    for argv in _smallcode_commands(" ".join(serve["args"])):
        _accepts(argv)
    assert "smallcode_gateway" in head["rayStartParams"]["resources"]
    assert cluster["spec"]["workerGroupSpecs"][0]["replicas"] >= 1
    assert by_kind["Service"]["spec"]["selector"]["ray.io/node-type"] == "head"
    config_text = by_kind["ConfigMap"]["data"]["gateway.toml"]
    (tmp_path / "gateway.toml").write_text(config_text)
    assert GatewayConfig.from_file(tmp_path / "gateway.toml").backends[0].slots == 4


@pytest.mark.parametrize("unit", sorted(p.name for p in (DEPLOY / "systemd").glob("*.service")))
def test_systemd_units_are_complete(unit):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keep key case
    parser.read(DEPLOY / "systemd" / unit)
    assert {"Unit", "Service", "Install"} <= set(parser.sections())
    exec_start = parser["Service"]["ExecStart"]
    assert parser["Service"].get("Restart") == "on-failure"
    for argv in _smallcode_commands(exec_start):
        _accepts(argv)


def test_readme_commands_are_accepted_by_the_cli():
    readme = (DEPLOY / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL)
    lines = [line.split(" #")[0] for block in blocks for line in block.splitlines()]
    commands = [c for line in lines for c in _smallcode_commands(line)]
    assert len(commands) >= 8
    for argv in commands:
        _accepts(argv)
