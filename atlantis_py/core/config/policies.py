"""The server's policy sets, in the shape of Atlantis's repos.yaml `policies:` key.

`parse_policies` takes that section already parsed (a repos.yaml reader hands
it over as is); `load_policies` reads a `--policies FILE` whose top level has
the same `policies:` key, so one file serves both. Every refusal names the
file, the line when known, and the key path. Pure: the path of each set is
resolved against the file's folder, but nothing is read here.

```yaml
policies:
  owners:
    users: [alice]
    teams: [acme/security]
  policy_sets:
    - name: cost
      path: policies/cost        # relative to this file's folder
      source: local
      owners: {users: [bob]}
      prevent_self_approve: true
```
"""

from __future__ import annotations

import posixpath
import re

from atlantis_py.core.config.reader import ConfigReader, Path, kind
from atlantis_py.domain.policies import PolicyOwners, PolicySet, PolicySets

_SECTION = ("owners", "policy_sets", "conftest_version")
_SET = ("name", "path", "source", "owners", "prevent_self_approve")
_OWNERS = ("users", "teams")
_SET_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_TEAM = re.compile(r"^[^\s]+$")


def load_policies(file: str, text: str) -> PolicySets:
    """A `--policies FILE`: a mapping with a `policies:` key; other top-level
    keys (a whole repos.yaml's `repos:`, `workflows:`) are left to their readers."""
    reader = ConfigReader(file, text)
    if reader.doc is None:
        reader.fail((), "the file is empty; it needs a `policies:` key with `policy_sets`")
    if not isinstance(reader.doc, dict):
        reader.fail((), f"expected a mapping with a `policies:` key, got {kind(reader.doc)}")
    if "policies" not in reader.doc:
        reader.fail((), "missing key 'policies'; write the sets under `policies:` as in "
                    "Atlantis's repos.yaml")
    return parse_policies(reader.doc["policies"], file, reader=reader)


def parse_policies(section: object, file: str, *, reader: ConfigReader | None = None,
                   at: Path = ("policies",)) -> PolicySets:
    """The `policies:` mapping → PolicySets. `reader`, when the section comes
    from a document it read, gives errors their line numbers."""
    r = reader if reader is not None else ConfigReader(file, "")
    body = r.mapping(section, at, _SECTION)
    owners = _owners(r, body.get("owners"), (*at, "owners"))
    if "policy_sets" not in body:
        r.fail(at, "missing key 'policy_sets'; list at least one set with name and path")
    items = r.sequence(body["policy_sets"], (*at, "policy_sets"))
    if not items:
        r.fail((*at, "policy_sets"), "the list is empty; list at least one set")
    folder = posixpath.dirname(posixpath.abspath(file)) if file else posixpath.abspath(".")
    sets: list[PolicySet] = []
    for i, item in enumerate(items):
        one = _policy_set(r, item, (*at, "policy_sets", i), folder)
        if any(s.name == one.name for s in sets):
            r.fail((*at, "policy_sets", i, "name"), f"policy set {one.name!r} is declared "
                   "twice; names must be unique")
        sets.append(one)
    return PolicySets(file=file, sets=tuple(sets), owners=owners)


def _policy_set(r: ConfigReader, item: object, at: Path, folder: str) -> PolicySet:
    body = r.mapping(item, at, _SET)
    for key in ("name", "path"):
        if key not in body:
            r.fail(at, f"missing key {key!r}; a policy set needs name and path")
    name = r.string(body["name"], (*at, "name"))
    if not _SET_NAME.match(name):
        r.fail((*at, "name"), f"{name!r}: a set name is letters, digits, '.', '_' and '-'")
    raw_path = r.string(body["path"], (*at, "path"))
    source = body.get("source", "local")
    if source != "local":
        r.fail((*at, "source"), f"only `local` policy sets are supported, got {source!r}")
    path = posixpath.normpath(posixpath.join(folder, raw_path))
    return PolicySet(name=name, path=path,
                     owners=_owners(r, body.get("owners"), (*at, "owners")),
                     prevent_self_approve=r.flag(body, at, "prevent_self_approve", False))


def _owners(r: ConfigReader, value: object, at: Path) -> PolicyOwners:
    if value is None:
        return PolicyOwners()
    body = r.mapping(value, at, _OWNERS)
    users = r.strings(body.get("users") or [], (*at, "users"))
    teams = r.strings(body.get("teams") or [], (*at, "teams"))
    for i, name in enumerate((*users, *teams)):
        if not _TEAM.match(name):
            key = ("users", i) if i < len(users) else ("teams", i - len(users))
            r.fail((*at, *key), f"{name!r} must not contain spaces")
    return PolicyOwners(users=users, teams=teams)
