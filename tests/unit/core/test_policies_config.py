"""The --policies file (Atlantis's repos.yaml `policies:` shape): valid files
become PolicySets with paths resolved against the file's folder; invalid ones
name the file, line and key."""

from __future__ import annotations

import pytest

from atlantis_py.core.config.policies import load_policies, parse_policies
from atlantis_py.domain.policies import PolicyOwners, PolicySet, PolicySets
from atlantis_py.errors import RepoConfigError

FILE = "/etc/atlantis/policies.yaml"

EXAMPLE = """\
repos:
  - id: /.*/
policies:
  conftest_version: 0.46.0
  owners:
    users: [alice]
    teams: [acme/security]
  policy_sets:
    - name: cost
      path: rego/cost
      source: local
    - name: tags
      path: /srv/policies/tags.rego
      owners:
        users: [bob]
      prevent_self_approve: true
"""


def test_example_parses_with_paths_against_the_files_folder() -> None:
    assert load_policies(FILE, EXAMPLE) == PolicySets(
        file=FILE,
        owners=PolicyOwners(users=("alice",), teams=("acme/security",)),
        sets=(
            PolicySet(name="cost", path="/etc/atlantis/rego/cost"),
            PolicySet(name="tags", path="/srv/policies/tags.rego",
                      owners=PolicyOwners(users=("bob",)), prevent_self_approve=True),
        ),
    )


def test_the_section_alone_parses_as_a_repos_yaml_reader_hands_it_over() -> None:
    section = {"policy_sets": [{"name": "cost", "path": "../rego", "source": "local"}]}
    parsed = parse_policies(section, "/etc/atlantis/repos.yaml")
    assert parsed.sets == (PolicySet(name="cost", path="/etc/rego"),)
    assert parsed.owners == PolicyOwners()


@pytest.mark.parametrize(("text", "where", "words"), [
    ("", "policies.yaml", "the file is empty"),
    ("- a\n", "policies.yaml:1: (document)", "expected a mapping"),
    ("repos: []\n", "policies.yaml:1: (document)", "missing key 'policies'"),
    ("policies:\n  owners: {users: [a]}\n", "policies.yaml:2: policies",
     "missing key 'policy_sets'"),
    ("policies:\n  policy_sets: []\n", "policies.yaml:2: policies.policy_sets",
     "the list is empty"),
    ("policies:\n  policy_sets:\n    - name: a\n", "policies.yaml:3: policies.policy_sets[0]",
     "missing key 'path'"),
    ("policies:\n  policy_sets:\n    - {name: a, path: p, source: github}\n",
     "policies.policy_sets[0].source", "only `local` policy sets are supported"),
    ("policies:\n  policy_sets:\n    - {name: a b, path: p}\n",
     "policies.policy_sets[0].name", "a set name is letters"),
    ("policies:\n  policy_sets:\n    - {name: a, path: p}\n    - {name: a, path: q}\n",
     "policies.yaml:4: policies.policy_sets[1].name", "declared twice"),
    ("policies:\n  policy_sets:\n    - {name: a, path: p, prevent_self_approve: yes please}\n",
     "policies.policy_sets[0].prevent_self_approve", "expected true or false"),
    ("policies:\n  policy_sets:\n    - {name: a, path: p, owner: {users: [x]}}\n",
     "policies.policy_sets[0].owner", "unknown key 'owner'"),
    ("policies:\n  owners: {users: alice}\n  policy_sets: [{name: a, path: p}]\n",
     "policies.yaml:2: policies.owners.users", "expected a list"),
    ("policies:\n  owners: {groups: [x]}\n  policy_sets: [{name: a, path: p}]\n",
     "policies.owners.groups", "allowed keys: users, teams"),
    ("policies:\n  owners:\n    teams: [\"acme team\"]\n  policy_sets: [{name: a, path: p}]\n",
     "policies.yaml:3: policies.owners.teams[0]", "must not contain spaces"),
    ("policies:\n  policy_sets:\n    - {name: a, path: 3}\n",
     "policies.policy_sets[0].path", "expected a string"),
])
def test_bad_files_name_file_line_and_key(text: str, where: str, words: str) -> None:
    with pytest.raises(RepoConfigError) as caught:
        load_policies("policies.yaml", text)
    assert where in str(caught.value)
    assert words in str(caught.value)


def test_a_bad_section_without_lines_still_names_file_and_key() -> None:
    with pytest.raises(RepoConfigError) as caught:
        parse_policies({"policy_sets": [{"name": "a"}]}, "repos.yaml")
    assert str(caught.value).startswith("repos.yaml: policies.policy_sets[0]: missing key 'path'")
