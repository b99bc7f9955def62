"""The review console's IPR list and actions over HTTP: the same operations,
rules and refusals as the API, and a viewer can do nothing."""

from __future__ import annotations

import re

from tests.e2e.conftest import World
from tests.e2e.console_client import ConsoleClient
from tests.e2e.test_flow import FORGES, base_files, tf_extra
from tests.e2e.test_ipr_api import planned_ipr
from tests.fakeforge.neutral import NeutralPull


def signed_in(world: World, user: str, role: str) -> ConsoleClient:
    browser = ConsoleClient(world.url)
    browser.sign_in(world.token(user, role))
    return browser


def ids_listed(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'<td><a href="/ipr/(\d+)">', html)}


def test_tabs_filters_and_counts(world: World) -> None:
    repo = world.repo(base_files(world, "network", "dns"))
    mine = world.open_pr(repo, {"network/extra.tf": tf_extra("a")}, author="bob",
                         branch="mine")
    other = world.open_pr(repo, {"dns/more.tf": tf_extra("b")}, author="alice",
                          branch="theirs")
    mine_id, other_id = world.record(mine).id, world.record(other).id
    bob = signed_in(world, "bob", "reviewer")

    listing = bob.get("/")
    assert ids_listed(listing.body) == {mine_id, other_id}
    assert re.search(r'PENDING</span> 2', listing.body)
    assert ids_listed(bob.get("/?tab=mine").body) == {mine_id}
    assert ids_listed(bob.get("/?tab=awaiting").body) == {other_id}
    assert ids_listed(bob.get("/?environment=default").body) == {mine_id, other_id}
    assert ids_listed(bob.get("/?environment=production").body) == set()
    assert ids_listed(bob.get("/?state=APPROVED").body) == set()
    assert ids_listed(bob.get("/?repo=acme/other").body) == set()
    assert bob.get("/?tab=bogus").status == 400
    assert bob.get("/?repo=../x").status == 400

    csrf = bob.csrf(f"/ipr/{other_id}")
    assert bob.post(f"/ipr/{other_id}/approve", {"csrf": csrf}).status == 303
    assert ids_listed(bob.get("/?tab=awaiting").body) == set()  # reviewed at its head
    assert ids_listed(bob.get("/?state=APPROVED").body) == {other_id}


@FORGES
def test_approve_then_deploy_from_the_console(world: World) -> None:
    ipr_id, pull = planned_ipr_on(world)
    bob = signed_in(world, "bob", "reviewer")
    page = bob.get(f"/ipr/{ipr_id}")
    assert "needs 1 more approval" in page.body
    assert re.search(r'<button type="submit" name="action" value="deploy" disabled', page.body)
    assert "Deploy is not possible now: needs 1 more approval" in page.body

    answer = bob.post(f"/ipr/{ipr_id}/approve", {"csrf": page.csrf, "comment": "LGTM"})
    assert answer.status == 303
    page = bob.get(answer.headers["Location"])
    assert "Your approval is recorded." in page.body and 'class="state APPROVED"' in page.body
    world.settle()  # the review's notice is a job
    assert any("bob" in c and "LGTM" in c for c in world.bot_comments(pull))
    assert "review:approved" in page.body  # the audit trail

    answer = bob.post(f"/ipr/{ipr_id}/deploy", {"csrf": page.csrf})
    assert answer.status == 303 and "job=" in answer.headers["Location"]
    world.settle()
    page = bob.get(f"/ipr/{ipr_id}")
    assert 'class="state DEPLOYED"' in page.body
    assert any(c.startswith("Ran Apply") for c in world.bot_comments(pull))


def planned_ipr_on(world: World) -> tuple[int, NeutralPull]:
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    return world.record(pull).id, pull


def test_reject_needs_a_reason_and_is_commented(world: World) -> None:
    ipr_id, pull = planned_ipr(world)
    carol = signed_in(world, "carol", "reviewer")
    csrf = carol.csrf(f"/ipr/{ipr_id}")
    refused = carol.post(f"/ipr/{ipr_id}/reject", {"csrf": csrf, "reason": "  "})
    assert refused.status == 422 and "needs a reason" in refused.body
    assert carol.post(f"/ipr/{ipr_id}/reject",
                      {"csrf": csrf, "reason": "Needs <b>more</b> CPU"}).status == 303
    page = carol.get(f"/ipr/{ipr_id}")
    assert 'class="state REJECTED"' in page.body
    assert "Needs &lt;b&gt;more&lt;/b&gt; CPU" in page.body
    world.settle()  # the review's notice is a job
    assert any("carol" in c and "Needs <b>more</b> CPU" in c for c in world.bot_comments(pull))


def test_refusals_keep_the_apis_status_and_reason(world: World) -> None:
    ipr_id, _ = planned_ipr(world)
    alice = signed_in(world, "alice", "reviewer")  # the author
    refused = alice.post(f"/ipr/{ipr_id}/approve", {"csrf": alice.csrf(f"/ipr/{ipr_id}")})
    assert refused.status == 403 and "cannot approve it" in refused.body
    bob = signed_in(world, "bob", "reviewer")
    refused = bob.post(f"/ipr/{ipr_id}/deploy", {"csrf": bob.csrf(f"/ipr/{ipr_id}")})
    assert refused.status == 409 and "not APPROVED" in refused.body
    assert bob.post("/ipr/999/approve", {"csrf": bob.csrf()}).status == 404
    answer = bob.post(f"/ipr/{ipr_id}/cancel", {"csrf": bob.csrf(), "reason": "obsolete"})
    assert answer.status == 303
    page = bob.get(f"/ipr/{ipr_id}")
    assert 'class="state CANCELLED"' in page.body and "obsolete" in page.body
    assert 'value="approve"' not in page.body


def test_a_viewer_sees_no_actions_and_forms_need_the_csrf_token(world: World) -> None:
    ipr_id, _ = planned_ipr(world)
    vera = signed_in(world, "vera", "viewer")
    page = vera.get(f"/ipr/{ipr_id}")
    assert page.status == 200
    for action in ("approve", "reject", "deploy", "cancel"):
        assert f'value="{action}"' not in page.body
        refused = vera.post(f"/ipr/{ipr_id}/{action}", {"csrf": page.csrf, "reason": "x"})
        assert refused.status == 403 and "needs reviewer" in refused.body
    bob = signed_in(world, "bob", "reviewer")
    forged = bob.post(f"/ipr/{ipr_id}/approve", {})
    assert forged.status == 403 and "CSRF" in forged.body
    assert "review:approved" not in bob.get(f"/ipr/{ipr_id}").body
    anonymous = ConsoleClient(world.url)
    assert anonymous.post(f"/ipr/{ipr_id}/approve", {"csrf": "x"}).status == 401


@FORGES
def test_a_review_on_the_forge_takes_it_off_awaiting_my_review(world: World) -> None:
    two = ("version: 1\nprojects:\n  - dir: network\n    environment: prod\n"
           "environments:\n  prod:\n    required_approvals: 2\n")
    repo = world.repo(base_files(world, "network") | {"workflows.yaml": two})
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("a")}, author="alice")
    ipr_id = world.record(pull).id
    bob, carol = signed_in(world, "bob", "reviewer"), signed_in(world, "carol", "reviewer")
    assert ids_listed(bob.get("/?tab=awaiting").body) == {ipr_id}

    world.approve(pull, "bob")  # on the forge (a GitHub review, a GitLab approval)
    assert ids_listed(bob.get("/?tab=awaiting").body) == set()
    assert ids_listed(carol.get("/?tab=awaiting").body) == {ipr_id}
    assert world.record(pull).state.value == "PENDING"  # two approvals are needed...

    world.push(pull, {"network/extra.tf": tf_extra("b")})  # ...and bob's was for before
    assert ids_listed(bob.get("/?tab=awaiting").body) == {ipr_id}
