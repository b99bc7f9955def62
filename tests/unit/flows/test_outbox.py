"""A job's forge writes through its journal: sent once, kept back in order while
the forge refuses them for now, and sent by the retry before anything else."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.forge import ChangedFile, Comment, Mergeability, Merged, Review, StatusState
from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.domain.writes import ForgeWrite, WriteKind, marker
from atlantis_py.errors import ForgeError, TransientError, TransientForgeError
from atlantis_py.flows.outbox import Outbox

SHA = "c" * 40
MARKER = re.compile(r"\n\n<!-- atlantis-py job=\d+ part=[0-9a-f]{16} -->\n$")


class MemoryJournal:
    def __init__(self) -> None:
        self.rows: list[tuple[int, int, ForgeWrite, bool]] = []  # (id, job, write, posted)
        self.done: set[int] = set()

    def posted(self, job_id: int) -> set[str]:
        return {w.digest for _, j, w, p in self.rows if j == job_id and p}

    def pending(self, job_id: int) -> list[tuple[int, ForgeWrite]]:
        return [(i, w) for i, j, w, p in self.rows if j == job_id and not p]

    def record(self, job_id: int, write: ForgeWrite, *, posted: bool) -> None:
        self.rows.append((len(self.rows) + 1, job_id, write, posted))

    def mark_posted(self, entry_id: int) -> None:
        self.rows = [(i, j, w, p or i == entry_id) for i, j, w, p in self.rows]

    def work_done(self, job_id: int) -> bool:
        return job_id in self.done

    def set_work_done(self, job_id: int) -> None:
        self.done.add(job_id)


class ScriptedForge:
    """Records writes that arrive; `refuse` decides per write whether to raise."""

    name = "github"
    comment_limit = 65536

    def __init__(self) -> None:
        self.arrived: list[str] = []  # comments without their marker
        self.bodies: list[Comment] = []  # comments as posted
        self.refuse: Callable[[str], Exception | None] = lambda what: None
        self.lands = False  # a refused write takes effect all the same
        self.listed = 0

    def _write(self, what: str) -> None:
        error = self.refuse(what)
        if error is not None and not self.lands:
            raise error
        self.arrived.append(what)
        if error is not None:
            raise error

    def post_comment(self, repo: str, number: int, body: str) -> None:
        try:
            self._write(f"comment {MARKER.sub('', body)}")
        finally:
            if self.arrived and self.arrived[-1] == f"comment {MARKER.sub('', body)}":
                self.bodies.append(Comment("atlantis", body))

    def comments(self, repo: str, number: int) -> list[Comment]:
        self.listed += 1
        return list(self.bodies)

    def set_status(self, repo: str, sha: str, context: str, state: StatusState,
                   description: str) -> None:
        self._write(f"status {context} {state.value}")

    def pull_request(self, repo: str, number: int) -> PullRequest:
        raise NotImplementedError

    def changed_files(self, repo: str, number: int) -> list[ChangedFile]:
        return []

    def reviews(self, repo: str, number: int) -> list[Review]:
        return []

    def can_run_commands(self, repo: str, user: str) -> bool:
        return True

    def in_team(self, team: str, user: str) -> bool:
        return False

    def can_approve(self, repo: str, user: str) -> bool:
        return True

    def default_branch(self, repo: str) -> str:
        return "main"

    def mergeable(self, repo: str, number: int) -> Mergeability:
        return Mergeability(mergeable=True)

    def merge_pull(self, repo: str, number: int, head_sha: str, *,
                   delete_branch: bool) -> Merged:
        return Merged()

    def create_pull(self, repo: str, head: str, base: str, title: str, body: str,
                    opened_by: str) -> PullRequest:
        raise NotImplementedError

    @property
    def clone_env(self) -> dict[str, str]:
        return {}


JOB = Job(12, "webhook", "github:acme/infra#4", "", 1, JobStatus.RUNNING)


def report(outbox: Outbox) -> None:
    """What a plan flow sends: its comment, then its status."""
    forge = outbox.forges["github"]
    forge.post_comment("acme/infra", 4, "plan")
    forge.set_status("acme/infra", SHA, "atlantis/plan", StatusState.SUCCESS, "1/1 planned")


@pytest.fixture
def forge() -> ScriptedForge:
    return ScriptedForge()


@pytest.fixture
def outbox(forge: ScriptedForge) -> Outbox:
    return Outbox(MemoryJournal(), {"github": forge}, bot_users={"github": "atlantis"})


def test_outside_a_job_writes_go_straight_to_the_forge(forge: ScriptedForge,
                                                       outbox: Outbox) -> None:
    forge.refuse = lambda what: TransientForgeError("502")
    with pytest.raises(TransientForgeError):
        report(outbox)
    forge.refuse = lambda what: None
    report(outbox)
    report(outbox)
    assert forge.arrived == ["comment plan", "status atlantis/plan success"] * 2


def test_a_retried_job_skips_what_it_sent_before(forge: ScriptedForge, outbox: Outbox) -> None:
    for _ in range(2):
        with outbox.attempt(JOB) as attempt:
            attempt.flush()
            report(outbox)
            report(outbox)
            attempt.finish()
    assert forge.arrived == ["comment plan", "status atlantis/plan success"]


def test_a_write_refused_for_now_is_kept_with_all_after_it(forge: ScriptedForge,
                                                           outbox: Outbox) -> None:
    forge.refuse = lambda what: (TransientForgeError("rate limited", retry_after=30)
                                 if what.startswith("comment") else None)
    with outbox.attempt(JOB) as attempt:
        attempt.flush()
        report(outbox)  # the flow carries on: its work is not lost
        assert forge.arrived == [], "the status waits behind the comment"
        with pytest.raises(TransientError) as err:
            attempt.finish()
    assert err.value.retry_after == 30
    assert "rate limited" in str(err.value)

    forge.refuse = lambda what: None
    with outbox.attempt(JOB) as attempt:
        attempt.flush()
        assert attempt.work_done, "the retry sends the report and redoes nothing"
    assert forge.arrived == ["comment plan", "status atlantis/plan success"]


def test_a_flush_the_forge_still_refuses_raises_and_keeps_the_rest(
        forge: ScriptedForge, outbox: Outbox) -> None:
    forge.refuse = lambda what: TransientForgeError("502")
    with outbox.attempt(JOB) as attempt, pytest.raises(TransientError):
        report(outbox)
        attempt.finish()
    forge.refuse = lambda what: (TransientForgeError("502") if what.startswith("status")
                                 else None)
    with outbox.attempt(JOB) as attempt, pytest.raises(TransientForgeError):
        attempt.flush()
    forge.refuse = lambda what: None
    with outbox.attempt(JOB) as attempt:
        attempt.flush()
    assert forge.arrived == ["comment plan", "status atlantis/plan success"]


def test_a_permanent_refusal_is_raised_not_kept(forge: ScriptedForge, outbox: Outbox) -> None:
    forge.refuse = lambda what: ForgeError("HTTP 403: Resource not accessible")
    with outbox.attempt(JOB) as attempt, pytest.raises(ForgeError, match="403"):
        report(outbox)
    assert not attempt.work_done
    with outbox.attempt(JOB) as attempt:
        forge.refuse = lambda what: None
        attempt.flush()
    assert forge.arrived == [], "nothing was kept to send"


def test_every_comment_a_job_posts_ends_in_its_marker(forge: ScriptedForge,
                                                       outbox: Outbox) -> None:
    with outbox.attempt(JOB) as attempt:
        report(outbox)
        attempt.finish()
    [posted] = forge.bodies
    write = ForgeWrite(WriteKind.COMMENT, "github", "acme/infra", number=4, body="plan")
    assert posted.body == f"plan\n\n{marker(JOB.id, write)}\n"
    assert marker(JOB.id, write).startswith("<!-- atlantis-py job=12 part=")


def lost_answer(forge: ScriptedForge, outbox: Outbox) -> None:
    """The comment lands but its answer is a 502; the status waits behind it."""
    forge.lands = True
    forge.refuse = lambda what: (TransientForgeError("502", uncertain=True)
                                 if what.startswith("comment") else None)
    with outbox.attempt(JOB) as attempt, pytest.raises(TransientError):
        report(outbox)
        attempt.finish()
    forge.lands, forge.refuse = False, lambda what: None


def test_a_comment_whose_answer_was_lost_is_found_and_not_posted_again(
        forge: ScriptedForge, outbox: Outbox) -> None:
    lost_answer(forge, outbox)
    assert forge.arrived == ["comment plan"]
    with outbox.attempt(JOB) as attempt:
        attempt.flush()
    assert forge.listed == 1
    assert forge.arrived == ["comment plan", "status atlantis/plan success"]


def test_an_uncertain_comment_that_did_not_land_is_sent_again(forge: ScriptedForge,
                                                               outbox: Outbox) -> None:
    lost_answer(forge, outbox)
    forge.bodies.clear()  # it had not landed after all
    forge.arrived.clear()
    with outbox.attempt(JOB) as attempt:
        attempt.flush()
    assert forge.arrived == ["comment plan", "status atlantis/plan success"]


def test_the_marker_counts_only_on_the_bots_own_comment(forge: ScriptedForge,
                                                        outbox: Outbox) -> None:
    lost_answer(forge, outbox)
    forge.bodies = [Comment("mallory", c.body) for c in forge.bodies]
    with outbox.attempt(JOB) as attempt:
        attempt.flush()
    assert forge.arrived == ["comment plan", "comment plan", "status atlantis/plan success"]


def test_a_rate_limited_comment_is_sent_again_without_looking(forge: ScriptedForge,
                                                             outbox: Outbox) -> None:
    forge.refuse = lambda what: TransientForgeError("403 secondary rate limit", retry_after=5)
    with outbox.attempt(JOB) as attempt, pytest.raises(TransientError):
        report(outbox)
        attempt.finish()
    forge.refuse = lambda what: None
    with outbox.attempt(JOB) as attempt:
        attempt.flush()
    assert forge.listed == 0
    assert forge.arrived == ["comment plan", "status atlantis/plan success"]


def test_the_last_word_raises_instead_of_keeping(forge: ScriptedForge, outbox: Outbox) -> None:
    forge.refuse = lambda what: TransientForgeError("502")
    with outbox.attempt(JOB, final=True), pytest.raises(TransientForgeError):
        report(outbox)
    assert outbox.journal.pending(JOB.id) == []
