"""Typed reads of a webhook body, for both forges' parsers.

A delivery is signed, but what it carries is still only JSON: a field can be
missing, null, or of another type than the forge documents (a proxy rewrote
it, a test tool sent it, the forge changed). Every read here checks the type
and names the field's path when it is wrong, so a parser raises one error,
`MalformedWebhook`, never a bare KeyError, TypeError or AttributeError, and
nothing that reaches a worker can surprise it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from atlantis_py.domain.events import Repo
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.errors import MalformedWebhook

NAME_MAX = 255  # repository, user and branch names: the widest such column in the store
SHA_MAX = 64
NUMBER_MAX = 2**31 - 1  # pull request numbers are stored as 32-bit integers
ID_MAX = 2**63 - 1


def decode_json(body: bytes, what: str) -> object:
    """The body as JSON; MalformedWebhook when it is not UTF-8 JSON or nests so
    deeply that the decoder gives up (RecursionError)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise MalformedWebhook(f"{what}: the body nests too deeply to be a webhook") from None
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError, int digit limit
        raise MalformedWebhook(f"{what}: the body is not JSON ({err})") from None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


class Fields:
    """One JSON object of a payload and its path from the top (`pull_request.head`)."""

    def __init__(self, data: object, what: str, path: str = "") -> None:
        if not isinstance(data, Mapping):
            where = f" at {path}" if path else ""
            raise MalformedWebhook(f"{what}: expected an object{where}, got {_kind(data)}")
        self._data: Mapping[str, object] = data
        self.what = what
        self.path = path

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, expected: str, value: object) -> MalformedWebhook:
        return MalformedWebhook(f"{self.what}: {self._at(key)} must be {expected}, "
                                f"got {_kind(value)}")

    def raw(self, key: str) -> object:
        """The value as sent (None when absent), for fields only compared."""
        return self._data.get(key)

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def obj(self, key: str) -> Fields:
        value = self._data.get(key)
        if not isinstance(value, Mapping):
            raise self.fail(key, "an object", value)
        return Fields(value, self.what, self._at(key))

    def text(self, key: str, limit: int | None = NAME_MAX) -> str:
        """A required, non-empty string of at most `limit` characters."""
        value = self._data.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(key, "a non-empty string", value)
        if limit is not None and len(value) > limit:
            raise MalformedWebhook(f"{self.what}: {self._at(key)} is longer than "
                                   f"{limit} characters")
        return value

    def optional_text(self, key: str) -> str:
        """A string that may be absent or null (then "")."""
        value = self._data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(key, "a string or null", value)
        return value

    def number(self, key: str, limit: int = NUMBER_MAX) -> int:
        """A whole number from 1 to `limit` (booleans are not numbers here)."""
        value = self._data.get(key)
        if type(value) is not int or not 0 < value <= limit:
            raise self.fail(key, f"a whole number from 1 to {limit}", value)
        return value

    def names(self, key: str, field: str) -> tuple[str, ...]:
        """The `field` string of each object in an optional list (labels)."""
        value = self._data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, "a list or null", value)
        return tuple(Fields(item, self.what, f"{self._at(key)}[{i}]").text(field)
                     for i, item in enumerate(value))

    def flag(self, key: str) -> bool:
        """true/false; absent or null reads as false."""
        value = self._data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(key, "true, false or null", value)
        return value


def repo_of(data: Fields, forge: str, key: str, name_key: str, clone_key: str) -> Repo:
    """The repository a delivery is about (`data[key]`), its name checked as
    every name from outside is (domain/repo_names.py)."""
    found = data.obj(key)
    full_name = found.text(name_key)
    if (problem := repo_name_problem(full_name, forge)) is not None:
        raise MalformedWebhook(f"{key}.{name_key}: {problem}")
    return Repo(forge=forge, full_name=full_name, clone_url=found.text(clone_key, limit=None))
