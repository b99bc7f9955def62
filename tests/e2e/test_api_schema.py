"""Schemathesis against the real server: every generated request (valid and
invalid, all phases) gets a non-5xx answer that matches /api/v1/openapi.json.

Schemathesis runs as its own process, as a user would run it, with a bounded
number of examples; the token is in its config file, not on its command line.
Its HAR report is the record of what it sent and what came back.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from tests.e2e.conftest import running_world
from tests.e2e.test_flow import base_files, tf_extra
from tests.fakeforge.github import FakeGitHub

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
OPERATIONS = {("GET", "/api/v1/ipr"), ("POST", "/api/v1/ipr"), ("GET", "/api/v1/ipr/{id}"),
              ("POST", "/api/v1/ipr/{id}/review"), ("POST", "/api/v1/ipr/{id}/deploy"),
              ("POST", "/api/v1/ipr/{id}/cancel"), ("GET", "/api/v1/ipr/{id}/events"),
              ("GET", "/api/v1/drift"), ("POST", "/api/v1/drift/run"),
              ("GET", "/api/v1/ipr/{id}/comments"), ("POST", "/api/v1/ipr/{id}/comments")}


def test_schemathesis_finds_no_5xx_and_no_schema_mismatch(tmp_path: Path) -> None:
    with running_world(tmp_path, "github", repo_allowlist=("acme/*",)) as world:
        github = world.fake
        assert isinstance(github, FakeGitHub), "push_branch is FakeGitHub's"
        repo = github.create_repo("acme/infra", base_files(world, "network"))
        # the branch the CreateIPR example names, so the examples phase opens a real IPR
        github.push_branch(repo, "feature/api", {"network/extra.tf": tf_extra("api")})
        world.open_pr(repo, {"network/extra.tf": tf_extra("x")}, branch="topic")
        token = world.token("root", "admin")
        config = tmp_path / "schemathesis.toml"
        config.write_text(f'headers = {{ Authorization = "Bearer {token}" }}\n')
        har = tmp_path / "run.har"
        proc = subprocess.run(
            [str(SCHEMATHESIS), "--no-color", "--config-file", str(config), "run",
             f"{world.url}/api/v1/openapi.json", "--checks", "all",
             "--exclude-checks", "positive_data_acceptance,use_after_free",
             "--max-examples", "15", "--seed", "1", "--workers", "1",
             "--phases", "examples,coverage,fuzzing", "--request-timeout", "30",
             "--report", "har", "--report-har-path", str(har), "--warnings", "off"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)
        world.settle()
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = Counter(e["response"]["status"] for e in entries)
    assert sum(statuses.values()) > 300, statuses
    assert not [s for s in statuses if s >= 500], statuses
    assert {200, 201, 400, 401, 404, 409, 422} <= statuses.keys(), statuses
    assert OPERATIONS <= {operation(e["request"]) for e in entries}
    assert token not in proc.stdout


def operation(request: dict[str, str]) -> tuple[str, str]:
    """(method, path template) of a recorded request."""
    path = urlsplit(request["url"]).path
    return request["method"], re.sub(r"^/api/v1/ipr/[^/]+", "/api/v1/ipr/{id}", path)
