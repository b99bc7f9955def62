"""Every /api/v1 error is JSON {"error": …} with a 4xx, whatever the input."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from atlantis_py.web.api import MAX_BODY
from tests.e2e.conftest import World
from tests.e2e.console_client import ConsoleClient
from tests.e2e.test_flow import base_files

HUGE = [str(2**63), str(2**64), "9" * 40, "9" * 5000]


def raw(world: World, method: str, path: str, data: bytes | None = None,
        token: str | None = None, prefix: str = "/api/v1") -> tuple[int, str, str]:
    """(status, content type, body) of a request with exactly these bytes."""
    req = urllib.request.Request(f"{world.url}{prefix}{path}", data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def json_error(status: int, ctype: str, text: str) -> str:
    assert ctype.startswith("application/json"), (status, ctype, text[:200])
    body = json.loads(text)
    assert list(body) == ["error"] and body["error"], body
    return str(body["error"])


@pytest.mark.parametrize("ipr_id", [*HUGE, "-1", "0", "abc", "1.5", "%00"])
def test_ids_that_cannot_be_an_ipr_are_json_404(world: World, ipr_id: str) -> None:
    admin = world.token("root", "admin")
    for method, path in (("GET", ""), ("GET", "/events"), ("POST", "/review"),
                         ("POST", "/deploy"), ("POST", "/cancel"), ("POST", "/comments")):
        data = b'{"decision": "approve"}' if method == "POST" else None
        status, ctype, text = raw(world, method, f"/ipr/{ipr_id}{path}", data, admin)
        assert status == 404, (method, path, status, text[:200])
        json_error(status, ctype, text)


@pytest.mark.parametrize("query", [*(f"page={n}" for n in HUGE), *(f"per_page={n}" for n in HUGE),
                                   "page=0", "page=-3", "page=x", "per_page=201", "page=1e3",
                                   "repo=acme/x/../../other", "repo=acme%23", "state=NOPE"])
def test_out_of_range_list_queries_are_json_422(world: World, query: str) -> None:
    viewer = world.token("vera", "viewer")
    status, ctype, text = raw(world, "GET", f"/ipr?{query}", token=viewer)
    assert status == 422, (query, status, text[:200])
    json_error(status, ctype, text)


def test_unknown_paths_and_wrong_methods_are_json(world: World) -> None:
    admin = world.token("root", "admin")
    for path in ("", "/", "/nope", "/ipr/1/nope", "/ipr/1/events/x"):
        status, ctype, text = raw(world, "GET", path, token=admin)
        assert status == 404, (path, status)
        assert "no such endpoint" in json_error(status, ctype, text)
    for method, path in (("DELETE", "/ipr"), ("PUT", "/ipr/1"), ("GET", "/ipr/1/deploy"),
                         ("PATCH", "/ipr/1/events")):
        req = urllib.request.Request(f"{world.url}/api/v1{path}", method=method)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(req, timeout=60)
        err = caught.value
        assert err.code == 405 and err.headers["Allow"], (method, path)
        assert method in json_error(405, err.headers["Content-Type"], err.read().decode())


def test_pages_and_webhooks_keep_their_own_errors(world: World) -> None:
    status, ctype, _ = raw(world, "GET", "/nope", prefix="")
    assert status == 404 and ctype.startswith("text/html")
    status, _, _ = raw(world, "GET", "/events", prefix="")
    assert status == 405


def test_deeply_nested_and_oversized_bodies(world: World) -> None:
    bob = world.token("bob", "reviewer")
    for nested in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        status, ctype, text = raw(world, "POST", "/ipr", nested, bob)
        assert status == 400, (status, text[:200])
        assert "nested" in json_error(status, ctype, text)
    big = json.dumps({"repo": "acme/infra", "head": "f", "title": "x" * MAX_BODY}).encode()
    status, ctype, text = raw(world, "POST", "/ipr", big, bob)
    assert status == 413
    assert "larger than" in json_error(status, ctype, text)
    status, ctype, text = raw(world, "POST", "/ipr", b'{"repo": 1e999999}', bob)
    assert status == 422, text
    status, ctype, text = raw(world, "POST", "/ipr", b'{"repo": ' + b"9" * 5000 + b"}", bob)
    assert status == 400, text
    json_error(status, ctype, text)


def test_text_fields_must_be_storable(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.fake.open_pull(repo, branch="feature", changes={"network/x.tf": "# x\n"})
    world.fake.deliver("pull_request", world.fake.pull_request_payload(pull, "opened"))
    world.settle()
    ipr_id = world.record(pull).id
    bob = world.token("bob", "reviewer")
    for comment in (b'"nul \\u0000 here"', b'"lone \\ud800 surrogate"'):
        body = b'{"decision": "reject", "comment": ' + comment + b"}"
        status, ctype, text = raw(world, "POST", f"/ipr/{ipr_id}/review", body, bob)
        assert status == 422, text
        assert "comment" in json_error(status, ctype, text)
    status, ctype, text = raw(world, "POST", f"/ipr/{ipr_id}/comments",
                              b'{"body": "atlantis plan"}', bob)
    assert status == 422 and "comment there" in json_error(status, ctype, text)


def test_forge_refusals_are_the_callers_to_fix(world: World) -> None:
    world.repo(base_files(world, "network"))
    bob = world.token("bob", "reviewer")
    for repo, head in (("acme/missing", "feature"), ("acme/infra", "no-such-branch")):
        status, body = world.api("POST", "/ipr", bob,
                                 {"repo": repo, "head": head, "title": "t"})
        assert status == 422, body
        assert "GitHub" in body["error"]


def test_the_web_page_refuses_a_huge_page_number(world: World) -> None:
    browser = ConsoleClient(world.url)
    browser.sign_in(world.token("vera", "viewer"))
    assert browser.get(f"/?page={2**64}").status == 400
