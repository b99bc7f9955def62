"""What the IPR page derives: the forge link, and why deploy is disabled."""

from __future__ import annotations

import dataclasses

from atlantis_py.domain.records import IPRState, PullRecord
from atlantis_py.domain.views import IPRView
from atlantis_py.web.console.iprs import deploy_refusal, forge_link

RECORD = PullRecord(id=1, forge="github", repo="acme/infra", number=7, author="alice",
                    head_sha="a" * 40, head_ref="f", base_ref="main", title="t",
                    clone_url="https://github.com/acme/infra.git", state=IPRState.PENDING,
                    open=True)


def test_forge_link_is_the_pull_requests_page() -> None:
    assert forge_link(RECORD) == "https://github.com/acme/infra/pull/7"
    gitlab = dataclasses.replace(RECORD, forge="gitlab",
                                 clone_url="https://gitlab.example.com/acme/sub/infra.git")
    assert forge_link(gitlab) == "https://gitlab.example.com/acme/sub/infra/-/merge_requests/7"
    assert forge_link(dataclasses.replace(RECORD, clone_url="/srv/git/infra.git")) == ""
    assert forge_link(dataclasses.replace(RECORD, clone_url="javascript:alert(1)")) == ""


def view(state: IPRState, blocking: tuple[str, ...] = ()) -> IPRView:
    return IPRView(id=1, forge="github", repo="acme/infra", pull_number=7, title="t",
                   description="", author="alice", state=state, open=True, head_sha="a",
                   head_ref="f", base_ref="main", projects=(), approvals=(),
                   blocking=blocking, created_at=None, updated_at=None)


def test_deploy_is_disabled_with_the_refusals_words() -> None:
    assert deploy_refusal(view(IPRState.APPROVED)) == ""
    blocked = view(IPRState.PENDING, ("needs 1 more approval", "outside the apply window"))
    assert deploy_refusal(blocked) == "needs 1 more approval; outside the apply window"
    assert deploy_refusal(view(IPRState.DEPLOYED)) == "the IPR is DEPLOYED, not APPROVED"
