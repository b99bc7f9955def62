"""deploy/compose.yaml, checked without Docker: its services fit together, and what
it hands the replicas are real, valid settings."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from atlantis_py.settings import OPTIONS, add_arguments, env_name, load

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
_VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def example_env() -> dict[str, str]:
    lines = (DEPLOY / "example.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:?error} and ${NAME:-default}."""
    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if name in env:
            return env[name]
        if op == "-":
            return arg
        raise AssertionError(f"${{{name}}} is neither in example.env nor defaulted")
    return _VARIABLE.sub(one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def replicas(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if "build" in svc}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping"
    return {key: interpolate(str(value), example_env()) for key, value in env.items()}


def test_postgres_two_replicas_and_a_proxy(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "atlantis-a", "atlantis-b", "proxy"}
    assert set(replicas(compose)) == {"atlantis-a", "atlantis-b"}
    for svc in replicas(compose).values():
        context = (DEPLOY / svc["build"]["context"]).resolve()
        assert context == ROOT and (context / svc["build"]["dockerfile"]).is_file()
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert compose["services"]["postgres"]["healthcheck"]["test"]


def test_every_replica_variable_is_a_real_setting_with_a_valid_value(
        compose: dict[str, Any]) -> None:
    known = {env_name(opt.flag) for opt in OPTIONS}
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    for name, svc in replicas(compose).items():
        env = environment(svc)
        assert set(env) <= known, f"{name}: not settings: {sorted(set(env) - known)}"
        settings = load(parser.parse_args([]), env)  # raises ConfigError naming the setting
        assert settings.database_url.startswith("postgresql+psycopg://")
        assert settings.gh_token and settings.gh_webhook_secret


def test_replicas_share_the_database_and_keep_their_own_data(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]["environment"]
    volumes: list[str] = []
    for svc in replicas(compose).values():
        url = urlparse(environment(svc)["ATLANTIS_DATABASE_URL"])
        assert (url.hostname, url.port, url.username, url.path) == (
            "postgres", 5432, postgres["POSTGRES_USER"], "/" + postgres["POSTGRES_DB"])
        assert url.password == interpolate(postgres["POSTGRES_PASSWORD"], example_env())
        [mount] = svc["volumes"]
        volume, target = mount.split(":")[:2]
        assert environment(svc)["ATLANTIS_DATA_DIR"].startswith(target + "/")
        volumes.append(volume)
    assert len(set(volumes)) == len(volumes), "each replica its own data dir"
    assert set(volumes) <= set(compose["volumes"])
    hostnames = [svc["hostname"] for svc in replicas(compose).values()]
    assert len(set(hostnames)) == len(hostnames)


def test_the_proxy_sends_to_every_replica_on_its_port(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    [published] = proxy["ports"]
    assert published.split(":")[1] == "80"
    [mount] = proxy["volumes"]
    conf = (DEPLOY / mount.split(":")[0]).read_text()
    assert "listen 80;" in conf
    upstream = set(re.findall(r"^\s*server\s+([\w.-]+:\d+)", conf, re.MULTILINE))
    expected = {f"{name}:{environment(svc)['ATLANTIS_PORT']}"
                for name, svc in replicas(compose).items()}
    assert upstream == expected
    for svc in replicas(compose).values():
        assert f"127.0.0.1:{environment(svc)['ATLANTIS_PORT']}/healthz" in \
            " ".join(svc["healthcheck"]["test"])
    assert set(proxy["depends_on"]) == set(replicas(compose))
