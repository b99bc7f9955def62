"""Clone URLs of repositories only the configuration names: the forge's own
answer when it has one, else built from its web root as GitHub and GitLab
name their HTTPS clone URLs."""

from __future__ import annotations

from atlantis_py.errors import ForgeError
from atlantis_py.forges.clone_urls import CloneUrls, github_web_root
from atlantis_py.forges.lazy import LazyForge


class Plain:
    """A forge without clone_url (GitHub and GitLab today)."""


class Asks:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def clone_url(self, repo: str) -> str:
        self.asked.append(repo)
        if repo == "acme/broken":
            raise ForgeError("GitHub: 502", 502)
        return f"https://git.example.com/{repo}.git"


def test_github_web_roots() -> None:
    assert github_web_root("https://api.github.com") == "https://github.com"
    assert github_web_root("https://ghe.example.com/api/v3") == "https://ghe.example.com"
    assert github_web_root("http://127.0.0.1:8080/api/v3") == "http://127.0.0.1:8080"


def test_built_from_the_web_root_when_the_forge_cannot_say() -> None:
    urls = CloneUrls({"github": Plain(), "gitlab": Plain()},
                     {"github": "https://github.com", "gitlab": "https://gitlab.example.com/"})
    assert urls("github", "acme/infra") == "https://github.com/acme/infra.git"
    assert urls("gitlab", "ops/sub/net") == "https://gitlab.example.com/ops/sub/net.git"
    assert urls("local", "local/x") == ""


def test_the_forge_is_asked_once_and_a_failure_falls_back() -> None:
    forge = Asks()
    urls = CloneUrls({"github": forge}, {"github": "https://github.com"})
    assert urls("github", "acme/infra") == "https://git.example.com/acme/infra.git"
    assert urls("github", "acme/infra") == "https://git.example.com/acme/infra.git"
    assert urls("github", "acme/broken") == "https://github.com/acme/broken.git"
    assert forge.asked == ["acme/infra", "acme/broken"]


def test_a_lazy_forge_passes_the_question_on() -> None:
    asks = LazyForge("github", 100, lambda: Asks())  # type: ignore[arg-type,return-value]
    plain = LazyForge("gitlab", 100, lambda: Plain())  # type: ignore[arg-type,return-value]
    urls = CloneUrls({"github": asks, "gitlab": plain}, {"gitlab": "https://gl.example.com"})
    assert urls("github", "acme/infra") == "https://git.example.com/acme/infra.git"
    assert urls("gitlab", "ops/net") == "https://gl.example.com/ops/net.git"

