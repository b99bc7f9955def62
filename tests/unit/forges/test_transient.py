"""Which forge failures are worth a retry, and after how long: the rules as a
table, then both forges end to end against their fakes failing on demand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from github import GithubException, RateLimitExceededException
from gitlab.exceptions import GitlabAuthenticationError, GitlabHttpError

from atlantis_py.errors import ForgeError, TransientForgeError
from atlantis_py.forges import github_api as github
from atlantis_py.forges import gitlab_api as gitlab
from atlantis_py.forges.base import Forge
from atlantis_py.forges.github import GitHubForge
from atlantis_py.forges.gitlab import GitLabForge
from atlantis_py.forges.transient import is_transient, retry_after
from tests.fakeforge.github import FakeGitHub
from tests.fakeforge.gitlab import FakeGitLab
from tests.fakeforge.neutral import NeutralForge

NOW = 1_700_000_000.0

# (status, headers (lower-cased), transient?)
RULES = [
    pytest.param(500, {}, True, id="500"),
    pytest.param(502, {}, True, id="502"),
    pytest.param(503, {"retry-after": "30"}, True, id="503-retry-after"),
    pytest.param(504, {}, True, id="504"),
    pytest.param(520, {}, True, id="520-cloudflare"),
    pytest.param(408, {}, True, id="408-request-timeout"),
    pytest.param(429, {}, True, id="429"),
    pytest.param(403, {"retry-after": "60"}, True, id="403-secondary-rate-limit"),
    pytest.param(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000100"}, True,
                 id="403-primary-rate-limit"),
    pytest.param(403, {"ratelimit-remaining": "0"}, True, id="403-gitlab-quota"),
    pytest.param(403, {"x-ratelimit-remaining": "4999"}, False, id="403-permission"),
    pytest.param(403, {}, False, id="403-plain"),
    pytest.param(401, {"retry-after": "5"}, False, id="401"),
    pytest.param(404, {}, False, id="404"),
    pytest.param(422, {}, False, id="422"),
    pytest.param(None, {}, False, id="no-status"),
]


@pytest.mark.parametrize("status, headers, transient", RULES)
def test_which_answers_are_transient(status: int | None, headers: dict[str, str],
                                     transient: bool) -> None:
    assert is_transient(status, headers) is transient


WAITS = [
    pytest.param({}, None, id="nothing-said"),
    pytest.param({"retry-after": "60"}, 60.0, id="seconds"),
    pytest.param({"retry-after": "0"}, 0.0, id="zero"),
    pytest.param({"retry-after": "Tue, 14 Nov 2023 22:13:40 GMT"}, 20.0, id="http-date"),
    pytest.param({"retry-after": "Tue, 14 Nov 2023 22:00:00 GMT"}, 0.0, id="http-date-past"),
    pytest.param({"retry-after": "soon"}, None, id="unreadable"),
    pytest.param({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000100"}, 101.0,
                 id="github-reset"),
    pytest.param({"ratelimit-remaining": "0", "ratelimit-reset": "1700000010"}, 11.0,
                 id="gitlab-reset"),
    pytest.param({"x-ratelimit-remaining": "12", "x-ratelimit-reset": "1700000100"}, None,
                 id="quota-left-no-wait"),
    pytest.param({"retry-after": "5", "x-ratelimit-remaining": "0",
                  "x-ratelimit-reset": "1700000100"}, 5.0, id="retry-after-wins"),
]


@pytest.mark.parametrize("headers, wait", WAITS)
def test_how_long_the_forge_asked_to_wait(headers: dict[str, str], wait: float | None) -> None:
    assert retry_after(headers, NOW) == wait


# (exception, transient?, retry_after)
GITHUB = [
    pytest.param(GithubException(502, {"message": "Bad Gateway"}, {}), True, None, id="502"),
    pytest.param(GithubException(403, {"message": "You have exceeded a secondary rate limit"},
                                 {"Retry-After": "30"}), True, 30.0, id="secondary-403"),
    pytest.param(GithubException(429, {"message": "slow down"}, {"Retry-After": "7"}), True,
                 7.0, id="secondary-429"),
    pytest.param(RateLimitExceededException(403, {"message": "API rate limit exceeded"},
                                            {"X-RateLimit-Remaining": "0",
                                             "X-RateLimit-Reset": "1700000060"}),
                 True, 61.0, id="primary"),
    pytest.param(RateLimitExceededException(403, {"message": "secondary rate limit"}, {}),
                 True, None, id="secondary-by-message-only"),
    pytest.param(GithubException(403, {"message": "Resource not accessible"}, {}), False, None,
                 id="403-permission"),
    pytest.param(GithubException(401, {"message": "Bad credentials"}, {}), False, None,
                 id="401"),
    pytest.param(GithubException(404, {"message": "Not Found"}, {}), False, None, id="404"),
    pytest.param(GithubException(422, {"message": "Validation Failed"}, {}), False, None,
                 id="422"),
]


@pytest.mark.parametrize("error, transient, wait", GITHUB)
def test_github_errors_are_classified_at_the_edge(error: GithubException, transient: bool,
                                                  wait: float | None) -> None:
    found = github.classify("listing files of acme/infra#4", error, now=NOW)
    assert isinstance(found, TransientForgeError) is transient
    assert "listing files of acme/infra#4" in str(found) and f"HTTP {error.status}" in str(found)
    if isinstance(found, TransientForgeError):
        assert found.retry_after == wait


GITLAB = [
    pytest.param(GitlabHttpError("Bad Gateway", 502), {}, True, None, id="502"),
    pytest.param(GitlabHttpError("Retry later", 429), {"Retry-After": "12"}, True, 12.0,
                 id="429-retry-after"),
    pytest.param(GitlabHttpError("Retry later", 429),
                 {"RateLimit-Remaining": "0", "RateLimit-Reset": "1700000030"}, True, 31.0,
                 id="429-reset"),
    pytest.param(GitlabHttpError("403 Forbidden", 403), {}, False, None, id="403"),
    pytest.param(GitlabAuthenticationError("401 Unauthorized", 401), {}, False, None, id="401"),
    pytest.param(GitlabHttpError("404 Not Found", 404), {}, False, None, id="404"),
    pytest.param(GitlabHttpError("422 Unprocessable", 422), {}, False, None, id="422"),
]


@pytest.mark.parametrize("error, headers, transient, wait", GITLAB)
def test_gitlab_errors_are_classified_at_the_edge(error: GitlabHttpError, headers: dict[str, str],
                                                  transient: bool, wait: float | None) -> None:
    found = gitlab.classify("commenting on acme/infra!4", error, headers, now=NOW)
    assert isinstance(found, TransientForgeError) is transient
    assert f"HTTP {error.response_code}" in str(found)
    if isinstance(found, TransientForgeError):
        assert found.retry_after == wait


# --- both forges over HTTP, against their fakes failing on demand ---------------------------

Forged = tuple[NeutralForge, Forge]


@pytest.fixture(params=["github", "gitlab"])
def forged(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Forged]:
    if request.param == "github":
        gh = FakeGitHub(tmp_path)
        yield gh, GitHubForge(gh.token, gh.api_url, write_interval=0, retries=0)
        gh.close()
    else:
        gl = FakeGitLab(tmp_path)
        yield gl, GitLabForge(gl.token, gl.api_url)
        gl.close()


def test_an_outage_is_transient(forged: Forged) -> None:
    fake, forge = forged
    repo = fake.create_repo("acme/infra", {"main.tf": "# x\n"})
    pull = fake.open_pull(repo, changes={"main.tf": "# y\n"})
    fake.outage(only=("files",))
    with pytest.raises(TransientForgeError, match="listing files of acme/infra"):
        forge.changed_files("acme/infra", pull.number)


def test_a_refused_write_says_how_long_to_wait(forged: Forged) -> None:
    fake, forge = forged
    repo = fake.create_repo("acme/infra", {"main.tf": "# x\n"})
    pull = fake.open_pull(repo, changes={"main.tf": "# y\n"})
    limit = fake.rate_limit(requests=1, retry_after=42)
    with pytest.raises(TransientForgeError) as err:
        forge.post_comment("acme/infra", pull.number, "hello")
    assert err.value.retry_after == 42.0
    assert limit.hits == 1
    forge.post_comment("acme/infra", pull.number, "hello")
    assert fake.comments(pull) == ["hello"]


def test_a_refusal_for_good_is_not_transient(forged: Forged) -> None:
    fake, forge = forged
    repo = fake.create_repo("acme/infra", {"main.tf": "# x\n"})
    pull = fake.open_pull(repo, changes={"main.tf": "# y\n"})
    fake.refuse(only=("comment",), status=403)
    with pytest.raises(ForgeError) as err:
        forge.post_comment("acme/infra", pull.number, "hello")
    assert not isinstance(err.value, TransientForgeError)
    assert "HTTP 403" in str(err.value)


def test_a_refused_connection_is_transient() -> None:
    forge: Forge
    for forge in (GitHubForge("t", "http://127.0.0.1:9/api/v3", write_interval=0, retries=0,
                              timeout=5),
                  GitLabForge("t", "http://127.0.0.1:9", timeout=5)):
        with pytest.raises(TransientForgeError, match="ConnectionError"):
            forge.post_comment("acme/infra", 1, "hello")
