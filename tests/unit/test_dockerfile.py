"""The Dockerfile, checked without Docker: the terraform zip it downloads is
verified against HashiCorp's SHA256SUMS before use, and the container reports
its health from /healthz with what the slim image has (Python, no curl)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_terraform_zip_is_checked_against_sha256sums_before_it_is_unpacked() -> None:
    [run] = [args for word, args in instructions() if word == "RUN" and "terraform" in args
             and ".zip" in args]
    steps = [s.strip() for s in run.split("&&")]
    sums = next(i for i, s in enumerate(steps)
                if "curl" in s and "_SHA256SUMS" in s)
    check = next(i for i, s in enumerate(steps) if "sha256sum -c" in s)
    unzip = next(i for i, s in enumerate(steps) if s.startswith("unzip"))
    assert sums < check < unzip
    assert "terraform_${TERRAFORM_VERSION}_linux_${TARGETARCH}.zip" in steps[check]
    # a pipe fails the step when grep finds no line for the zip
    [shell] = [json.loads(args) for word, args in instructions() if word == "SHELL"]
    assert "pipefail" in shell[shell.index("-o") + 1]


def test_healthcheck_asks_healthz_with_python() -> None:
    [check] = [args for word, args in instructions() if word == "HEALTHCHECK"]
    options, _, command = check.partition("CMD ")
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    assert "/healthz" in argv[2] and "urllib.request.urlopen" in argv[2]
    compile(argv[2], "HEALTHCHECK", "exec")
    assert "curl" not in argv[2]
    assert {o.split("=")[0] for o in shlex.split(options)} >= {"--interval", "--timeout"}
