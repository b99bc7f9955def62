"""GitLabWebhooks: token checks and payload parsing on real GitLab deliveries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlantis_py.domain.events import (
    CommentEvent,
    PullAction,
    PullRequestEvent,
    ReviewAction,
    ReviewEvent,
)
from atlantis_py.errors import ConfigError, ForgeError
from atlantis_py.forges.base import Delivery
from atlantis_py.forges.gitlab import GitLabWebhooks
from tests.fakeforge.gitlab_payloads import FIXTURES

ATLANTIS = FIXTURES.parent / "atlantis-testdata" / "server"
EVENTS = ATLANTIS / "events" / "testdata"
CONTROLLERS = ATLANTIS / "controllers" / "events" / "testdata"
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
    "merge_request.reopen.json": PullAction.OPENED,
    "merge_request.update.new_commits.json": PullAction.UPDATED,
    "merge_request.close.json": PullAction.CLOSED,
    "merge_request.merge.json": PullAction.MERGED,
}
IGNORED = ["merge_request.update.edited.json", "merge_request.update.no_code_change.json"]
ATLANTIS_PLANNED = {
    "gitlab-merge-request-event.json": PullAction.OPENED,
    "gitlab-merge-request-event-subgroup.json": PullAction.OPENED,
    "gitlab-merge-request-event-update-new-commit.json": PullAction.UPDATED,
}
ATLANTIS_IGNORED = [
    "gitlab-merge-request-event-mark-as-ready.json",
    "gitlab-merge-request-event-update-assignee.json",
    "gitlab-merge-request-event-update-description.json",
    "gitlab-merge-request-event-update-labels.json",
    "gitlab-merge-request-event-update-milestone.json",
    "gitlab-merge-request-event-update-mixed.json",
    "gitlab-merge-request-event-update-reviewer.json",
    "gitlab-merge-request-event-update-target-branch.json",
    "gitlab-merge-request-event-update-title.json",
]


def test_every_fixture_is_covered() -> None:
    ours = {p.name for p in FIXTURES.glob("*.json")}
    assert ours == set(PLANNED) | set(IGNORED) | {
        "merge_request.approved.json", "merge_request.unapproved.json",
        "note.create.merge_request.json"}
    theirs = {p.name for p in EVENTS.glob("gitlab-merge-request-event*.json")}
    assert theirs == set(ATLANTIS_PLANNED) | set(ATLANTIS_IGNORED)


@pytest.mark.parametrize(
    ("path", "action"),
    [(FIXTURES / n, a) for n, a in PLANNED.items()]
    + [(EVENTS / n, a) for n, a in ATLANTIS_PLANNED.items()],
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
    [FIXTURES / n for n in IGNORED] + [EVENTS / n for n in ATLANTIS_IGNORED],
    ids=lambda p: p.name,
)
def test_metadata_updates_do_not_replan(path: Path) -> None:
    assert _hooks().parse(MR_HOOK, _read(path)) is None


def test_open_fields_from_the_woodpecker_delivery() -> None:
    event = _hooks().parse(MR_HOOK, _read(FIXTURES / "merge_request.open.json"))
    assert isinstance(event, PullRequestEvent)
    assert event.pull.author == "real6543"
    assert event.pull.head_sha == "2f7670508b771e7e77839402be8b34b13787aba8"
    assert event.pull.head_ref == "real6543-main-patch-42541"


def test_approved_and_unapproved_are_reviews() -> None:
    approved = _hooks().parse(MR_HOOK, _read(FIXTURES / "merge_request.approved.json"))
    assert isinstance(approved, ReviewEvent)
    assert (approved.action, approved.state, approved.reviewer) == (
        ReviewAction.SUBMITTED, "approved", "anbraten")
    assert approved.pull.number == 3
    unapproved = _hooks().parse(MR_HOOK, _read(FIXTURES / "merge_request.unapproved.json"))
    assert isinstance(unapproved, ReviewEvent)
    assert (unapproved.action, unapproved.state, unapproved.reviewer) == (
        ReviewAction.DISMISSED, "dismissed", "real6543")


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
    (FIXTURES / "note.create.merge_request.json", "gitlab-org/gitlab-test", 1,
     "This MR needs work.", "root"),
    (EVENTS / "gitlab-merge-request-comment-event.json", "gitlabhq/gitlab-test", 1, None, "root"),
    (EVENTS / "gitlab-merge-request-comment-event-subgroup.json",
     "lkysow-test/subgroup/sub-subgroup/atlantis-example", 2, "atlantis plan", "lkysow"),
    (CONTROLLERS / "gitlabMergeCommentEvent_notAllowlisted.json", "gitlabhq/gitlab-test", 1,
     None, "root"),
    (CONTROLLERS / "gitlabMergeCommentEvent_shouldIgnore.json", "gitlabhq/gitlab-test", 1,
     None, "root"),
]


@pytest.mark.parametrize(("path", "repo", "iid", "body", "author"), NOTES,
                         ids=lambda v: v.name if isinstance(v, Path) else None)
def test_notes_on_merge_requests_are_comments(path: Path, repo: str, iid: int,
                                              body: str | None, author: str) -> None:
    data = json.loads(_read(path))
    event = _hooks().parse(NOTE_HOOK, _read(path))
    assert isinstance(event, CommentEvent)
    assert (event.repo.forge, event.repo.full_name) == ("gitlab", repo)
    assert event.repo.clone_url == data["project"]["git_http_url"]
    assert (event.pull_number, event.author) == (iid, author)
    assert event.comment_id == data["object_attributes"]["id"]
    assert event.body == (body if body is not None else data["object_attributes"]["note"])


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


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"object_attributes": {}}'])
def test_malformed_payload_is_a_forge_error(body: bytes) -> None:
    with pytest.raises(ForgeError, match="malformed GitLab"):
        _hooks().parse(MR_HOOK, body)


# --- serial keys ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("event", "path", "key"),
    [
        (MR_HOOK, FIXTURES / "merge_request.open.json",
         "gitlab:demoaccount2-commits-group/test_ci_tmp#3"),
        (MR_HOOK, EVENTS / "gitlab-merge-request-event-subgroup.json",
         "gitlab:lkysow-test/subgroup/sub-subgroup/atlantis-example#2"),
        (NOTE_HOOK, EVENTS / "gitlab-merge-request-comment-event-subgroup.json",
         "gitlab:lkysow-test/subgroup/sub-subgroup/atlantis-example#2"),
        (NOTE_HOOK, FIXTURES / "note.create.merge_request.json", "gitlab:gitlab-org/gitlab-test#1"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_serial_key(event: str, path: Path, key: str) -> None:
    assert _hooks().serial_key(event, _read(path)) == key


def test_serial_key_without_merge_request_is_per_project() -> None:
    data = json.loads(_read(FIXTURES / "note.create.merge_request.json"))
    data.pop("merge_request")
    assert _hooks().serial_key(NOTE_HOOK, json.dumps(data).encode()) == \
        "gitlab:gitlab-org/gitlab-test"


@pytest.mark.parametrize("body", [b"not json", b"[]", b"{}", b'{"project": {}}',
                                  b'{"project": {"path_with_namespace": 5}}'])
def test_serial_key_of_malformed_payload_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        _hooks().serial_key(MR_HOOK, body)
