"""GitLabWebhooks: token checks and payload parsing on deliveries shaped like GitLab's
(tests/fixtures/gitlab: our own projects and users, GitLab's field names and types; the
*.legacy.json and *.subgroup.json files have the older GitLab 11-13 shape)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlantis_py.core.dispatch import event_pull_number, event_repo
from atlantis_py.domain.events import (
    CommentEvent,
    PullAction,
    PullRequestEvent,
    ReviewAction,
    ReviewEvent,
)
from atlantis_py.errors import ConfigError, MalformedWebhook
from atlantis_py.forges.base import Delivery
from atlantis_py.forges.gitlab import GitLabWebhooks
from atlantis_py.queue.payloads import pull_key
from tests.fakeforge.gitlab_payloads import FIXTURES

SECRET = "gitlab-hook-secret"
MR_HOOK, NOTE_HOOK = "Merge Request Hook", "Note Hook"


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _hooks() -> GitLabWebhooks:
    return GitLabWebhooks(SECRET)


def _headers(token: str | None = SECRET, event: str = MR_HOOK,
             uuid: str | None = "e-1") -> dict[str, str]:
    headers = {"X-Gitlab-Event": event}
    if token is not None:
        headers["X-Gitlab-Token"] = token
    if uuid is not None:
        headers["X-Gitlab-Event-UUID"] = uuid
    return headers


def test_empty_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        GitLabWebhooks("")
    assert SECRET not in repr(_hooks())


def test_recognises_only_gitlab_headers() -> None:
    hooks = _hooks()
    assert hooks.recognises({"X-Gitlab-Event": "Push Hook"})
    assert hooks.recognises({"x-gitlab-event": "Push Hook"})
    assert not hooks.recognises({"X-GitHub-Event": "pull_request"})


def test_right_token_verifies() -> None:
    assert _hooks().verify(_headers(), b"{}") == Delivery(
        forge="gitlab", delivery_id="e-1", event_type=MR_HOOK, handled=True)
    lower = {k.lower(): v for k, v in _headers(event=NOTE_HOOK).items()}
    delivery = _hooks().verify(lower, b"{}")
    assert delivery is not None and delivery.handled


@pytest.mark.parametrize("token", [None, "", "wrong", SECRET + " ", SECRET.upper()])
def test_missing_or_wrong_token_is_refused(token: str | None) -> None:
    assert _hooks().verify(_headers(token), b"{}") is None


def test_missing_event_uuid_is_refused() -> None:
    assert _hooks().verify(_headers(uuid=None), b"{}") is None


@pytest.mark.parametrize("event", ["Push Hook", "Pipeline Hook", "System Hook", "Issue Hook"])
def test_other_hooks_are_acknowledged_not_handled(event: str) -> None:
    delivery = _hooks().verify(_headers(event=event), b"{}")
    assert delivery is not None and not delivery.handled


# --- every stored delivery: which ones re-plan, which are ignored -----------------------

PLANNED = {
    "merge_request.open.json": PullAction.OPENED,
    "merge_request.open.legacy.json": PullAction.OPENED,
    "merge_request.open.subgroup.json": PullAction.OPENED,
    "merge_request.reopen.json": PullAction.OPENED,
    "merge_request.update.new_commits.json": PullAction.UPDATED,
    "merge_request.update.new_commits.legacy.json": PullAction.UPDATED,
    "merge_request.close.json": PullAction.CLOSED,
    "merge_request.merge.json": PullAction.MERGED,
}
# updates without `oldrev`: metadata only, nothing to re-plan
IGNORED = [
    "merge_request.update.assignee.json",
    "merge_request.update.description.json",
    "merge_request.update.edited.json",
    "merge_request.update.labels.json",
    "merge_request.update.mark_as_ready.json",
    "merge_request.update.milestone.json",
    "merge_request.update.mixed.json",
    "merge_request.update.no_code_change.json",
    "merge_request.update.reviewer.json",
    "merge_request.update.target_branch.json",
    "merge_request.update.title.json",
]
REVIEWS = ["merge_request.approved.json", "merge_request.unapproved.json"]


def test_every_fixture_is_covered() -> None:
    ours = {p.name for p in FIXTURES.glob("*.json")}
    notes = {p.name for p, *_ in NOTES}
    assert ours == set(PLANNED) | set(IGNORED) | set(REVIEWS) | notes
    assert {p.parent for p, *_ in NOTES} == {FIXTURES}


def test_ignored_updates_change_what_they_are_named_for() -> None:
    """Each ignored update really is the edit its name says, and none pushed commits."""
    for name in IGNORED:
        data = json.loads(_read(FIXTURES / name))
        assert data["object_attributes"]["action"] == "update", name
        assert "oldrev" not in data["object_attributes"], name
        kind = name.split(".")[2]
        expected = {"assignee": "assignees", "reviewer": "reviewers", "milestone": "milestone_id",
                    "mark_as_ready": "draft", "target_branch": "merge_status",
                    "edited": "title", "mixed": "title", "no_code_change": "updated_at"}
        assert expected.get(kind, kind) in data["changes"], name
    only = json.loads(_read(FIXTURES / "merge_request.update.no_code_change.json"))["changes"]
    assert set(only) == {"updated_at"}
    moved = json.loads(_read(FIXTURES / "merge_request.update.target_branch.json"))
    assert moved["object_attributes"]["target_branch"] != "main"


@pytest.mark.parametrize(
    ("path", "action"),
    [(FIXTURES / n, a) for n, a in PLANNED.items()],
    ids=lambda v: v.name if isinstance(v, Path) else str(v.value),
)
def test_pull_request_actions(path: Path, action: PullAction) -> None:
    data = json.loads(_read(path))
    event = _hooks().parse(MR_HOOK, _read(path))
    assert isinstance(event, PullRequestEvent)
    assert event.action is action
    mr = data["object_attributes"]
    pull = event.pull
    assert pull.repo.forge == "gitlab"
    assert pull.repo.full_name == data["project"]["path_with_namespace"]
    assert pull.repo.clone_url == data["project"]["git_http_url"]
    assert (pull.number, pull.head_sha) == (mr["iid"], mr["last_commit"]["id"])
    assert (pull.head_ref, pull.base_ref) == (mr["source_branch"], mr["target_branch"])
    assert pull.title == mr["title"] and pull.url == mr["url"]
    assert event.sender == data["user"]["username"]
    assert pull.author == (data["user"]["username"] if mr["action"] == "open" else "")


@pytest.mark.parametrize(
    "path",
    [FIXTURES / n for n in IGNORED],
    ids=lambda p: p.name,
)
def test_metadata_updates_do_not_replan(path: Path) -> None:
    assert _hooks().parse(MR_HOOK, _read(path)) is None


def test_open_fields() -> None:
    event = _hooks().parse(MR_HOOK, _read(FIXTURES / "merge_request.open.json"))
    assert isinstance(event, PullRequestEvent)
    assert event.pull.author == "alice"
    assert event.pull.number == 17
    assert event.pull.head_sha == "8c3f1d2e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c31"
    assert event.pull.head_ref == "alice/rds-parameter-group"
    assert event.pull.base_ref == "main"
    assert event.pull.url == "https://gitlab.acme.test/acme/infra/-/merge_requests/17"
    assert event.pull.repo.clone_url == "https://gitlab.acme.test/acme/infra.git"


def test_new_commits_carry_the_new_head() -> None:
    for name in ("merge_request.update.new_commits.json",
                 "merge_request.update.new_commits.legacy.json"):
        data = json.loads(_read(FIXTURES / name))
        event = _hooks().parse(MR_HOOK, _read(FIXTURES / name))
        assert isinstance(event, PullRequestEvent)
        assert event.pull.head_sha == data["object_attributes"]["last_commit"]["id"]
        assert event.pull.head_sha != data["object_attributes"]["oldrev"]


def test_legacy_payload_without_user_id_or_state_id() -> None:
    data = json.loads(_read(FIXTURES / "merge_request.open.legacy.json"))
    assert "id" not in data["user"] and "state_id" not in data["object_attributes"]
    event = _hooks().parse(MR_HOOK, _read(FIXTURES / "merge_request.open.legacy.json"))
    assert isinstance(event, PullRequestEvent)
    assert (event.pull.number, event.pull.author) == (9, "alice")


def test_approved_and_unapproved_are_reviews() -> None:
    approved = _hooks().parse(MR_HOOK, _read(FIXTURES / "merge_request.approved.json"))
    assert isinstance(approved, ReviewEvent)
    assert (approved.action, approved.state, approved.reviewer) == (
        ReviewAction.SUBMITTED, "approved", "bob")
    assert approved.pull.number == 17
    assert approved.pull.author == ""  # the hook names who approved, not the author
    unapproved = _hooks().parse(MR_HOOK, _read(FIXTURES / "merge_request.unapproved.json"))
    assert isinstance(unapproved, ReviewEvent)
    assert (unapproved.action, unapproved.state, unapproved.reviewer) == (
        ReviewAction.DISMISSED, "dismissed", "carol")
    assert unapproved.pull.number == 17


@pytest.mark.parametrize(("action", "state"), [("approval", "approved"),
                                               ("unapproval", "dismissed")])
def test_single_user_approval_actions(action: str, state: str) -> None:
    data = json.loads(_read(FIXTURES / "merge_request.approved.json"))
    data["object_attributes"]["action"] = action
    event = _hooks().parse(MR_HOOK, json.dumps(data).encode())
    assert isinstance(event, ReviewEvent) and event.state == state


@pytest.mark.parametrize("action", [None, "unknown", "update"])
def test_unknown_actions_are_ignored(action: str | None) -> None:
    data = json.loads(_read(FIXTURES / "merge_request.open.json"))
    data["object_attributes"]["action"] = action
    assert _hooks().parse(MR_HOOK, json.dumps(data).encode()) is None


# --- notes ------------------------------------------------------------------------------

NOTES = [
    (FIXTURES / "note.create.merge_request.json", "acme/infra", 17,
     "Can we keep `max_connections` at 500 until the load test is done?", "bob"),
    # before GitLab 15 a note has no `action`
    (FIXTURES / "note.create.merge_request.legacy.json", "acme/infra", 9,
     "Looks good, but please rebase on main first.", "bob"),
    (FIXTURES / "note.create.merge_request.subgroup.json",
     "acme/platform/networking/infra-live", 2, "atlantis plan -d eu-west-1/network", "carol"),
    # parsing does not know the allow-list; the worker refuses it later
    (FIXTURES / "note.create.merge_request.not_allowlisted.json", "contractors/scratch-infra", 4,
     "atlantis plan", "dave"),
]


@pytest.mark.parametrize(("path", "repo", "iid", "body", "author"), NOTES,
                         ids=lambda v: v.name if isinstance(v, Path) else None)
def test_notes_on_merge_requests_are_comments(path: Path, repo: str, iid: int,
                                              body: str, author: str) -> None:
    data = json.loads(_read(path))
    event = _hooks().parse(NOTE_HOOK, _read(path))
    assert isinstance(event, CommentEvent)
    assert (event.repo.forge, event.repo.full_name) == ("gitlab", repo)
    assert event.repo.clone_url == data["project"]["git_http_url"]
    assert (event.pull_number, event.author) == (iid, author)
    assert event.comment_id == data["object_attributes"]["id"]
    assert event.body == body == data["object_attributes"]["note"]


@pytest.mark.parametrize(
    ("change", "noteable"),
    [({"action": "update"}, "MergeRequest"), ({"system": True}, "MergeRequest"),
     ({}, "Issue"), ({}, "Commit"), ({}, "Snippet")],
)
def test_other_notes_are_ignored(change: dict[str, object], noteable: str) -> None:
    data = json.loads(_read(FIXTURES / "note.create.merge_request.json"))
    data["object_attributes"].update(change, noteable_type=noteable)
    if noteable != "MergeRequest":
        data.pop("merge_request")
    assert _hooks().parse(NOTE_HOOK, json.dumps(data).encode()) is None


def test_other_hooks_parse_to_none() -> None:
    assert _hooks().parse("Push Hook", b"{}") is None


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"object_attributes": {"action": "open"}}',
                                  b'{"object_attributes": {"action": {}}}', b"{" * 50_000])
def test_malformed_payload_is_a_malformed_webhook(body: bytes) -> None:
    with pytest.raises(MalformedWebhook, match="GitLab"):
        _hooks().parse(MR_HOOK, body)


@pytest.mark.parametrize(("event", "path", "field", "value"), [
    (NOTE_HOOK, FIXTURES / "note.create.merge_request.json", ("merge_request", "iid"), "17"),
    (NOTE_HOOK, FIXTURES / "note.create.merge_request.json", ("user",), ["bob"]),
    (NOTE_HOOK, FIXTURES / "note.create.merge_request.json", ("object_attributes", "note"),
     {"text": "atlantis plan"}),
    (MR_HOOK, FIXTURES / "merge_request.open.json", ("object_attributes", "last_commit"), "abc"),
    (MR_HOOK, FIXTURES / "merge_request.open.json", ("project", "path_with_namespace"), 7),
], ids=lambda v: ".".join(v) if isinstance(v, tuple) else None)
def test_a_field_of_the_wrong_type_is_named(event: str, path: Path, field: tuple[str, ...],
                                            value: object) -> None:
    data = json.loads(_read(path))
    holder = data
    for key in field[:-1]:
        holder = holder[key]
    holder[field[-1]] = value
    with pytest.raises(MalformedWebhook, match=".".join(field)):
        _hooks().parse(event, json.dumps(data).encode())


# --- serial keys ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("event", "path", "key"),
    [
        (MR_HOOK, FIXTURES / "merge_request.open.json", "gitlab:acme/infra#17"),
        (MR_HOOK, FIXTURES / "merge_request.merge.json", "gitlab:acme/infra#15"),
        (MR_HOOK, FIXTURES / "merge_request.open.subgroup.json",
         "gitlab:acme/platform/networking/infra-live#2"),
        (NOTE_HOOK, FIXTURES / "note.create.merge_request.subgroup.json",
         "gitlab:acme/platform/networking/infra-live#2"),
        (NOTE_HOOK, FIXTURES / "note.create.merge_request.json", "gitlab:acme/infra#17"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_serial_key(event: str, path: Path, key: str) -> None:
    parsed = _hooks().parse(event, _read(path))
    assert parsed is not None
    repo = event_repo(parsed)
    assert pull_key(repo.forge, repo.full_name, event_pull_number(parsed)) == key


@pytest.mark.parametrize("name", ["acme/x/../../other/secret", "acme/sub//infra",
                                  "acme/%2e%2e/x", "acme/infra?x=1", "acme"])
@pytest.mark.parametrize("event, fixture", [(MR_HOOK, "merge_request.open.json"),
                                            (NOTE_HOOK, "note.create.merge_request.json")])
def test_a_payload_naming_no_group_and_project_is_refused(event: str, fixture: str,
                                                          name: str) -> None:
    data = json.loads(_read(FIXTURES / fixture))
    data["project"]["path_with_namespace"] = name
    body = json.dumps(data).encode()
    with pytest.raises(MalformedWebhook, match="repository name"):
        _hooks().parse(event, body)
