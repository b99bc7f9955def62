"""Secrets end to end, on the real `atlantis-py server` process (worker children
included) with real terraform: each environment's credentials reach only its own
projects, and no credential shows in a comment, a status, the server's log, the
database, an API answer, the web page or a job's log. Worker children never carry a token on
their command line."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.console_client import ConsoleClient
from tests.e2e.server_process import ServerProcess, free_port
from tests.fakeforge.github import FakeGitHub
from tests.fakeforge.gitlab import FakeGitLab
from tests.fakeforge.neutral import NeutralForge

WEBHOOK_SECRET = "secrets-e2e-webhook-secret"
DEV_SECRET = "dev-secret-literal-4f1a"
PROD_SECRET = "prod-secret-from-file-9c2e"
PROD_SECRET_ROTATED = "prod-secret-rotated-77d0"
PROD_TOKEN = "prod-token-from-env-31b8"
SHARED = "shared-passthrough-5e6d"
CREDENTIALS = (DEV_SECRET, PROD_SECRET, PROD_SECRET_ROTATED, PROD_TOKEN, SHARED)
UNSET = "unset"

# A `run` step: records which credentials it sees (as hashes) in the file named
# by its argument, and prints them raw, as a careless script would.
PROBE = """\
import hashlib, json, os, sys
names = ("TF_VAR_secret", "TF_VAR_token", "TF_VAR_shared", "ATLANTIS_GH_TOKEN",
         "ATLANTIS_GITLAB_TOKEN", "E2E_PROD_TOKEN")
seen = {n: hashlib.sha256(os.environ[n].encode()).hexdigest() for n in names if n in os.environ}
with open(sys.argv[1], "w") as f:
    json.dump(seen, f)
for n in names:
    print(n, os.environ.get(n))
"""


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def project(state: Path, name: str) -> str:
    """terraform_data records hashes of what terraform saw; the output echoes it raw."""
    return (
        f'terraform {{\n  backend "local" {{ path = "{state / name}.tfstate" }}\n}}\n'
        'variable "secret" {\n  default = "unset"\n}\n'
        'variable "token" {\n  default = "unset"\n}\n'
        'variable "shared" {\n  default = "unset"\n}\n'
        'resource "terraform_data" "seen" {\n'
        '  input = "${sha256(var.secret)} ${sha256(var.token)} ${sha256(var.shared)}"\n}\n'
        'output "echo" {\n  value = "${var.secret}|${var.token}|${var.shared}"\n}\n'
    )


def workflows(probe_out: Path) -> str:
    probe = f"{sys.executable} ../probe.py {probe_out}"
    return (
        "version: 1\n"
        "projects:\n"
        "  - {name: dev, dir: dev, workflow: probed, environment: dev}\n"
        "  - {name: prod, dir: prod, workflow: probed, environment: production}\n"
        "workflows:\n"
        "  probed:\n"
        f"    plan: {{steps: [init, {{run: \"{probe}/${{PROJECT_NAME}}-plan.json\"}}, plan]}}\n"
        f"    apply: {{steps: [{{run: \"{probe}/${{PROJECT_NAME}}-apply.json\"}}, apply]}}\n"
        "environments:\n"
        "  dev: {required_approvals: 1}\n"
        "  production: {required_approvals: 1}\n"
    )


def forge_env(fake: NeutralForge, forge: str) -> dict[str, str]:
    assert isinstance(fake, FakeGitHub | FakeGitLab)
    if forge == "gitlab":
        return {"ATLANTIS_GITLAB_TOKEN": fake.token, "ATLANTIS_GITLAB_URL": fake.api_url,
                "ATLANTIS_GITLAB_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "ATLANTIS_GITLAB_USER": fake.bot_login}
    return {"ATLANTIS_GH_TOKEN": fake.token, "ATLANTIS_GH_API_URL": fake.api_url,
            "ATLANTIS_GH_WEBHOOK_SECRET": WEBHOOK_SECRET, "ATLANTIS_GH_USER": fake.bot_login}


@contextmanager
def serving(server: ServerProcess, fake: NeutralForge) -> Iterator[ServerProcess]:
    fake.webhook_url, fake.webhook_secret = f"{server.url}/events", WEBHOOK_SECRET
    server.start()
    try:
        yield server
    finally:
        server.stop()


def http_get(url: str, headers: dict[str, str]) -> str:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200, url
            return str(resp.read().decode())
    except urllib.error.HTTPError as e:
        raise AssertionError(f"{url}: {e.code} {e.read().decode()}") from None


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_each_environment_sees_only_its_credentials_and_none_leaks(
        tmp_path: Path, forge: str) -> None:
    state, probes = tmp_path / "state", tmp_path / "probes"
    state.mkdir()
    probes.mkdir()
    prod_file = tmp_path / "secrets" / "prod-secret"
    prod_file.parent.mkdir()
    prod_file.write_text(PROD_SECRET + "\n")
    creds = tmp_path / "credentials.yaml"
    creds.write_text(
        "environments:\n"
        "  dev:\n"
        f"    TF_VAR_secret: {DEV_SECRET}\n"
        "  production:\n"
        f"    TF_VAR_secret: file:{prod_file}\n"
        "    TF_VAR_token: ${E2E_PROD_TOKEN}\n")
    concrete = FakeGitLab(tmp_path) if forge == "gitlab" else FakeGitHub(tmp_path)
    fake: NeutralForge = concrete
    env = {**forge_env(fake, forge), "E2E_PROD_TOKEN": PROD_TOKEN, "TF_VAR_shared": SHARED}
    server = ServerProcess(tmp_path / "data", env, free_port(),
                           args=["--credentials", str(creds), "--tf-env-passthrough",
                                 "TF_VAR_shared", "--allow-custom-steps"])
    with concrete, serving(server, fake):
        repo = fake.create_repo("acme/infra", {
            "workflows.yaml": workflows(probes), "probe.py": PROBE,
            "dev/main.tf": project(state, "dev"), "prod/main.tf": project(state, "prod")})
        pull = fake.open_pull(repo, changes={"dev/extra.tf": "# dev\n",
                                             "prod/extra.tf": "# prod\n"})
        assert fake.deliver("pull_request", fake.pull_request_payload(pull, "opened"))[0] == 202
        server.settle()
        (plan,) = fake.comments(pull)
        assert "2 projects: 2 with changes, 0 with no changes, 0 failed" in plan, plan
        # terraform in each project saw its own environment's values and the shared one
        assert f'"{sha(DEV_SECRET)} {sha(UNSET)} {sha(SHARED)}"' in plan
        assert f'"{sha(PROD_SECRET)} {sha(PROD_TOKEN)} {sha(SHARED)}"' in plan
        assert plan.count(sha(PROD_SECRET)) == 1 and plan.count(sha(PROD_TOKEN)) == 1
        # ... and its raw echo of them is masked
        assert '"****|unset|****"' in plan and '"****|****|****"' in plan
        # so did the `run` steps, which never see the server's own settings
        dev_seen = json.loads((probes / "dev-plan.json").read_text())
        assert dev_seen == {"TF_VAR_secret": sha(DEV_SECRET), "TF_VAR_shared": sha(SHARED)}
        prod_seen = json.loads((probes / "prod-plan.json").read_text())
        assert prod_seen == {"TF_VAR_secret": sha(PROD_SECRET),
                             "TF_VAR_token": sha(PROD_TOKEN), "TF_VAR_shared": sha(SHARED)}

        prod_file.write_text(PROD_SECRET_ROTATED)  # rotated between plan and apply
        fake.set_permission(repo, "bob", "write")  # only writers' approvals count
        fake.review(pull, "bob", "APPROVED")
        fake.deliver("issue_comment", fake.comment_payload(pull, "alice", "atlantis apply"))
        server.settle()
        applied = fake.comments(pull)[-1]
        assert applied.count("Apply complete!") == 2, applied
        assert json.loads((probes / "dev-apply.json").read_text()) == dev_seen
        # apply ran with the environment the plan was judged by, its file read anew
        assert json.loads((probes / "prod-apply.json").read_text()) == {
            **prod_seen, "TF_VAR_secret": sha(PROD_SECRET_ROTATED)}

        shown = [*fake.comments(pull), json.dumps(fake.statuses(repo, pull.head_sha))]
        shown += api_and_pages(server, tmp_path, pull.number)
        log = server.log_path.read_text()
        assert "job=" in log and "terraform apply" in log  # the workers' lines are in it
    shown.append(log)
    for name in ("atlantis.db", "atlantis.db-wal"):
        path = tmp_path / "data" / name
        if path.exists():
            shown.append(path.read_bytes().decode("latin-1"))
    for text in shown:
        for value in CREDENTIALS:
            assert value not in text, f"{value} leaked into: {text[:300]}"


def api_and_pages(server: ServerProcess, tmp_path: Path, number: int) -> list[str]:
    """Every API answer and page about the IPR, as text."""
    made = subprocess.run(
        [sys.executable, "-m", "atlantis_py", "token", "create", "--user", "vera",
         "--role", "viewer"], capture_output=True, text=True, check=True, timeout=60,
        env={**os.environ, "ATLANTIS_DATA_DIR": str(tmp_path / "data")})
    token = made.stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    browser = ConsoleClient(server.url)
    browser.sign_in(token)
    listing = http_get(f"{server.url}/api/v1/ipr", bearer)
    (ipr_id,) = [i["id"] for i in json.loads(listing)["items"] if i["pull_number"] == number]
    detail = http_get(f"{server.url}/api/v1/ipr/{ipr_id}", bearer)
    assert "prod" in detail and "dev" in detail
    jobs = browser.get("/jobs?show=all").body
    logs = [browser.get(f"/jobs/{job_id}").body
            for job_id in sorted(set(re.findall(r'href="/jobs/(\d+)"', jobs)))]
    assert any("[prod] TF_VAR_secret ****" in log for log in logs)  # the probe's raw print
    return [listing, detail,
            http_get(f"{server.url}/api/v1/ipr/{ipr_id}/events", bearer),
            http_get(f"{server.url}/api/v1/ipr/{ipr_id}/events?format=jsonl", bearer),
            browser.get("/").body, browser.get(f"/ipr/{ipr_id}").body, jobs, *logs]


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_worker_children_get_the_token_without_it_on_their_command_line(
        tmp_path: Path) -> None:
    token = "ghp_on_the_command_line_8d41"
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path, token=token) as fake:
        server = ServerProcess(
            tmp_path / "data", {"ATLANTIS_GH_API_URL": fake.api_url,
                                "ATLANTIS_GH_USER": fake.bot_login}, free_port(),
            args=["--gh-token", token, "--gh-webhook-secret", WEBHOOK_SECRET,
                  "--worker-processes", "2"])
        with serving(server, fake):
            assert server.proc is not None
            deadline = time.monotonic() + 60
            workers: list[bytes] = []
            while len(workers) < 2 and time.monotonic() < deadline:
                workers = [Path(f"/proc/{pid}/cmdline").read_bytes()
                           for pid in children_of(server.proc.pid)]
                workers = [c for c in workers if b"worker" in c.split(b"\0")]
                time.sleep(0.05)
            assert len(workers) == 2, workers
            for cmdline in workers:
                assert token.encode() not in cmdline and WEBHOOK_SECRET.encode() not in cmdline
            assert token.encode() in Path(f"/proc/{server.proc.pid}/cmdline").read_bytes()
            # the children did get it: the fake forge answers only that token
            repo = fake.create_repo("acme/infra", {"net/main.tf": project(state, "net")})
            pull = fake.open_pull(repo, changes={"net/extra.tf": "# x\n"})
            assert fake.deliver("pull_request",
                                fake.pull_request_payload(pull, "opened"))[0] == 202
            server.settle()
            assert "Plan: 1 to add" in fake.comments(pull)[0]


@pytest.mark.parametrize("text, environ, named", [
    pytest.param("environments:\n  dev:\n    TF_VAR_port: 8080\n", {},
                 "credentials.yaml:3: environments.dev.TF_VAR_port: expected a string",
                 id="bad-value"),
    pytest.param("environments:\n  dev:\n    A: x\n  production:\n    TF_VAR_k: ${E2E_UNSET}\n",
                 {}, "credentials.yaml:5: environments.production.TF_VAR_k: the server "
                 "variable E2E_UNSET is not set", id="unset-server-variable"),
    pytest.param("environments:\n  dev:\n    TF_VAR_k: file:/nonexistent/secret\n", {},
                 "credentials.yaml:3: environments.dev.TF_VAR_k: cannot read "
                 "/nonexistent/secret", id="missing-file"),
])
def test_a_bad_credentials_file_stops_the_start(tmp_path: Path, text: str,
                                                environ: dict[str, str], named: str) -> None:
    creds = tmp_path / "credentials.yaml"
    creds.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "atlantis_py", "server", "--data-dir", str(tmp_path / "d"),
         "--credentials", str(creds), "--worker-processes", "0"],
        capture_output=True, text=True, timeout=60, check=False,
        env={k: v for k, v in os.environ.items() if k != "E2E_UNSET"})
    assert result.returncode == 2, result.stderr
    assert f"atlantis-py server: --credentials {tmp_path}/{named}" in result.stderr
