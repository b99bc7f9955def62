"""One policy set's verdict on one plan, as conftest (and so Atlantis) gives it:
the Rego modules of the set are evaluated in-process (regopy, OPA's Rego) over
`terraform show -json` of the plan; package `main`; every rule named `deny`,
`violation` or `warn`, or starting with `deny_`, `violation_`, `warn_`, yields
its messages. A `violation` entry may be an object with `msg`.

Pure given the texts (reading the files is runner/policies.py's job). A module
that does not parse, or an evaluation that fails, is a policy error: the set
fails with the error (fail closed), it never passes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from regopy import Interpreter, LogLevel, RegoError

from atlantis_py.domain.policies import PolicySetResult

NAMESPACE = "main"
_DENY = ("deny", "violation")
_WARN = ("warn",)
_MODULE_ERROR = re.compile(r"\(error (\d+):")
_ERROR_MSG = re.compile(r"\(errormsg (\d+):")

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
    interpreter = Interpreter()
    interpreter.log_level = LogLevel.NONE  # errors come back to us, not to stdout
    for file, text in modules:
        try:
            interpreter.add_module(file, text)
        except (RegoError, ValueError) as err:
            return None, _located(str(err), dict(modules))
    try:
        _query(interpreter, f"[k | some k; data.{NAMESPACE}[k]]")
    except _EvalError as err:
        return None, str(err)
    return interpreter, None


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
