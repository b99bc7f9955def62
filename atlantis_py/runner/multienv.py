"""Reading what Atlantis's `multienv` and `output: strip_refreshing` steps print."""

from __future__ import annotations

import re

ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REFRESHING = "Refreshing state..."


def parse_multienv(text: str) -> dict[str, str]:
    """`K1=V1,K2="a,b",K3='c'` → variables, as Atlantis's multienv reads a
    command's output: pairs split on commas outside quotes, a value may be
    quoted with " (backslash escapes inside) or '. Raises ValueError naming
    what is wrong, since a half-read line would set the wrong variables."""
    line = text.strip()
    found: dict[str, str] = {}
    i = 0
    while i < len(line):
        eq = line.find("=", i)
        if eq < 0:
            raise ValueError(f"expected NAME=VALUE at {line[i:]!r}")
        name = line[i:eq]
        if not ENV_VAR_RE.match(name):
            raise ValueError(f"{name!r} is not a variable name")
        i = eq + 1
        if i < len(line) and line[i] in "\"'":
            quote, value = line[i], []
            i += 1
            while i < len(line) and line[i] != quote:
                if quote == '"' and line[i] == "\\" and i + 1 < len(line):
                    i += 1
                value.append(line[i])
                i += 1
            if i >= len(line):
                raise ValueError(f"the value of {name} has no closing {quote}")
            i += 1
            if i < len(line) and line[i] != ",":
                raise ValueError(f"expected ',' after the quoted value of {name}")
            found[name] = "".join(value)
        else:
            comma = line.find(",", i)
            end = len(line) if comma < 0 else comma
            found[name] = line[i:end]
            i = end
        i += 1  # past the comma
    return found


def strip_refreshing(output: str) -> str:
    """The output after its last "Refreshing state..." line, as Atlantis's
    `strip_refreshing` shows a plan run by a custom command."""
    lines = output.split("\n")
    last = max((n for n, line in enumerate(lines) if REFRESHING in line), default=-1)
    return output if last < 0 else "\n".join(lines[last + 1:])
