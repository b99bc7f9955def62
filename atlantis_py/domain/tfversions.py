"""Terraform versions and version constraints, with HashiCorp's go-version
semantics (what Atlantis and terraform's own `required_version` use), so a
`terraform_version` that works in Atlantis picks the same binary here:
`1.9.8` and `= 1.9.8` are exact, `>= 1.5, < 2.0` are clauses that must all
hold, `~> 1.9` allows 1.9 and later 1.x, `~> 1.9.0` only 1.9.x. A constraint
without a pre-release never matches a pre-release (1.10.0-beta1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")
_CLAUSE = re.compile(r"\s*(~>|>=|<=|!=|=|>|<)?\s*(\S+)\s*")
_OPERATORS = ("=", "!=", ">", "<", ">=", "<=", "~>")


@dataclass(frozen=True)
class Version:
    """`specified` counts the segments written (`~>` needs it); missing ones are 0."""

    major: int
    minor: int = 0
    patch: int = 0
    pre: str = ""
    specified: int = field(default=3, compare=False)

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        """Sort key: a pre-release sorts before its release, its parts in
        semver's order (numbers before words)."""
        parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.pre.split("."))
        return (*self.core, 0 if self.pre else 1, parts if self.pre else ())

    def __lt__(self, other: Version) -> bool:
        return self.key() < other.key()

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        return f"{text}-{self.pre}" if self.pre else text


def parse_version(text: str) -> Version:
    found = _VERSION.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a version like 1.9.8")
    major, minor, patch, pre = found.groups()
    specified = 1 + (minor is not None) + (patch is not None)
    return Version(int(major), int(minor or 0), int(patch or 0), pre or "", specified)


@dataclass(frozen=True)
class Clause:
    operator: str
    version: Version

    def allows(self, v: Version) -> bool:
        c = self.version
        if v.pre and (not c.pre or v.core != c.core):
            return False
        op = self.operator
        if op == "=":
            return v.key() == c.key()
        if op == "!=":
            return v.key() != c.key()
        if op == ">":
            return c.key() < v.key()
        if op == "<":
            return v.key() < c.key()
        if op == ">=":
            return not v.key() < c.key()
        if op == "<=":
            return not c.key() < v.key()
        # ~>: at least c, and the segments before c's last written one unchanged
        if v.key() < c.key():
            return False
        return v.core[:c.specified - 1] == c.core[:c.specified - 1]


@dataclass(frozen=True)
class Constraint:
    text: str
    clauses: tuple[Clause, ...]

    @property
    def exact(self) -> Version | None:
        """The one version an `x.y.z` or `= x.y.z` constraint names."""
        if len(self.clauses) == 1 and self.clauses[0].operator == "=":
            return self.clauses[0].version
        return None

    def allows(self, v: Version) -> bool:
        return all(clause.allows(v) for clause in self.clauses)

    def best(self, versions: list[Version]) -> Version | None:
        """The highest version allowed, as Atlantis picks."""
        allowed = sorted((v for v in versions if self.allows(v)), key=Version.key)
        return allowed[-1] if allowed else None

    def __str__(self) -> str:
        return self.text


def parse_constraint(text: str) -> Constraint:
    """Raises ValueError saying what is wrong, for a config error or a refusal."""
    clauses = []
    for part in text.split(","):
        found = _CLAUSE.fullmatch(part)
        if found is None or not part.strip():
            raise ValueError(f"{text!r} is not a version or constraint like 1.9.8, "
                             "'>= 1.5' or '~> 1.9'")
        operator, raw = found.groups()
        try:
            version = parse_version(raw)
        except ValueError:
            raise ValueError(f"{text!r} is not a version or constraint like 1.9.8, "
                             "'>= 1.5' or '~> 1.9'") from None
        clauses.append(Clause(operator or "=", version))
    return Constraint(text.strip(), tuple(clauses))
