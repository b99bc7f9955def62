"""The Locks page: everyone signed in sees the locks; only an admin releases
one, with a reason that is audited and posted on the pull request."""

from __future__ import annotations

import re

from tests.e2e.conftest import World
from tests.e2e.test_console_iprs import signed_in
from tests.e2e.test_ipr_api import planned_ipr


def test_an_admin_releases_a_lock_with_a_reason(world: World) -> None:
    ipr_id, pull = planned_ipr(world)
    vera = signed_in(world, "vera", "viewer")
    page = vera.get("/locks")
    assert page.status == 200 and "<code>network</code>" in page.body
    assert f'href="/ipr/{ipr_id}"' in page.body and 'value="unlock"' not in page.body
    (lock_id,) = re.findall(r'/locks/(\d+)/unlock', signed_in(world, "root", "admin")
                            .get("/locks").body)
    refused = vera.post(f"/locks/{lock_id}/unlock", {"csrf": page.csrf, "reason": "x"})
    assert refused.status == 403 and "needs admin" in refused.body
    bob = signed_in(world, "bob", "reviewer")
    assert bob.post(f"/locks/{lock_id}/unlock",
                    {"csrf": bob.csrf("/locks"), "reason": "x"}).status == 403

    root = signed_in(world, "root", "admin")
    csrf = root.csrf("/locks")
    assert root.post(f"/locks/{lock_id}/unlock", {"csrf": csrf}).status == 422
    assert root.post(f"/locks/{lock_id}/unlock", {"reason": "x"}).status == 403  # no CSRF
    answer = root.post(f"/locks/{lock_id}/unlock", {"csrf": csrf, "reason": "stuck <here>"})
    assert answer.status == 303
    page = root.get(answer.headers["Location"])
    assert "Released the lock on acme/infra network" in page.body
    assert "No locks are held." in page.body
    assert world.service.services.locks.held_by(ipr_id) == []
    assert any("**`root`** released this pull request's lock on `network`" in c
               and "> stuck <here>" in c for c in world.bot_comments(pull))
    trail = root.get(f"/ipr/{ipr_id}").body
    assert "lock:released" in trail and "stuck &lt;here&gt;" in trail
    again = root.post(f"/locks/{lock_id}/unlock", {"csrf": csrf, "reason": "again"})
    assert again.status == 404 and "released already" in again.body
