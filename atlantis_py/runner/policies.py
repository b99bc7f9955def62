"""The server's policy sets read from disk and run over plans. Files are read
again at every evaluation, so a fixed policy counts from the next plan without a
restart; every problem found (at start, at evaluation) is logged for the admins
and kept for /healthz until the set is seen working again."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from atlantis_py.domain.policies import PolicySet, PolicySetResult, PolicySets
from atlantis_py.runner.rego import Module, compile_problem, evaluate

log = logging.getLogger(__name__)

MAX_POLICY_BYTES = 1024 * 1024
RECHECK_SECONDS = 10.0


class PolicyEngine:
    def __init__(self, sets: PolicySets) -> None:
        self.sets = sets
        self._problems: dict[str, str] = {}
        self._lock = threading.Lock()
        # one evaluation at a time: the Rego library's thread safety is not documented
        self._evaluating = threading.Lock()
        self._checked_at: float | None = None

    def check(self) -> dict[str, str]:
        """Read and compile every set now (server start): set name → problem."""
        self._checked_at = time.monotonic()
        for policy_set in self.sets.sets:
            modules, problem = read_modules(policy_set)
            with self._evaluating:
                problem = problem or compile_problem(modules)
            self._note(policy_set.name, problem)
        return self.problems()

    def evaluate(self, plan: Mapping[str, object]) -> tuple[PolicySetResult, ...]:
        """Every set's verdict on one plan's JSON; a set that cannot be read or
        compiled fails with its error."""
        results = []
        for policy_set in self.sets.sets:
            modules, problem = read_modules(policy_set)
            if problem is not None:
                result = PolicySetResult(name=policy_set.name, passed=False, error=problem)
            else:
                with self._evaluating:
                    result = evaluate(policy_set.name, modules, plan)
            self._note(policy_set.name, result.error)
            results.append(result)
        return tuple(results)

    def recent_problems(self) -> dict[str, str]:
        """The problems, checked again when the last check is older than
        RECHECK_SECONDS: /healthz in a web process that evaluates nothing itself."""
        last = self._checked_at
        if last is None or time.monotonic() - last > RECHECK_SECONDS:
            return self.check()
        return self.problems()

    def problems(self) -> dict[str, str]:
        with self._lock:
            return dict(self._problems)

    def _note(self, name: str, problem: str | None) -> None:
        with self._lock:
            before = self._problems.get(name)
            if problem is None:
                self._problems.pop(name, None)
            else:
                self._problems[name] = problem
        if problem is not None and problem != before:
            log.error("policy set %s (%s) is broken and fails every plan: %s", name,
                      self.sets.file, problem)
        elif problem is None and before is not None:
            log.info("policy set %s works again", name)


def read_modules(policy_set: PolicySet) -> tuple[list[Module], str | None]:
    """The set's Rego files (a folder's `*.rego`, recursively, less `*_test.rego`;
    or one file), named relative to the set's path for error messages."""
    root = Path(policy_set.path)
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(p for p in root.rglob("*.rego")
                       if p.is_file() and not p.name.endswith("_test.rego"))
    else:
        return [], f"{root} does not exist"
    if not files:
        return [], f"no .rego file in {root}"
    modules: list[Module] = []
    for file in files:
        name = file.name if file == root else str(file.relative_to(root))
        try:
            if file.stat().st_size > MAX_POLICY_BYTES:
                return [], f"{file} is larger than {MAX_POLICY_BYTES} bytes"
            modules.append((name, file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as err:
            return [], f"cannot read {file}: {err}"
    return modules, None
