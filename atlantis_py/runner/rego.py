"""One policy set's verdict on one plan, as conftest (and so Atlantis) gives it:
the Rego modules of the set are evaluated in-process (regopy, OPA's Rego) over
`terraform show -json` of the plan; package `main`; every rule named `deny`,
`violation` or `warn`, or starting with `deny_`, `violation_`, `warn_`, yields
its messages. A `violation` entry may be an object with `msg`.

Pure given the texts (reading the files is runner/policies.py's job). A module
that does not parse, or an evaluation that fails, is a policy error: the set
fails with the error (fail closed), it never passes. So is a set that has no
rule in package `main` (its files declare another package: conftest would
check nothing and pass), or no `deny`/`violation`/`warn` rule at all there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from regopy import Interpreter

from atlantis_py.domain.policies import PolicySetResult

NAMESPACE = "main"
_DENY = ("deny", "violation")
_WARN = ("warn",)
_MODULE_ERROR = re.compile(r"\(error (\d+):")
_ERROR_MSG = re.compile(r"\(errormsg (\d+):")
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_QUERIED_HEAD = re.compile(r"^\s*(?:deny|violation|warn)(?:_\w*)?\b", re.MULTILINE)

Module = tuple[str, str]  # (file name shown in errors, Rego text)


def evaluate(name: str, modules: Sequence[Module], plan: Mapping[str, object]) -> PolicySetResult:
    """The set `name` (its modules) on the plan JSON."""
    if not modules:
        return _broken(name, "the policy set has no .rego file")
    interpreter, problem = _compiled(modules)
    if interpreter is None:
        return _broken(name, problem or "the policy set does not compile")
    try:
        interpreter.set_input(dict(plan))
        rules = _query(interpreter, f"[k | some k; data.{NAMESPACE}[k]]")
        denies: list[str] = []
        warnings: list[str] = []
        for rule in rules if isinstance(rules, list) else ():
            if not isinstance(rule, str):
                continue
            kind = rule.split("_", 1)[0]
            if kind in _DENY or kind in _WARN:
                found = _query(interpreter,
                               f"[m | some m; data.{NAMESPACE}[{json.dumps(rule)}][m]]")
                messages = [_message(m) for m in (found if isinstance(found, list) else ())]
                (denies if kind in _DENY else warnings).extend(messages)
    except _EvalError as err:
        return _broken(name, str(err))
    return PolicySetResult(name=name, passed=not denies, denies=tuple(denies),
                           warnings=tuple(warnings))


def compile_problem(modules: Sequence[Module]) -> str | None:
    """Why the modules do not compile, or None: the start-up and /healthz check."""
    if not modules:
        return "the policy set has no .rego file"
    return _compiled(modules)[1]


class _EvalError(Exception):
    pass


def _broken(name: str, error: str) -> PolicySetResult:
    return PolicySetResult(name=name, passed=False, error=error)


def _compiled(modules: Sequence[Module]) -> tuple[Interpreter | None, str | None]:
    # imported here: its native library costs ~12 MB a process, paid only by a
    # server that has policy sets
    from regopy import Interpreter, LogLevel, RegoError

    interpreter = Interpreter()
    interpreter.log_level = LogLevel.NONE  # errors come back to us, not to stdout
    for file, text in modules:
        try:
            interpreter.add_module(file, text)
        except (RegoError, ValueError) as err:
            return None, _located(str(err), dict(modules))
    try:
        rules = _query(interpreter, f"[k | some k; data.{NAMESPACE}[k]]")
    except _EvalError as err:
        return None, str(err)
    return (None, problem) if (problem := _unqueried(modules, rules)) else (interpreter, None)


def _unqueried(modules: Sequence[Module], rules: object) -> str | None:
    """Why the set would check nothing: no rule in the queried package, or none
    there that is queried (deny, violation, warn and their `_` forms)."""
    packages = {file: found.group(1) for file, text in modules
                if (found := _PACKAGE.search(text)) is not None}
    if not (isinstance(rules, list) and rules):
        declared = ", ".join(f"{file}: package {name}" for file, name in packages.items())
        return (f"no rule in package {NAMESPACE}, so the set would check nothing "
                f"({declared or 'no package declared'}); policies are read from package "
                f"{NAMESPACE}, as conftest reads them")
    ours = [text for file, text in modules if packages.get(file) == NAMESPACE]
    if not any(_QUERIED_HEAD.search(text) for text in ours):
        return (f"package {NAMESPACE} has no deny, violation or warn rule (nor deny_…, "
                f"violation_…, warn_…), so the set would check nothing")
    return None


def _query(interpreter: Interpreter, query: str) -> object:
    out = interpreter.query(query)
    if not out.ok():
        detail = str(out)
        raise _EvalError("the policy failed to evaluate"
                         + ("" if detail in ("", "<error>") else f": {detail}")
                         + " (for example a rule given conflicting values)")
    if len(out) == 0:
        return []
    expressions = json.loads(out.expressions().json())
    return expressions[0] if isinstance(expressions, list) and expressions else []


def _message(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("msg"), str):
        return str(value["msg"])
    return json.dumps(value, sort_keys=True)


def _located(error: str, texts: Mapping[str, str]) -> str:
    """regopy's error list (an S-expression of `(error N:file|offset|length
    (errormsg N:text))`) as `file:line:column: text` lines."""
    found: list[str] = []
    for head in _MODULE_ERROR.finditer(error):
        size = int(head.group(1))
        start = head.end()
        place = error[start:start + size]
        rest = error[start + size:]
        offset_text = rest.lstrip("|").split("|", 1)[0]
        msg = _ERROR_MSG.search(rest)
        if msg is None:
            continue
        text = rest[msg.end():msg.end() + int(msg.group(1))]
        where = place
        source = texts.get(place)
        if source is not None and offset_text.isdigit():
            offset = int(offset_text)
            line = source.count("\n", 0, offset) + 1
            column = offset - (source.rfind("\n", 0, offset) + 1) + 1
            where = f"{place}:{line}:{column}"
        found.append(f"{where}: {text}")
    return "; ".join(dict.fromkeys(found)) or " ".join(error.split())[:500]
