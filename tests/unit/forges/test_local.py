"""LocalForge against real git repositories and a real database: the checks the
GitHub and GitLab forge tests make, where a forge on disk has them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py.domain.events import PullAction, PullRequestEvent
from atlantis_py.domain.forge import ChangedFile, FileStatus, Mergeability, Merged, StatusState
from atlantis_py.domain.records import Role
from atlantis_py.errors import ForgeError, MalformedWebhook
from atlantis_py.forges.base import Forge
from atlantis_py.forges.local import LocalForge, find_repositories, parse_name_status
from atlantis_py.forges.local_hooks import (
    DELIVERY_HEADER,
    MARK,
    SECRET_HEADER,
    SETTINGS_FILE,
    PushHooks,
)
from atlantis_py.forges.local_push import LocalPushes
from atlantis_py.store.db import Database
from atlantis_py.store.local_forge import LocalForgeStore
from atlantis_py.store.tokens import TokenStore
from tests.fakeforge.gitrepos import BareRepo

REPO = "local/infra"
FILES = {
    "README.md": "infra\n",
    "envs/prod/main.tf": 'resource "terraform_data" "a" {}\n',
    "old/legacy.tf": "# legacy\n",
    "modules/net/main.tf": "# network\n" * 20,
}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    db = Database("sqlite:///" + str(tmp_path / "atlantis.db"))
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "repos"


@pytest.fixture
def repo(root: Path) -> BareRepo:
    bare = BareRepo.create(root / "infra.git", FILES)
    bare.commit("feature", {"envs/prod/main.tf": 'resource "terraform_data" "b" {}\n',
                            "envs/dev/main.tf": "# new\n", "old/legacy.tf": None,
                            "modules/net/main.tf": None,
                            "modules/network/main.tf": "# network\n" * 20},
                "Change things", start="main")
    return bare


@pytest.fixture
def forge(root: Path, db: Database, repo: BareRepo) -> LocalForge:
    return LocalForge(root, LocalForgeStore(db))


def test_it_satisfies_the_forge_protocol(forge: LocalForge) -> None:
    as_forge: Forge = forge
    assert as_forge.name == "local"
    assert as_forge.comment_limit > 65536


def test_its_clone_url_is_the_repository_folder(forge: LocalForge, repo: BareRepo) -> None:
    assert forge.clone_url("local/infra") == str(repo.path.resolve())


def test_repositories_are_named_by_their_path_under_the_root(root: Path,
                                                             repo: BareRepo) -> None:
    BareRepo.create(root / "team" / "network.git", {"a.tf": "#\n"})
    subprocess.run(["git", "init", "-q", str(root / "work")], check=True)
    (root / "notes").mkdir()
    found = find_repositories(root)
    assert found == {"local/infra": repo.path.resolve(),
                     "local/team/network": (root / "team" / "network.git").resolve(),
                     "local/work": (root / "work").resolve()}


def test_create_pull_and_read_it_back(forge: LocalForge, repo: BareRepo) -> None:
    pull = forge.create_pull(REPO, "feature", "main", "Change things", "why", "alice")
    assert pull.number == 1
    assert pull.repo.forge == "local" and pull.repo.full_name == REPO
    assert pull.repo.clone_url == str(repo.path.resolve())
    assert (pull.head_sha, pull.head_ref, pull.base_ref) == (repo.rev_parse("feature"),
                                                            "feature", "main")
    assert pull.author == "alice"  # who opened it, not the head commit's author
    assert forge.pull_request(REPO, 1) == pull
    repo.commit("other", {"x.tf": "#\n"}, "other", start="main")
    assert forge.create_pull(REPO, "other", "main", "Other", "", "alice").number == 2


def test_a_second_open_pull_from_the_same_branch_is_refused(forge: LocalForge) -> None:
    forge.create_pull(REPO, "feature", "main", "One", "", "alice")
    with pytest.raises(ForgeError, match="already open") as err:
        forge.create_pull(REPO, "feature", "main", "Two", "", "alice")
    assert err.value.status == 422


@pytest.mark.parametrize(("repo_name", "head", "base", "status", "words"), [
    (REPO, "nope", "main", 422, "no branch 'nope'"),
    (REPO, "feature", "nope", 422, "no branch 'nope'"),
    (REPO, "main", "main", 422, "both"),
    ("local/other", "feature", "main", 404, "no repository local/other"),
    ("local/../infra", "feature", "main", 422, "not allowed"),
    ("acme/infra", "feature", "main", 404, "names are local/"),
])
def test_refusals_name_what_is_wrong(forge: LocalForge, repo_name: str, head: str, base: str,
                                     status: int, words: str) -> None:
    with pytest.raises(ForgeError, match=words) as err:
        forge.create_pull(repo_name, head, base, "t", "", "alice")
    assert err.value.status == status


def test_an_unknown_pull_request_is_a_404(forge: LocalForge) -> None:
    for call in (lambda: forge.pull_request(REPO, 9), lambda: forge.changed_files(REPO, 9),
                 lambda: forge.post_comment(REPO, 9, "hi"), lambda: forge.reviews(REPO, 9)):
        with pytest.raises(ForgeError) as err:
            call()
        assert err.value.status == 404


def test_changed_files_with_renames_and_removals(forge: LocalForge) -> None:
    forge.create_pull(REPO, "feature", "main", "t", "", "alice")
    assert sorted(forge.changed_files(REPO, 1), key=lambda f: f.path) == [
        ChangedFile("envs/dev/main.tf", FileStatus.ADDED),
        ChangedFile("envs/prod/main.tf", FileStatus.MODIFIED),
        ChangedFile("modules/network/main.tf", FileStatus.RENAMED, "modules/net/main.tf"),
        ChangedFile("old/legacy.tf", FileStatus.REMOVED),
    ]


def test_changed_files_are_those_since_the_merge_base(forge: LocalForge,
                                                      repo: BareRepo) -> None:
    forge.create_pull(REPO, "feature", "main", "t", "", "alice")
    repo.commit("main", {"elsewhere.tf": "#\n"}, "moved on")
    assert "elsewhere.tf" not in {f.path for f in forge.changed_files(REPO, 1)}


def test_name_status_parsing() -> None:
    out = "M\0a.tf\0R100\0old.tf\0new.tf\0D\0gone.tf\0A\0b c.tf\0"
    assert parse_name_status(out) == [
        ChangedFile("a.tf"), ChangedFile("new.tf", FileStatus.RENAMED, "old.tf"),
        ChangedFile("gone.tf", FileStatus.REMOVED), ChangedFile("b c.tf", FileStatus.ADDED)]


def test_comments_are_kept_in_order_by_the_bot(forge: LocalForge) -> None:
    forge.create_pull(REPO, "feature", "main", "t", "", "alice")
    forge.post_comment(REPO, 1, "first")
    forge.post_comment(REPO, 1, "second ✓")
    assert [(c.author, c.body) for c in forge.comments(REPO, 1)] == [
        ("atlantis", "first"), ("atlantis", "second ✓")]
    assert forge.comments(REPO, 2) == []


def test_statuses_are_kept_per_commit_and_context(forge: LocalForge, db: Database,
                                                  repo: BareRepo) -> None:
    sha = repo.rev_parse("feature")
    forge.set_status(REPO, sha, "atlantis/plan", StatusState.PENDING, "planning")
    forge.set_status(REPO, sha, "atlantis/plan", StatusState.SUCCESS, "2 planned")
    assert LocalForgeStore(db).statuses(REPO, sha) == {"atlantis/plan": "success"}


def test_write_access_is_the_role_of_the_users_tokens(forge: LocalForge, db: Database) -> None:
    tokens = TokenStore(db)
    tokens.create("vera", Role.VIEWER)
    tokens.create("bob", Role.REVIEWER)
    tokens.create("ann", Role.ADMIN)
    tokens.create("ann", Role.VIEWER)
    assert [forge.can_run_commands(REPO, u) for u in ("vera", "bob", "ann", "BOB", "zed")] == \
        [False, True, True, True, False]
    assert [forge.can_approve(REPO, u) for u in ("vera", "bob", "zed")] == [False, True, False]
    assert forge.in_team("acme/platform", "bob") is False


def test_reviews_live_in_the_review_table_not_here(forge: LocalForge) -> None:
    forge.create_pull(REPO, "feature", "main", "t", "", "alice")
    assert forge.reviews(REPO, 1) == []


def test_default_branch_is_the_repositorys_head(forge: LocalForge, repo: BareRepo) -> None:
    assert forge.default_branch(REPO) == "main"
    repo.git("symbolic-ref", "HEAD", "refs/heads/feature")
    assert forge.default_branch(REPO) == "feature"


def test_mergeable_clean_and_conflict(forge: LocalForge, repo: BareRepo) -> None:
    forge.create_pull(REPO, "feature", "main", "t", "", "alice")
    assert forge.mergeable(REPO, 1) == Mergeability(True, "clean")
    repo.commit("main", {"envs/prod/main.tf": 'resource "terraform_data" "c" {}\n'}, "clash")
    assert forge.mergeable(REPO, 1) == Mergeability(False, "conflict")


def test_clone_env_holds_no_secret(forge: LocalForge) -> None:
    assert forge.clone_env == {"GIT_TERMINAL_PROMPT": "0"}


def test_a_successful_apply_merges_into_the_base_with_a_merge_commit(
        forge: LocalForge, repo: BareRepo, db: Database) -> None:
    pull = forge.create_pull(REPO, "feature", "main", "Change things", "", "alice")
    base_before = repo.rev_parse("main")
    forge.set_status(REPO, pull.head_sha, "atlantis/apply", StatusState.PENDING, "applying")
    assert repo.rev_parse("main") == base_before
    forge.set_status(REPO, pull.head_sha, "atlantis/apply", StatusState.SUCCESS, "1/1 applied")
    merged = repo.rev_parse("main")
    parents = repo.git("rev-list", "--parents", "-n", "1", merged).split()[1:]
    assert parents == [base_before, pull.head_sha]  # --no-ff: a merge commit
    assert "Merge feature into main" in repo.git("log", "-1", "--format=%s", merged)
    found = LocalForgeStore(db).pull(REPO, 1)
    assert found is not None and found.state == "merged"
    assert len(repo.git("worktree", "list").splitlines()) == 1  # the scratch one is gone
    assert not any((repo.path / "atlantis-merges").iterdir())
    forge.set_status(REPO, pull.head_sha, "atlantis/apply", StatusState.SUCCESS, "again")
    assert repo.rev_parse("main") == merged  # merged once


def test_a_merge_conflict_is_said_on_the_pull_request(forge: LocalForge,
                                                      repo: BareRepo) -> None:
    pull = forge.create_pull(REPO, "feature", "main", "t", "", "alice")
    clash = repo.commit("main", {"envs/prod/main.tf": "# clash\n"}, "clash")
    forge.set_status(REPO, pull.head_sha, "atlantis/apply", StatusState.SUCCESS, "applied")
    assert repo.rev_parse("main") == clash
    assert "**Not merged**" in forge.comments(REPO, 1)[-1].body


def test_automerge_merges_and_deletes_the_branch(forge: LocalForge, repo: BareRepo,
                                                 db: Database) -> None:
    pull = forge.create_pull(REPO, "feature", "main", "Change things", "", "alice")
    assert forge.merge_pull(REPO, 1, pull.head_sha, delete_branch=True) == Merged(True)
    assert repo.merge_base(repo.rev_parse("main"), pull.head_sha) == pull.head_sha
    assert repo.branch_sha("feature") is None
    found = LocalForgeStore(db).pull(REPO, 1)
    assert found is not None and found.state == "merged"
    with pytest.raises(ForgeError, match="merged"):
        forge.merge_pull(REPO, 1, pull.head_sha, delete_branch=False)


def test_automerge_of_a_conflict_raises_and_keeps_the_branch(forge: LocalForge,
                                                             repo: BareRepo) -> None:
    pull = forge.create_pull(REPO, "feature", "main", "t", "", "alice")
    repo.commit("main", {"envs/prod/main.tf": "# clash\n"}, "clash")
    with pytest.raises(ForgeError, match="does not merge cleanly"):
        forge.merge_pull(REPO, 1, pull.head_sha, delete_branch=True)
    assert repo.branch_sha("feature") == pull.head_sha


# --- the push hook's deliveries ----------------------------------------------------------


def push_body(ref: str = "refs/heads/feature") -> bytes:
    return json.dumps({"repo": REPO, "ref": ref, "after": "0" * 40}).encode()


def test_push_deliveries_need_the_secret(forge: LocalForge) -> None:
    pushes = LocalPushes(forge, "s3cret")
    good = {SECRET_HEADER: "s3cret", DELIVERY_HEADER: "d1"}
    assert pushes.recognises(good)
    assert not pushes.recognises({"X-GitHub-Event": "push"})
    delivery = pushes.verify(good, push_body())
    assert delivery is not None and (delivery.forge, delivery.delivery_id) == ("local", "d1")
    assert pushes.verify({SECRET_HEADER: "wrong", DELIVERY_HEADER: "d1"}, push_body()) is None
    assert pushes.verify({SECRET_HEADER: "s3cret"}, push_body()) is None


def test_a_push_to_an_open_pulls_branch_is_an_update(forge: LocalForge) -> None:
    pushes = LocalPushes(forge, "s")
    assert pushes.parse("push", push_body()) is None  # no pull request yet
    pull = forge.create_pull(REPO, "feature", "main", "t", "", "alice")
    event = pushes.parse("push", push_body())
    assert event == PullRequestEvent(pull=pull, action=PullAction.UPDATED, sender=pull.author)
    assert pushes.parse("push", push_body("refs/heads/main")) is None
    assert pushes.parse("push", push_body("refs/tags/v1")) is None
    merged = pushes.parse("push", json.dumps({"repo": REPO, "merged": 1}).encode())
    assert isinstance(merged, PullRequestEvent) and merged.action is PullAction.MERGED


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"repo": "local/infra"}'])
def test_malformed_pushes_are_refused(forge: LocalForge, body: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        LocalPushes(forge, "s").parse("push", body)


def test_hooks_are_installed_with_a_private_settings_file(root: Path, repo: BareRepo,
                                                          tmp_path: Path) -> None:
    other = BareRepo.create(root / "own-hook.git", {"a.tf": "#\n"})
    (other.path / "hooks" / "post-receive").write_text("#!/bin/sh\necho mine\n")
    hooks = PushHooks(root, tmp_path / "data" / "push.json")
    assert hooks.install_all() == []  # the server is not listening yet
    hooks.configure("http://127.0.0.1:1/events", "hook-secret")
    assert (tmp_path / "data" / "push.json").stat().st_mode & 0o077 == 0
    assert hooks.install_all() == ["local/infra"]
    hook = repo.path / "hooks" / "post-receive"
    assert hook.stat().st_mode & 0o111
    settings = repo.path / "hooks" / SETTINGS_FILE
    assert settings.stat().st_mode & 0o077 == 0
    assert json.loads(settings.read_text()) == {"repo": REPO, "url": "http://127.0.0.1:1/events",
                                                "secret": "hook-secret"}
    assert "hook-secret" not in hook.read_text()
    assert (other.path / "hooks" / "post-receive").read_text() == "#!/bin/sh\necho mine\n"


def test_the_scan_puts_the_hook_into_new_repositories_and_back_where_removed(
        root: Path, repo: BareRepo, tmp_path: Path) -> None:
    hooks = PushHooks(root, tmp_path / "push.json")
    hooks.configure("http://127.0.0.1:1/events", "s1")
    assert hooks.install_all() == ["local/infra"]
    hook = repo.path / "hooks" / "post-receive"
    written = hook.stat().st_mtime_ns
    assert hooks.install_all() == ["local/infra"] and hook.stat().st_mtime_ns == written
    hook.unlink()
    later = BareRepo.create(root / "team" / "later.git", {"a.tf": "#\n"})
    assert hooks.install_all() == ["local/infra", "local/team/later"]
    assert MARK in hook.read_text()
    assert MARK in (later.path / "hooks" / "post-receive").read_text()
    hooks.configure("http://127.0.0.1:2/events", "s2")  # a restart: a new port and secret
    hooks.install_all()
    assert json.loads((repo.path / "hooks" / SETTINGS_FILE).read_text())["secret"] == "s2"


def test_opening_a_pull_request_installs_the_hook(db: Database, root: Path, repo: BareRepo,
                                                  tmp_path: Path) -> None:
    hooks = PushHooks(root, tmp_path / "push.json")
    hooks.configure("http://127.0.0.1:1/events", "s")
    forge = LocalForge(root, LocalForgeStore(db), hooks=hooks)
    forge.create_pull(REPO, "feature", "main", "t", "", "alice")
    assert MARK in (repo.path / "hooks" / "post-receive").read_text()
