"""The local forge end to end, through the CLI only: `python -m atlantis_py …`
subprocesses against a real server started with --local-repos on loopback, on
the testdrive's sample repository. No GitHub or GitLab, fake or real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from atlantis_py.cli.testdrive import BRANCH, REPO, Sample, write_sample
from tests.e2e.console_client import ConsoleClient
from tests.e2e.server_process import ServerProcess, free_port

Cli = Callable[..., subprocess.CompletedProcess[str]]


@dataclass
class Drive:
    server: ServerProcess
    sample: Sample
    tokens: dict[str, str]

    def cli(self, user: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "ATLANTIS_URL": self.server.url,
               "ATLANTIS_TOKEN": self.tokens[user]}
        return subprocess.run([sys.executable, "-m", "atlantis_py", "ipr", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    def show(self, ipr: int) -> dict[str, Any]:
        done = self.cli("alice", "show", str(ipr), "--comments", "--json")
        assert done.returncode == 0, done.stderr
        found: dict[str, Any] = json.loads(done.stdout)
        return found

    def wait(self, ipr: int, ready: Callable[[dict[str, Any]], bool],
             timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.show(ipr)
            if ready(found):
                return found
            assert time.monotonic() < deadline, f"IPR {ipr} never got there: {found}"
            time.sleep(0.3)


def git(cwd: Path, *args: str) -> str:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
           "GIT_AUTHOR_NAME": "alice", "GIT_AUTHOR_EMAIL": "alice@example.com",
           "GIT_COMMITTER_NAME": "alice", "GIT_COMMITTER_EMAIL": "alice@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout + done.stderr


@contextmanager
def driving(tmp_path: Path, env: dict[str, str] | None = None) -> Iterator[Drive]:
    sample = write_sample(tmp_path / "drive")
    data = tmp_path / "data"
    tokens = {}
    for user in ("alice", "bob", "carol"):
        made = subprocess.run(
            [sys.executable, "-m", "atlantis_py", "token", "create", "--user", user,
             "--role", "reviewer"], env={**os.environ, "ATLANTIS_DATA_DIR": str(data)},
            capture_output=True, text=True, check=True)
        tokens[user] = made.stdout.strip()
    server = ServerProcess(data, {"ATLANTIS_REPO_ALLOWLIST": "local/*", **(env or {})},
                           free_port(), args=["--local-repos", str(sample.repos)])
    server.start()
    try:
        yield Drive(server, sample, tokens)
    finally:
        server.stop()


@pytest.fixture
def drive(tmp_path: Path) -> Iterator[Drive]:
    with driving(tmp_path) as found:
        yield found


@pytest.fixture
def quiet_drive(tmp_path: Path) -> Iterator[Drive]:
    """Housekeeping (a third of the lease) never runs: only the hook or the
    check made when an IPR is read or acted on can notice a push."""
    with driving(tmp_path, {"ATLANTIS_JOB_LEASE_SECONDS": "3600"}) as found:
        yield found


@pytest.fixture
def busy_drive(tmp_path: Path) -> Iterator[Drive]:
    """Housekeeping every second."""
    with driving(tmp_path, {"ATLANTIS_JOB_LEASE_SECONDS": "3"}) as found:
        yield found


def own_hook(bare: Path) -> str:
    """Give the repository a post-receive hook of its own, which the server keeps."""
    hook = bare / "hooks" / "post-receive"
    text = f"#!{sys.executable}\nimport sys\nsys.stdin.read()\n"
    hook.write_text(text)
    hook.chmod(0o755)
    return text


def push_change(drive: Drive, value: str, remote: str = "origin",
                branch: str = BRANCH) -> tuple[str, str]:
    """Commit prod = `value` on `branch` and push it: (new head, git's output)."""
    work = drive.sample.work
    git(work, "checkout", "-q", branch)
    main_tf = work / "envs" / "prod" / "main.tf"
    text = main_tf.read_text()
    main_tf.write_text(text[:text.index("input = ")] + f'input = "{value}"\n}}\n')
    git(work, "commit", "-q", "-am", f"prod to {value}")
    pushed = git(work, "push", remote, f"HEAD:{branch}")
    return git(work, "rev-parse", "HEAD").strip(), pushed


def console(drive: Drive, path: str) -> str:
    client = ConsoleClient(drive.server.url)
    client.sign_in(drive.tokens["alice"])
    page = client.get(path)
    assert page.status == 200, page.body
    return page.body


def planned(head: str = "") -> Callable[[dict[str, Any]], bool]:
    def ready(ipr: dict[str, Any]) -> bool:
        return len(ipr["projects"]) == 2 and all(
            p["head_sha"] == (head or ipr["head_sha"]) for p in ipr["projects"]) and \
            ipr["state"] == "PENDING"
    return ready


def commented(words: str, times: int = 1) -> Callable[[dict[str, Any]], bool]:
    """At least `times` comments contain `words`: what a wait on the plan needs too,
    since a job posts its comment after it stores the runs `planned` reads."""
    def ready(ipr: dict[str, Any]) -> bool:
        return sum(words in c["body"] for c in ipr["comments"]) >= times
    return ready


def both(*conditions: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    return lambda ipr: all(ready(ipr) for ready in conditions)


def create(drive: Drive) -> int:
    made = drive.cli("alice", "create", "--repo", REPO, "--head", BRANCH, "--base", "main",
                     "--title", "Bump dev and prod", "--json")
    assert made.returncode == 0, made.stderr
    return int(json.loads(made.stdout)["id"])


def test_the_testdrive_steps_plan_refuse_approve_deploy_and_merge(drive: Drive) -> None:
    ipr_id = create(drive)
    ipr = drive.wait(ipr_id, both(planned(), lambda i: bool(i["comments"])))
    assert ipr["forge"] == "local" and ipr["author"] == "alice"
    assert {p["environment"] for p in ipr["projects"]} == {"dev", "prod"}
    assert "Ran Plan for 2 projects" in ipr["comments"][0]["body"]
    shown = drive.cli("alice", "show", str(ipr_id), "--comments")
    assert "Ran Plan for 2 projects" in shown.stdout and "--- atlantis at" in shown.stdout
    page = console(drive, f"/ipr/{ipr_id}")
    assert '<h2 id="comments">Comments</h2>' in page and "Ran Plan for 2 projects" in page

    assert drive.cli("alice", "review", str(ipr_id), "--approve").returncode == 1  # the author
    assert drive.cli("bob", "review", str(ipr_id), "--approve", "--comment", "LGTM") \
        .returncode == 0
    refused = drive.cli("alice", "deploy", str(ipr_id))
    assert refused.returncode == 1
    assert "prod: needs 1 more approval" in refused.stderr

    assert drive.cli("carol", "review", str(ipr_id), "--approve").returncode == 0
    assert drive.show(ipr_id)["state"] == "APPROVED"
    deployed = drive.cli("alice", "deploy", str(ipr_id))
    assert deployed.returncode == 0, deployed.stderr
    # the apply's comment follows the merge that closes the IPR
    ipr = drive.wait(ipr_id, lambda i: i["state"] == "DEPLOYED" and not i["open"]
                     and commented("Apply complete!")(i))
    assert all(p["applied"] for p in ipr["projects"])
    for env in ("dev", "prod"):
        state = json.loads((drive.sample.state / f"{env}.tfstate").read_text())
        assert state["resources"][0]["instances"][0]["attributes"]["input"]["value"] == "v2"

    bare = drive.sample.repos / "infra.git"
    head = ipr["head_sha"]
    git(bare, "merge-base", "--is-ancestor", head, "main")  # merged into main
    assert git(bare, "log", "-1", "--format=%P", "main").split()[1] == head  # --no-ff
    events = drive.cli("alice", "events", str(ipr_id), "--json")
    actions = [e["action"] for e in json.loads(events.stdout)]
    assert actions.index("deploy:requested") < actions.index("state:DEPLOYED") < \
        actions.index("merged")
    assert "review:approved" in actions


def test_a_push_replans_and_voids_the_approvals(drive: Drive) -> None:
    ipr_id = create(drive)
    first = drive.wait(ipr_id, planned())
    assert drive.cli("bob", "review", str(ipr_id), "--approve").returncode == 0
    assert drive.cli("carol", "review", str(ipr_id), "--approve").returncode == 0
    assert drive.show(ipr_id)["state"] == "APPROVED"

    work = drive.sample.work
    main_tf = work / "envs" / "prod" / "main.tf"
    main_tf.write_text(main_tf.read_text().replace('"v2"', '"v3"'))
    git(work, "commit", "-q", "-am", "prod to v3")
    pushed = git(work, "push", "origin", BRANCH)
    assert "will be planned again" in pushed  # the hook's answer, shown by git
    new_head = git(work, "rev-parse", "HEAD").strip()
    assert new_head != first["head_sha"]

    ipr = drive.wait(ipr_id, lambda i: i["head_sha"] == new_head and planned(new_head)(i)
                     and commented("Ran Plan for", 2)(i))
    assert ipr["state"] == "PENDING"
    assert all(not a["counted"] for a in ipr["approvals"])
    assert {a["commit_sha"] for a in ipr["approvals"]} == {first["head_sha"]}
    assert sum("Ran Plan for" in c["body"] for c in ipr["comments"]) == 2
    refused = drive.cli("alice", "deploy", str(ipr_id))
    assert refused.returncode == 1 and "PENDING" in refused.stderr


def test_the_author_is_who_opened_it_not_the_name_on_the_commit(drive: Drive) -> None:
    work = drive.sample.work
    git(work, "checkout", "-q", "-b", "as-carol", "main")
    dev = work / "envs" / "dev" / "main.tf"
    dev.write_text(dev.read_text().replace('"v1"', '"v3"'))
    git(work, "commit", "-q", "-am", "dev to v3", "--author", "carol <carol@example.com>")
    git(work, "push", "-q", "origin", "as-carol")
    made = drive.cli("bob", "create", "--repo", REPO, "--head", "as-carol", "--title", "dev v3",
                     "--json")
    assert made.returncode == 0, made.stderr
    ipr_id = int(json.loads(made.stdout)["id"])
    ipr = drive.wait(ipr_id, lambda i: len(i["projects"]) == 1 and i["state"] == "PENDING")
    assert ipr["author"] == "bob"

    refused = drive.cli("bob", "review", str(ipr_id), "--approve")
    assert refused.returncode == 1
    assert "bob opened this IPR" in refused.stderr and "self-approval" in refused.stderr
    assert drive.cli("carol", "review", str(ipr_id), "--approve").returncode == 0
    ipr = drive.show(ipr_id)
    assert ipr["state"] == "APPROVED"
    assert [(a["user"], a["counted"]) for a in ipr["approvals"]] == [("carol", True)]


def answered(drive: Drive, ipr_id: int, after: int, words: str) -> dict[str, Any]:
    """The IPR once a comment after the first `after` ones contains `words`."""
    return drive.wait(ipr_id, lambda i: any(words in c["body"] for c in i["comments"][after:]))


def test_comment_commands_take_the_forge_comment_path(drive: Drive) -> None:
    ipr_id = create(drive)
    drive.wait(ipr_id, planned())
    assert drive.cli("bob", "review", str(ipr_id), "--approve").returncode == 0
    refused = drive.cli("alice", "deploy", str(ipr_id))
    assert refused.returncode == 1 and "prod: needs 1 more approval" in refused.stderr

    # the review's notice is a job of its own: counted before the command is sent
    seen = len(drive.wait(ipr_id, commented("**`bob`** approved"))["comments"])
    said = drive.cli("alice", "comment", str(ipr_id), "atlantis apply")
    assert said.returncode == 0 and "answers on the IPR" in said.stdout, said.stderr
    ipr = answered(drive, ipr_id, seen, "Apply refused")
    mine, answer = ipr["comments"][seen], ipr["comments"][-1]
    assert (mine["author"], mine["body"]) == ("alice", "atlantis apply")
    assert answer["author"] == "atlantis"
    assert "Environment `prod`" in answer["body"] and "needs 1 more approval" in answer["body"]
    assert not any(p["applied"] for p in ipr["projects"])
    assert not (drive.sample.state / "dev.tfstate").exists()

    seen = len(ipr["comments"])
    assert drive.cli("bob", "comment", str(ipr_id), "atlantis frobnicate").returncode == 0
    answer = answered(drive, ipr_id, seen, "Could not run this command")["comments"][-1]
    assert "atlantis frobnicate" in answer["body"] and "atlantis plan" in answer["body"]

    seen = len(drive.show(ipr_id)["comments"])
    said = drive.cli("carol", "comment", str(ipr_id), "atlantis plan -p dev")
    assert said.returncode == 0, said.stderr
    answer = answered(drive, ipr_id, seen, "Ran Plan for 1 project")["comments"][-1]
    assert "`dev`" in answer["body"] and "`prod`" not in answer["body"]

    plain = drive.cli("carol", "comment", str(ipr_id), "looks fine to me", "--json")
    assert json.loads(plain.stdout) == {"ipr": ipr_id, "status": "posted"}
    last = drive.show(ipr_id)["comments"][-1]
    assert (last["author"], last["body"]) == ("carol", "looks fine to me")
    empty = drive.cli("carol", "comment", str(ipr_id), " ")
    assert empty.returncode == 1 and "body is required" in empty.stderr


def test_a_repository_added_later_gets_the_hook_when_first_used(quiet_drive: Drive) -> None:
    drive = quiet_drive
    later = drive.sample.repos / "later.git"
    git(drive.sample.repos, "clone", "-q", "--bare", str(drive.sample.repos / "infra.git"),
        str(later))
    assert not (later / "hooks" / "post-receive").exists()
    made = drive.cli("bob", "create", "--repo", "local/later", "--head", BRANCH,
                     "--title", "Later", "--json")
    assert made.returncode == 0, made.stderr
    ipr_id = int(json.loads(made.stdout)["id"])
    assert "atlantis-py local push hook" in (later / "hooks" / "post-receive").read_text()
    first = drive.wait(ipr_id, planned())

    head, pushed = push_change(drive, "v5", remote=str(later))
    assert "will be planned again" in pushed
    ipr = drive.wait(ipr_id, planned(head))
    assert ipr["head_sha"] == head != first["head_sha"]


def test_a_push_no_hook_reports_is_planned_again_before_any_deploy(quiet_drive: Drive) -> None:
    drive = quiet_drive
    ipr_id = create(drive)
    first = drive.wait(ipr_id, planned())
    assert drive.cli("bob", "review", str(ipr_id), "--approve").returncode == 0
    assert drive.cli("carol", "review", str(ipr_id), "--approve").returncode == 0
    assert drive.show(ipr_id)["state"] == "APPROVED"
    bare = drive.sample.repos / "infra.git"
    theirs = own_hook(bare)

    head, pushed = push_change(drive, "v3")
    assert "will be planned again" not in pushed
    refused = drive.cli("alice", "deploy", str(ipr_id))
    assert refused.returncode == 1
    assert f"moved to {head[:7]}" in refused.stderr and "planned again" in refused.stderr
    assert drive.cli("alice", "deploy", str(ipr_id)).returncode == 1  # said once, refused

    ipr = drive.wait(ipr_id, both(planned(head), commented("New commits found")))
    assert ipr["head_sha"] == head and ipr["state"] == "PENDING"
    assert all(not a["counted"] for a in ipr["approvals"])
    notices = [c["body"] for c in ipr["comments"] if "New commits found" in c["body"]]
    assert len(notices) == 1 and f"`{first['head_sha'][:7]}`" in notices[0]
    assert not (drive.sample.state / "prod.tfstate").exists()  # nothing was applied
    assert (bare / "hooks" / "post-receive").read_text() == theirs

    head, _ = push_change(drive, "v4")  # and an `atlantis apply` comment is refused alike
    assert drive.cli("bob", "comment", str(ipr_id), "atlantis apply").returncode == 0
    seen = len(ipr["comments"])
    answer = [c["body"] for c in answered(drive, ipr_id, seen, "new commits are being planned")
              ["comments"][seen:] if "Apply refused" in c["body"]]
    assert f"now at `{head[:7]}`" in answer[0] and "already being planned" in answer[0]
    assert "out of date" not in answer[0]
    ipr = drive.wait(ipr_id, both(planned(head), commented("New commits found", 2)))
    assert sum("New commits found" in c["body"] for c in ipr["comments"]) == 2
    assert not (drive.sample.state / "prod.tfstate").exists()


def test_housekeeping_notices_unreported_pushes_and_new_repositories(busy_drive: Drive) -> None:
    drive = busy_drive
    ipr_id = create(drive)
    drive.wait(ipr_id, planned())
    own_hook(drive.sample.repos / "infra.git")
    head, _ = push_change(drive, "v3")
    deadline = time.monotonic() + 120
    while True:  # `ipr list` reads no branch: only housekeeping can have noticed
        listed = drive.cli("alice", "list", "--json")
        if json.loads(listed.stdout)[0]["head_sha"] == head:
            break
        assert time.monotonic() < deadline, listed.stdout
        time.sleep(0.5)
    drive.wait(ipr_id, both(planned(head), commented("New commits found")))

    later = drive.sample.repos / "team" / "later.git"
    git(drive.sample.repos, "clone", "-q", "--bare", str(drive.sample.repos / "infra.git"),
        str(later))
    hook = later / "hooks" / "post-receive"
    deadline = time.monotonic() + 60
    while not (hook.exists() and "atlantis-py local push hook" in hook.read_text()):
        assert time.monotonic() < deadline, "the scan never put the hook into team/later"
        time.sleep(0.3)
    hook.unlink()
    deadline = time.monotonic() + 60
    while not hook.exists():
        assert time.monotonic() < deadline, "the scan never put the removed hook back"
        time.sleep(0.3)


def test_testdrive_runs_in_its_folder_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLANTIS_")}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "atlantis_py", "testdrive", "--port", str(port)],
        cwd=cwd, env={**env, "HOME": str(home)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C stops the server"):
                break
        out = "".join(lines)
        assert "Ran Plan for 2 projects" in out, out
        assert "ipr review 1 --approve" in out and "ipr deploy 1" in out
        assert "Console: http://127.0.0.1:" in out
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "Server stopped." in rest
    assert sorted(p.name for p in cwd.iterdir()) == ["atlantis-testdrive"]
    assert list(home.iterdir()) == []
    assert not serving(port)


def serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
            return True
    except OSError:
        return False


def test_testdrive_stops_on_ctrl_c_before_the_plan_is_shown(tmp_path: Path) -> None:
    """Started as a shell starts a background job (`testdrive &`: SIGINT ignored)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLANTIS_")}
    port = free_port()
    ignoring = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")
    proc = subprocess.Popen(
        [sys.executable, "-c", ignoring, "-m", "atlantis_py", "testdrive", "--port", str(port)],
        cwd=tmp_path, env={**env, "HOME": str(tmp_path)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("Server on "):
                assert serving(port)
                proc.send_signal(signal.SIGINT)
                break
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert "Server stopped." in rest and "Traceback" not in rest
    assert not serving(port)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlantis-testdrive"]
