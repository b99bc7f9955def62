"""The web process decides what needs a job: a burst of review chatter, edits,
the bot's own comments, forged, duplicate, deeply nested, non-JSON and
wrong-typed deliveries leaves jobs only for what asks for work, each answered
with the status that says so, and the one real command among them is answered
exactly once."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.conftest import World
from tests.e2e.test_flow import FORGES, base_files, tf_extra
from tests.support.tables import all_jobs, count_deliveries

CHATTER = 24


def edited(payload: dict[str, Any]) -> dict[str, Any]:
    """The same comment, edited: GitHub says `edited`, GitLab `update`."""
    out = copy.deepcopy(payload)
    if "comment" in out:
        out["action"] = "edited"
    else:
        out["object_attributes"]["action"] = "update"
    return out


def wrong_typed(payload: dict[str, Any]) -> dict[str, Any]:
    """The comment's own object (GitHub `comment`, GitLab `object_attributes`) sent
    as an array."""
    out = copy.deepcopy(payload)
    key = "comment" if "comment" in out else "object_attributes"
    out[key] = [out[key]]
    return out


@FORGES
def test_burst_of_deliveries_queues_only_the_command(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("edge")})
    fake = world.fake
    assert fake.webhook_url
    jobs_before, deliveries_before = len(all_jobs(world.service.db)), \
        count_deliveries(world.service.db)
    comments_before = len(world.bot_comments(pull))

    command = fake.comment_payload(pull, "alice", "atlantis plan")
    assert fake.deliver("issue_comment", command, delivery_id="the-command")[0] == 202

    def chatter(i: int) -> Callable[[], int]:
        payload = fake.comment_payload(pull, ["bob", "carol"][i % 2], f"LGTM {i}")
        return lambda: fake.deliver("issue_comment", payload)[0]

    nested = b'{"a":' * 5000 + b"1" + b"}" * 5000
    sends: list[tuple[str, int, Callable[[], int]]] = [
        *[("chatter", 200, chatter(i)) for i in range(CHATTER)],
        ("edited command", 200,
         lambda: fake.deliver("issue_comment", edited(command))[0]),
        ("bot's own command", 200, lambda: fake.deliver(
            "issue_comment", fake.comment_payload(pull, fake.bot_login, "atlantis plan"))[0]),
        ("duplicate", 200,
         lambda: fake.deliver("issue_comment", command, delivery_id="the-command")[0]),
        ("forged", 401, lambda: fake.send_webhook(
            str(fake.webhook_url), "issue_comment", command, "not-the-secret")[0]),
        ("deeply nested", 400, lambda: fake.deliver_body("issue_comment", nested)[0]),
        ("not JSON", 400, lambda: fake.deliver_body("issue_comment", b"atlantis plan")[0]),
        ("wrong types", 400,
         lambda: fake.deliver("issue_comment", wrong_typed(command),
                              delivery_id=str(uuid.uuid4()))[0]),
    ]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda send: (send[0], send[1], send[2]()), sends))
    assert [(kind, got) for kind, want, got in answers if got != want] == []

    world.settle()
    jobs = all_jobs(world.service.db)[jobs_before:]
    assert [j.delivery_id for j in jobs] == ["the-command"]
    assert count_deliveries(world.service.db) == deliveries_before + 1
    replies = world.bot_comments(pull)[comments_before:]
    assert len(replies) == 1 and "Plan: 2 to add" in replies[0]
