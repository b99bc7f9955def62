"""Repository names and allow-list globs: the one check every entry point uses."""

from __future__ import annotations

import pytest

from atlantis_py.domain.repo_names import (
    allowlist_matches,
    allowlist_pattern_problem,
    repo_name_problem,
)

VALID = [
    ("github", "acme/infra"),
    ("github", "Acme-Corp/infra.tf_v2"),
    ("github", "a/.github"),
    ("gitlab", "acme/infra"),
    ("gitlab", "acme/platform/net/infra"),
    ("", "acme/infra"),
    ("", "acme/sub/infra"),
]

INVALID = [
    # (forge, name, words the message must contain)
    ("github", "acme/x/../../other/secret/issues#", "'#'"),
    ("github", "acme/x/../../../user/repos#", "'#'"),
    ("github", "acme/x/%2e%2e/%2e%2e/other/secret/issues", "'%'"),
    ("github", "acme/infra?per_page=1", "'?'"),
    ("github", "acme/infra#", "'#'"),
    ("github", "acme/sub/infra", "owner/name"),
    ("github", "acme", "owner/name"),
    ("github", "acme/..", "'..'"),
    ("github", "../infra", "'..'"),
    ("github", "acme/.", "'.'"),
    ("github", "acme/in..fra", "'..'"),
    ("github", "acme//infra", "empty segment"),
    ("github", "/acme/infra", "empty segment"),
    ("github", "acme/infra/", "empty segment"),
    ("gitlab", "acme/infra/", "empty segment"),
    ("github", "acme/in fra", "' '"),
    ("github", "acme/infra\n", "'\\n'"),
    ("github", "acme/infra\t", "'\\t'"),
    ("github", "acme\\infra", "'\\\\'"),
    ("github", "acme/infrä", "'ä'"),
    ("github", "", "required"),
    ("github", "a/" + "b" * 600, "longer than"),
    ("gitlab", "acme", "group/subgroup"),
    ("gitlab", "acme/sub/../infra", "'..'"),
    ("gitlab", "acme/sub//infra", "empty segment"),
    ("gitlab", "acme/sub/infra%2F..", "'%'"),
    ("", "acme", "owner/name"),
    ("", "acme/../x", "'..'"),
]


@pytest.mark.parametrize("forge, name", VALID)
def test_valid_names(forge: str, name: str) -> None:
    assert repo_name_problem(name, forge) is None


@pytest.mark.parametrize("forge, name, words", INVALID)
def test_invalid_names_say_why(forge: str, name: str, words: str) -> None:
    problem = repo_name_problem(name, forge)
    assert problem is not None
    assert words in problem, problem


@pytest.mark.parametrize("pattern, name, allowed", [
    ("*", "anyone/anything", True),
    ("*", "group/sub/project", True),
    ("acme/*", "acme/infra", True),
    ("acme/*", "ACME/Infra", True),
    ("acme/*", "acme/x/y", False),
    ("acme/*", "acme/x/../../other/secret", False),
    ("acme/*", "acme-evil/infra", False),
    ("acme/*", "other/acme", False),
    ("*/infra", "acme/infra", True),
    ("*/infra", "acme/sub/infra", False),
    ("acme/infra-?", "acme/infra-1", True),
    ("acme/infra-?", "acme/infra-12", False),
    ("acme/in*ra", "acme/infra", True),
    ("acme/infra", "acme/infra2", False),
    ("acme/**", "acme/infra", True),
    ("acme/**", "acme/sub/deeper/infra", True),
    ("acme/**", "acme", False),
    ("acme/**/infra", "acme/a/b/infra", True),
    ("acme/**/infra", "acme/infra", False),
    ("acme/.*", "acme/xinfra", False),
])
def test_allowlist_matches_whole_segments(pattern: str, name: str, allowed: bool) -> None:
    assert allowlist_pattern_problem(pattern) is None
    assert allowlist_matches(pattern, name) is allowed


@pytest.mark.parametrize("pattern", ["acme", "acme/", "/acme", "acme//x", "acme/../x",
                                     "acme/x y", "acme/%2e", "acme/x#", "acme/[ab]", ""])
def test_bad_allowlist_patterns(pattern: str) -> None:
    assert allowlist_pattern_problem(pattern) is not None
