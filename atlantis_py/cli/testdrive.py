"""`atlantis-py testdrive`: the whole review gate on a fresh machine, no account.

Everything lives in one folder (default ./atlantis-testdrive): a sample
repository served by the local forge, the server's data, terraform's state and
the server's log. It opens an IPR that changes two environments (dev needs one
approval, prod two), prints the plan and the commands to try, and stops the
server on Ctrl-C. Nothing is written outside the folder.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlantis_py.cli.api import ApiClient, Refused

MARKER = ".atlantis-testdrive"
REPO = "local/infra"
BRANCH = "change-both"
USERS = (("alice", "reviewer"), ("bob", "reviewer"), ("carol", "reviewer"))

WORKFLOWS = """\
version: 1
projects:
  - name: dev
    dir: envs/dev
    environment: dev
  - name: prod
    dir: envs/prod
    environment: prod
environments:
  dev:
    required_approvals: 1
  prod:
    required_approvals: 2
"""


def tf_root(state: Path, name: str, value: str) -> str:
    """A root module of one terraform_data (no provider to download), its state
    in the testdrive folder."""
    return (f'terraform {{\n  backend "local" {{ path = "{state / name}.tfstate" }}\n}}\n\n'
            f'resource "terraform_data" "{name}" {{\n  input = "{value}"\n}}\n')


def _git(cwd: Path, *args: str) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "alice",
           "GIT_AUTHOR_EMAIL": "alice@example.com", "GIT_COMMITTER_NAME": "alice",
           "GIT_COMMITTER_EMAIL": "alice@example.com"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@dataclass(frozen=True)
class Sample:
    repos: Path  # what --local-repos serves
    work: Path  # alice's clone, to push from
    state: Path  # terraform's local state


def write_sample(folder: Path) -> Sample:
    """repos/infra.git (bare, served) and work/infra (a clone) with `main` and the
    branch `change-both`, which changes dev and prod."""
    repos, work, state = folder / "repos", folder / "work" / "infra", folder / "state"
    for path in (repos, work.parent, state):
        path.mkdir(parents=True, exist_ok=True)
    bare = repos / "infra.git"
    _git(folder, "init", "-q", "--bare", "-b", "main", str(bare))
    _git(folder, "init", "-q", "-b", "main", str(work))
    for key, value in (("user.name", "alice"), ("user.email", "alice@example.com")):
        _git(work, "config", key, value)  # so `git commit` works where git has no identity
    (work / "envs" / "dev").mkdir(parents=True)
    (work / "envs" / "prod").mkdir(parents=True)
    (work / "workflows.yaml").write_text(WORKFLOWS)
    (work / "envs" / "dev" / "main.tf").write_text(tf_root(state, "dev", "v1"))
    (work / "envs" / "prod" / "main.tf").write_text(tf_root(state, "prod", "v1"))
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "Two environments: dev and prod")
    _git(work, "remote", "add", "origin", str(bare))
    _git(work, "push", "-q", "origin", "main")
    _git(work, "checkout", "-q", "-b", BRANCH)
    (work / "envs" / "dev" / "main.tf").write_text(tf_root(state, "dev", "v2"))
    (work / "envs" / "prod" / "main.tf").write_text(tf_root(state, "prod", "v2"))
    _git(work, "commit", "-q", "-am", "Bump dev and prod to v2")
    _git(work, "push", "-q", "-u", "origin", BRANCH)
    return Sample(repos=repos, work=work, state=state)


def prepare_folder(folder: Path) -> str | None:
    """An empty folder for the testdrive, or why not: an earlier testdrive's
    folder is emptied, any other non-empty folder is left alone."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            return f"{folder} exists and is not a testdrive folder; give another --dir"
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by atlantis-py testdrive; safe to delete\n")
    return None


def create_tokens(data: Path) -> dict[str, str]:
    from atlantis_py.domain.records import Role
    from atlantis_py.store.db import Database
    from atlantis_py.store.tokens import TokenStore

    logging.getLogger("alembic").setLevel(logging.WARNING)  # not the user's business here
    db = Database(f"sqlite:///{data / 'atlantis.db'}")
    db.migrate()
    try:
        store = TokenStore(db)
        return {user: store.create(user, Role(role)) for user, role in USERS}
    finally:
        db.dispose()


def server_env(folder: Path, sample: Sample, port: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("ATLANTIS_", "TF_"))}
    return {**keep, "ATLANTIS_LOCAL_REPOS": str(sample.repos),
            "ATLANTIS_DATA_DIR": str(folder / "data"), "ATLANTIS_PORT": str(port),
            "ATLANTIS_HOST": "127.0.0.1", "ATLANTIS_WORKER_PROCESSES": "0",
            "ATLANTIS_REPO_ALLOWLIST": "local/*", "CHECKPOINT_DISABLE": "1",
            "HOME": str(folder)}


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def wait_planned(api: ApiClient, ipr_id: int, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        ipr: dict[str, Any] = api.call("GET", f"/ipr/{ipr_id}")
        comments = api.call("GET", f"/ipr/{ipr_id}/comments")["items"]
        if ipr["projects"] and comments or time.monotonic() > deadline:
            return {**ipr, "comments": comments}
        time.sleep(0.5)


def command_name() -> str:
    beside = Path(sys.executable).parent / "atlantis-py"
    if shutil.which("atlantis-py") == str(beside) or not beside.exists():
        return "atlantis-py" if shutil.which("atlantis-py") else f"{sys.executable} -m atlantis_py"
    try:
        return str(beside.relative_to(Path.cwd()))
    except ValueError:
        return str(beside)


def next_steps(url: str, tokens: dict[str, str], ipr_id: int, sample: Sample) -> str:
    cli = command_name()
    return f"""
Try it (in another terminal):

  export ATLANTIS_URL={url}
  export ALICE={tokens['alice']} BOB={tokens['bob']} CAROL={tokens['carol']}

  ATLANTIS_TOKEN=$BOB   {cli} ipr review {ipr_id} --approve --comment "LGTM"
  ATLANTIS_TOKEN=$ALICE {cli} ipr deploy {ipr_id}     # refused: prod needs 2 approvals
  ATLANTIS_TOKEN=$CAROL {cli} ipr review {ipr_id} --approve
  ATLANTIS_TOKEN=$ALICE {cli} ipr deploy {ipr_id}     # applies dev and prod, merges
  ATLANTIS_TOKEN=$ALICE {cli} ipr show {ipr_id} --comments
  ATLANTIS_TOKEN=$ALICE {cli} ipr events {ipr_id}
  ATLANTIS_TOKEN=$BOB   {cli} ipr comment {ipr_id} "atlantis plan -p dev"  # as on GitHub

A push re-plans and voids the approvals: commit in {sample.work} and `git push`.
Console: {url}/  (any user name; the password is one of the tokens above)
Ctrl-C stops the server; everything is in {sample.repos.parent}.
"""


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then after 30 s SIGKILL to its whole session: terraform too."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the server leads its own session
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_testdrive(args: argparse.Namespace) -> int:
    folder = Path(args.dir).expanduser().resolve()
    if (problem := prepare_folder(folder)) is not None:
        print(f"atlantis-py testdrive: {problem}", file=sys.stderr)
        return 2
    # set even for SIGINT: a shell starts a background job with SIGINT ignored
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    proc: subprocess.Popen[bytes] | None = None
    url = f"http://127.0.0.1:{args.port}"
    try:
        print(f"Sample repository {REPO} in {folder}/repos/infra.git: dev needs 1 approval, "
              "prod 2.")
        sample = write_sample(folder)
        (folder / "data").mkdir()
        tokens = create_tokens(folder / "data")
        with (folder / "server.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "atlantis_py", "server"], stdout=log,
                stderr=subprocess.STDOUT, env=server_env(folder, sample, args.port), cwd=folder,
                start_new_session=True)
        if not wait_ready(url, proc):
            print(f"atlantis-py testdrive: the server did not start (is port {args.port} "
                  f"free? --port picks another); see {folder}/server.log", file=sys.stderr)
            return 1
        print(f"Server on {url} (log: {folder}/server.log). Opening an IPR as alice…")
        alice = ApiClient(url, tokens["alice"])
        try:
            ipr = alice.call("POST", "/ipr", {"forge": "local", "repo": REPO, "head": BRANCH,
                                              "base": "main", "title": "Bump dev and prod"})
            planned = wait_planned(alice, int(ipr["id"]))
        except (Refused, urllib.error.URLError) as err:
            print(f"atlantis-py testdrive: {err}", file=sys.stderr)
            return 1
        for comment in planned["comments"]:
            print(f"\n--- {comment['author']} commented on IPR {ipr['id']}:\n\n{comment['body']}")
        print(next_steps(url, tokens, int(ipr["id"]), sample), flush=True)
        while proc.poll() is None:
            time.sleep(0.2)
        print(f"atlantis-py testdrive: the server stopped; see {folder}/server.log",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip this
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if proc is not None:
            stop_server(proc)
            print("Server stopped.", flush=True)


def add_testdrive_parser(sub: Any) -> None:
    p = sub.add_parser("testdrive", help="try the review gate locally: sample repo, server, "
                                         "an IPR to review (no GitHub or GitLab account)")
    p.add_argument("--dir", default="./atlantis-testdrive",
                   help="the folder it works in; nothing is written outside it")
    p.add_argument("--port", type=int, default=4141)
    p.set_defaults(func=run_testdrive)
