import shutil
import subprocess

import pytest
import yaml

from tests.conftest import ROOT


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_declares_the_production_services() -> None:
    services = load_compose()["services"]
    assert {"web", "worker", "scheduler", "redis", "postgres"} <= set(services)
    for name in ("web", "worker", "scheduler", "redis", "postgres"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    for name in ("web", "worker", "scheduler"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["web"]["command"] == ["flowbot", "serve"]
    assert services["worker"]["command"] == ["flowbot", "worker"]
    assert services["scheduler"]["command"] == ["flowbot", "scheduler"]
    assert services["postgres"]["volumes"] and services["redis"]["volumes"]


def test_dockerfile_installs_the_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile and 'CMD ["flowbot", "serve"]' in dockerfile


def _compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_available(), reason="the docker compose client is not installed")
def test_docker_compose_config_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker", "compose", "config", "-q"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
