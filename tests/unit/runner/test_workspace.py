"""Mirrors and per-PR worktrees against real git repositories."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import git
import pytest

from atlantis_py.domain.events import Repo
from atlantis_py.errors import TransientWorkspaceError, WorkspaceError
from atlantis_py.runner.workspace import Workspaces
from tests.unit.runner.conftest import AUTHOR, Origin


def test_worktree_is_reused_across_pushes(origin: Origin, workspaces: Workspaces) -> None:
    first = origin.commit({"main.tf": "# v1\n", "stale.tf": "# old\n", "env/a.tf": "#\n"}, "pr")
    with workspaces.checkout(origin.ref, 7, first, {}) as path:
        assert (path / "stale.tf").read_text() == "# old\n"
        (path / ".terraform").mkdir()
        (path / ".terraform" / "marker").write_text("init cache")
        (path / "env" / ".terraform").mkdir()
        (path / ".terraform.lock.hcl").write_text("# lock")
        (path / "untracked.tfvars").write_text("secret = 1")
        (path / "main.tf").write_text("# edited by a step")
        first_path = path

    second = origin.commit({"stale.tf": None, "new.tf": "# new\n", "main.tf": "# v2\n"}, "pr")
    with workspaces.checkout(origin.ref, 7, second, {}) as path:
        assert path == first_path == workspaces.worktree_path(origin.ref, 7)
        assert not (path / "stale.tf").exists()
        assert (path / "new.tf").read_text() == "# new\n"
        assert (path / "main.tf").read_text() == "# v2\n"
        assert (path / ".terraform" / "marker").read_text() == "init cache"
        assert (path / "env" / ".terraform").is_dir()
        assert (path / ".terraform.lock.hcl").exists()
        assert not (path / "untracked.tfvars").exists()
        assert git.Repo(path).head.commit.hexsha == second
    assert len(list((workspaces.root / "mirrors").rglob("*.git"))) == 1


def test_each_pull_request_gets_its_own_worktree(origin: Origin, workspaces: Workspaces) -> None:
    a = origin.commit({"a.tf": "#\n"}, "a")
    b = origin.commit({"b.tf": "#\n"}, "b")
    with (
        workspaces.checkout(origin.ref, 1, a, {}) as pa,
        workspaces.checkout(origin.ref, 2, b, {}) as pb,
    ):
        assert pa != pb
        assert (pa / "a.tf").exists() and not (pa / "b.tf").exists()
        assert (pb / "b.tf").exists() and not (pb / "a.tf").exists()


def test_read_file_at_a_ref(origin: Origin, workspaces: Workspaces) -> None:
    origin.commit({"workflows.yaml": "version: 1\n", "dir/x.tf": "#\n"})
    head = origin.commit({"workflows.yaml": "version: 2\n"}, "feature")
    workspaces.fetch(origin.ref, [], {})
    assert workspaces.read_file(origin.ref, "main", "workflows.yaml") == "version: 1\n"
    assert workspaces.read_file(origin.ref, "feature", "./workflows.yaml") == "version: 2\n"
    assert workspaces.read_file(origin.ref, head, "workflows.yaml") == "version: 2\n"
    assert workspaces.read_file(origin.ref, "main", "missing.yaml") is None
    assert workspaces.read_file(origin.ref, "main", "dir") is None
    with pytest.raises(WorkspaceError, match="not found"):
        workspaces.read_file(origin.ref, "no-such-branch", "workflows.yaml")
    for bad_ref in ("-p", "main:README.md", "HEAD@{1}", "a..b", ""):
        with pytest.raises(WorkspaceError, match="invalid ref"):
            workspaces.read_file(origin.ref, bad_ref, "workflows.yaml")
    for bad_path in ("../x", "/etc/passwd", ""):
        with pytest.raises(WorkspaceError, match="invalid path"):
            workspaces.read_file(origin.ref, "main", bad_path)


def test_changed_files_use_the_merge_base(origin: Origin, workspaces: Workspaces) -> None:
    origin.commit({"old/a.tf": "#\n", "keep.tf": "#\n"})
    head = origin.commit({"old/a.tf": None, "new/b.tf": "#\n"}, "feature")
    origin.commit({"only-on-main.tf": "#\n"})  # main moves on after the branch point
    workspaces.fetch(origin.ref, [head], {})
    assert workspaces.changed_files(origin.ref, "main", head) == ["new/b.tf", "old/a.tf"]


def test_commits_behind_the_base_head(origin: Origin, workspaces: Workspaces) -> None:
    head = origin.commit({"a.tf": "#\n"}, "feature")
    workspaces.fetch(origin.ref, [], {})
    assert workspaces.commits_behind(origin.ref, "main", head) == 0
    origin.commit({"b.tf": "#\n"})
    origin.commit({"c.tf": "#\n"})
    assert workspaces.commits_behind(origin.ref, "main", head) == 0, "the mirror, as fetched"
    workspaces.fetch(origin.ref, [], {})
    assert workspaces.commits_behind(origin.ref, "main", head) == 2
    feature, main = origin.repo.heads.feature, origin.repo.heads.main
    merged = origin.repo.index.commit("merge main", parent_commits=[feature.commit, main.commit],
                                      head=False, author=AUTHOR, committer=AUTHOR).hexsha
    feature.commit = merged
    workspaces.fetch(origin.ref, [], {})
    assert workspaces.commits_behind(origin.ref, "main", merged) == 0
    assert workspaces.commits_behind(origin.ref, "feature", origin.repo.heads.main.commit.hexsha) \
        == 2, "main lacks the feature commit and the merge"
    with pytest.raises(WorkspaceError, match="invalid ref"):
        workspaces.commits_behind(origin.ref, "main..x", head)
    with pytest.raises(WorkspaceError, match="not found"):
        workspaces.commits_behind(origin.ref, "gone", head)


def test_concurrent_fetches_are_safe(origin: Origin, workspaces: Workspaces) -> None:
    shas = [origin.commit({f"f{i}.tf": "#\n"}, f"b{i}") for i in range(4)]
    errors: list[BaseException] = []

    def job(pull: int, sha: str) -> None:
        try:
            workspaces.fetch(origin.ref, [sha], {})
            with workspaces.checkout(origin.ref, pull, sha, {}) as path:
                assert (path / f"f{pull - 1}.tf").exists()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=job, args=(i + 1, sha)) for i, sha in enumerate(shas)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_one_pull_request_is_used_by_one_job_at_a_time(
    origin: Origin, workspaces: Workspaces
) -> None:
    sha = origin.commit({"a.tf": "#\n"}, "pr")
    spans: list[tuple[float, float]] = []

    def job() -> None:
        with workspaces.checkout(origin.ref, 3, sha, {}):
            start = time.monotonic()
            time.sleep(0.2)
            spans.append((start, time.monotonic()))

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (_, first_end), (second_start, _) = sorted(spans)
    assert second_start >= first_end


def test_a_commit_only_reachable_from_a_pull_ref(origin: Origin, workspaces: Workspaces) -> None:
    sha = origin.commit({"pr.tf": "#\n"}, "tmp")
    origin.repo.create_head("unused")  # keep some branch so the fetch has work
    origin.repo.git.update_ref("refs/pull/5/head", sha)
    origin.repo.delete_head("tmp", force=True)
    with workspaces.checkout(origin.ref, 5, sha, {}) as path:
        assert (path / "pr.tf").exists()
    workspaces.fetch(origin.ref, ["refs/pull/5/head"], {})
    assert workspaces.read_file(origin.ref, "refs/pull/5/head", "pr.tf") == "#\n"


@pytest.mark.parametrize(
    "sha",
    ["abc123", "HEAD", "main", "A" * 40, "-" + "a" * 39, "a" * 41, "a" * 39 + "\n"],
)
def test_bad_sha_is_rejected(origin: Origin, workspaces: Workspaces, sha: str) -> None:
    with (
        pytest.raises(WorkspaceError, match="not a full commit sha"),
        workspaces.checkout(origin.ref, 1, sha, {}),
    ):
        pass
    assert not (workspaces.root / "worktrees").exists()


def test_unknown_sha_is_an_error(origin: Origin, workspaces: Workspaces) -> None:
    with pytest.raises(WorkspaceError), workspaces.checkout(origin.ref, 1, "0" * 40, {}):
        pass


def test_bad_branch_name_in_fetch(origin: Origin, workspaces: Workspaces) -> None:
    with pytest.raises(WorkspaceError, match="invalid ref"):
        workspaces.fetch(origin.ref, ["--upload-pack=touch /tmp/x"], {})


@pytest.mark.parametrize("full_name", ["../escape", "acme/..", "acme/-x/..", "a//b"])
def test_unsafe_repository_names(tmp_path: Path, full_name: str) -> None:
    spaces = Workspaces(tmp_path)
    with pytest.raises(WorkspaceError, match="unsafe repository name"):
        spaces.mirror_path(Repo("github", full_name, "https://example.invalid/x.git"))


def test_remove_deletes_the_worktree(origin: Origin, workspaces: Workspaces) -> None:
    sha = origin.commit({"a.tf": "#\n"}, "pr")
    with workspaces.checkout(origin.ref, 9, sha, {}) as path:
        pass
    workspaces.remove(origin.ref, 9)
    assert not path.exists()
    mirror = git.Repo(workspaces.mirror_path(origin.ref))
    assert str(path) not in mirror.git.worktree("list")
    workspaces.remove(origin.ref, 9)  # idempotent
    with workspaces.checkout(origin.ref, 9, sha, {}) as again:
        assert (again / "a.tf").exists()


def test_a_deleted_worktree_directory_is_recreated(origin: Origin, workspaces: Workspaces) -> None:
    sha = origin.commit({"a.tf": "#\n"}, "pr")
    with workspaces.checkout(origin.ref, 4, sha, {}) as path:
        pass
    shutil.rmtree(path)
    with workspaces.checkout(origin.ref, 4, sha, {}) as path:
        assert (path / "a.tf").exists()


def test_fetch_failure_is_a_workspace_error(tmp_path: Path, workspaces: Workspaces) -> None:
    missing = Repo("github", "acme/gone", str(tmp_path / "nowhere"))
    with pytest.raises(WorkspaceError, match="git fetch failed"):
        workspaces.fetch(missing, [], {"GIT_TERMINAL_PROMPT": "0"})


def test_a_rebuilt_mirror_gets_a_fresh_worktree(origin: Origin, workspaces: Workspaces) -> None:
    sha = origin.commit({"a.tf": "#\n"}, "pr")
    with workspaces.checkout(origin.ref, 6, sha, {}):
        pass
    shutil.rmtree(workspaces.mirror_path(origin.ref))
    with workspaces.checkout(origin.ref, 6, sha, {}) as path:
        assert (path / "a.tf").exists()


def test_branch_names_that_only_exist_in_a_fork(origin: Origin, workspaces: Workspaces) -> None:
    """A fork's head branch is not in the base repository: fetch must not fail."""
    workspaces.fetch(origin.ref, ["main", "feature/from-a-fork"], {})
    assert workspaces.read_file(origin.ref, "main", "README.md") == "hello\n"


@pytest.fixture
def git_host() -> Iterator[Callable[[int], str]]:
    """A git host over HTTP that answers every request with the given status."""
    servers: list[ThreadingHTTPServer] = []

    def serve(status: int) -> str:
        class Answer(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/acme/infra.git"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status, transient", [
    pytest.param(502, True, id="502-forge-down"),
    pytest.param(503, True, id="503"),
    pytest.param(404, False, id="404-no-such-repository"),
    pytest.param(403, False, id="403-refused"),
])
def test_a_fetch_the_forge_fails_for_now_is_transient(
        workspaces: Workspaces, git_host: Callable[[int], str], status: int,
        transient: bool) -> None:
    repo = Repo(forge="github", full_name="acme/infra", clone_url=git_host(status))
    with pytest.raises(WorkspaceError) as err:
        workspaces.fetch(repo, ["main"], {})
    assert isinstance(err.value, TransientWorkspaceError) is transient
    assert "git fetch failed" in str(err.value)


def test_a_fetch_from_an_unreachable_host_is_transient(workspaces: Workspaces) -> None:
    repo = Repo(forge="github", full_name="acme/infra",
                clone_url="http://127.0.0.1:9/acme/infra.git")
    with pytest.raises(TransientWorkspaceError, match="git fetch failed"):
        workspaces.fetch(repo, ["main"], {})


def test_the_remote_names_its_default_branch_and_its_head(origin: Origin,
                                                          workspaces: Workspaces) -> None:
    """What the drift scheduler asks over git, with no forge API call."""
    first = origin.commit({"main.tf": "# v1\n"})
    assert workspaces.remote_default_branch(origin.ref, {}) == "main"
    origin.commit({"trunk.tf": "#\n"}, "trunk")
    origin.repo.git.symbolic_ref("HEAD", "refs/heads/trunk")  # the default branch renamed
    assert workspaces.remote_default_branch(origin.ref, {}) == "trunk"
    workspaces.fetch(origin.ref, ["main"], {})
    assert workspaces.commit_of(origin.ref, "main") == first
    with workspaces.checkout_drift(origin.ref, first, {}) as tree:
        assert (tree / "main.tf").read_text() == "# v1\n"
        assert tree != workspaces.worktree_path(origin.ref, 1)
