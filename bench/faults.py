"""Benchmark: the forge failing, and the server killed, under real work.

Target: 0 lost, 0 duplicated, 0 re-applied; and how long after the fault ended
the pull request got its answer.

Against a real `atlantis-py server` process (its own process group, SQLite
under a temporary data dir), a fake GitHub (and/or GitLab) in this process,
real git, and real terraform behind a wrapper that logs every `apply` (so a
second apply of a project is seen) and, for `apply`, marks that it started and
holds for `--apply-hold` seconds before exec'ing terraform:

  outage      every route answers 502 for `--outage` seconds, raised while
              three things are in flight at once, each on its own pull request:
              autoplan   a pull request opened (its webhook sent) during the outage
              command    `atlantis plan` commented during the outage
              report     `atlantis apply` whose terraform apply had started when
                         the outage began: the apply runs, its comment and
                         status cannot be posted
  rate-limit  comments and statuses answered as GitHub's secondary rate limit
              (403 + `Retry-After: N`; GitLab: 429) for `--rate-limit` seconds
              while a pull request is autoplanned
  kill        `--kill-trials` times: `atlantis apply`, and as soon as the
              wrapper says terraform apply started, SIGKILL to the server's whole
              process group (web process and worker processes); restart it at once

Per case it checks what arrived on the pull request against what must:
  lost        an expected comment or status that never arrived (within
              `--answer-timeout` after the fault ended)
  duplicated  an expected comment or status that arrived more than once
  re-applied  a project whose terraform apply ran more than once
  delay       fault end (or the kill) -> the last expected comment/status arrived

    .venv/bin/python bench/faults.py                      # both forges, 60 s / 15 s / 10 trials
    .venv/bin/python bench/faults.py --quick              # GitHub, 2 s / 2 s / 2 trials
    .venv/bin/python bench/faults.py --forge gitlab --outage 30 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.server_process import ServerProcess, free_port
from tests.fakeforge.github import FakeGitHub
from tests.fakeforge.gitlab import FakeGitLab
from tests.fakeforge.neutral import NeutralForge, NeutralPull, NeutralRepo

SECRET = "bench-faults-secret"
REVIEWER = "bob"
PLAN, APPLY = "atlantis/plan", "atlantis/apply"

WRAPPER = """#!{python}
import os, sys, time
if sys.argv[1:2] == ["apply"]:
    project = os.path.basename(os.getcwd())
    with open({log!r}, "a") as out:
        out.write(project + "\\n")
    open(os.path.join({marks!r}, project), "w").close()
    time.sleep({hold!r})
os.execv({terraform!r}, [{terraform!r}, *sys.argv[1:]])
"""


def tf_project(state: Path, name: str, value: str = "v1") -> str:
    return (f'terraform {{\n  backend "local" {{ path = "{state / name}.tfstate" }}\n}}\n\n'
            f'resource "terraform_data" "{name}" {{\n  input = "{value}"\n}}\n')


@dataclass
class Expected:
    """What one pull request must end up with beyond what it had before the
    fault: comments containing each text once, and per status context the
    states, in order."""

    comments: list[str]
    statuses: dict[str, list[str]]


@dataclass
class Outcome:
    case: str
    forge: str
    lost: int = 0
    duplicated: int = 0
    reapplied: int = 0
    delay_s: float | None = None  # None: the answer never came complete
    notes: list[str] = field(default_factory=list)


class Bench:
    """One forge's fake, its repository, and the server process against it."""

    def __init__(self, forge: str, tmp: Path, args: argparse.Namespace,
                 stack: ExitStack) -> None:
        self.forge = forge
        self.args = args
        self.tmp = tmp / forge
        self.state = self.tmp / "state"
        self.marks = self.tmp / "marks"
        self.applies = self.tmp / "applies.log"
        for d in (self.state, self.marks):
            d.mkdir(parents=True)
        self.applies.touch()
        fake: FakeGitHub | FakeGitLab = (FakeGitLab(self.tmp / "fake") if forge == "gitlab"
                                         else FakeGitHub(self.tmp / "fake"))
        stack.callback(fake.close)
        self.fake: NeutralForge = fake
        wrapper = self.tmp / "terraform-wrapper"
        terraform = shutil.which("terraform")
        if terraform is None:
            raise SystemExit("terraform is not on PATH")
        wrapper.write_text(WRAPPER.format(python=sys.executable, log=str(self.applies),
                                          marks=str(self.marks), hold=args.apply_hold,
                                          terraform=terraform))
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
        if forge == "gitlab":
            env = {"ATLANTIS_GITLAB_TOKEN": fake.token, "ATLANTIS_GITLAB_WEBHOOK_SECRET": SECRET,
                   "ATLANTIS_GITLAB_URL": fake.api_url, "ATLANTIS_GITLAB_USER": fake.bot_login}
        else:
            env = {"ATLANTIS_GH_TOKEN": fake.token, "ATLANTIS_GH_WEBHOOK_SECRET": SECRET,
                   "ATLANTIS_GH_API_URL": fake.api_url, "ATLANTIS_GH_USER": fake.bot_login,
                   "ATLANTIS_GH_WRITE_INTERVAL": "0"}
        env["ATLANTIS_TERRAFORM_BIN"] = str(wrapper)
        self.server = ServerProcess(self.tmp / "data", env, free_port(), new_session=True)
        stack.callback(self.server.stop)
        fake.webhook_url, fake.webhook_secret = f"{self.server.url}/events", SECRET
        self.repo: NeutralRepo = fake.create_repo("acme/infra", {"README.md": "bench\n"})
        fake.set_permission(self.repo, REVIEWER, "write")

    # --- driving the pull requests --------------------------------------------------------

    def open(self, name: str, *, deliver: bool = True) -> NeutralPull:
        pull = self.fake.open_pull(self.repo, branch=f"change-{name}",
                                   changes={f"{name}/main.tf": tf_project(self.state, name)})
        if deliver:
            self.deliver("pull_request", self.fake.pull_request_payload(pull, "opened"))
        return pull

    def deliver(self, event: str, payload: Mapping[str, Any]) -> None:
        status, body = self.fake.deliver(event, payload)
        if status != 202:
            raise RuntimeError(f"{event} answered {status}: {body}")

    def comment(self, pull: NeutralPull, body: str) -> None:
        self.deliver("issue_comment", self.fake.comment_payload(pull, "alice", body))

    def approve(self, pull: NeutralPull) -> None:
        self.fake.review(pull, REVIEWER, "APPROVED")
        self.deliver("pull_request_review",
                     self.fake.review_payload(pull, REVIEWER, "approved"))

    def comments(self, pull: NeutralPull) -> list[str]:
        return self.fake.comments(pull)

    def states(self, pull: NeutralPull) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for s in self.fake.statuses(pull.repo, pull.head_sha):
            found.setdefault(s["context"], []).append(s["state"])
        return found

    def applied(self, project: str) -> int:
        return self.applies.read_text().split().count(project)

    def wait_marked(self, project: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not (self.marks / project).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"terraform apply of {project} never started; see "
                                   f"{self.server.log_path}")
            time.sleep(0.01)

    def wait_for(self, test: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not test():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def planned(self, pull: NeutralPull) -> bool:
        return self.states(pull).get(PLAN, [])[-1:] == ["success"]


class Tally:
    """One pull request's answer, checked against what is expected of it."""

    def __init__(self, bench: Bench, pull: NeutralPull, expected: Expected) -> None:
        self.bench, self.pull, self.expected = bench, pull, expected
        self.comments_before = len(bench.comments(pull))
        self.states_before = {k: len(v) for k, v in bench.states(pull).items()}
        self.done_at: float | None = None

    def new(self) -> tuple[list[str], dict[str, list[str]]]:
        comments = self.bench.comments(self.pull)[self.comments_before:]
        states = {k: v[self.states_before.get(k, 0):]
                  for k, v in self.bench.states(self.pull).items()}
        return comments, states

    def complete(self) -> bool:
        comments, states = self.new()
        got = all(any(text in c for c in comments) for text in self.expected.comments) and all(
            states.get(k, [])[-1:] == v[-1:] for k, v in self.expected.statuses.items())
        if got and self.done_at is None:
            self.done_at = time.monotonic()
        return got

    def judge(self, outcome: Outcome, since: float) -> Outcome:
        comments, states = self.new()
        for text in self.expected.comments:
            n = sum(text in c for c in comments)
            outcome.lost += n == 0
            outcome.duplicated += max(0, n - 1)
        outcome.duplicated += len(comments) - len(set(comments))
        extra = [c[:60] for c in comments
                 if not any(text in c for text in self.expected.comments)]
        if extra:
            outcome.notes.append(f"unexpected comments: {extra}")
        for context, want in self.expected.statuses.items():
            have = states.get(context, [])
            for state in set(want) | set(have):
                outcome.lost += max(0, want.count(state) - have.count(state))
                outcome.duplicated += max(0, have.count(state) - want.count(state))
            if have != want:
                outcome.notes.append(f"{context}: {have}, expected {want}")
        if self.done_at is not None:
            outcome.delay_s = round(self.done_at - since, 2)
        return outcome


def plan_expected() -> Expected:
    return Expected(["Plan: 1 to add"], {PLAN: ["pending", "success"]})


def outage_cases(bench: Bench) -> list[Outcome]:
    """One outage window over an autoplan, a command and an apply's report."""
    args = bench.args
    command_pull = bench.open("cmd")
    report_pull = bench.open("report")
    if not bench.wait_for(lambda: bench.planned(command_pull) and bench.planned(report_pull),
                          args.answer_timeout):
        raise RuntimeError(f"the pull requests were not planned; see {bench.server.log_path}")
    bench.approve(report_pull)
    bench.server.settle()
    report = Tally(bench, report_pull, Expected(["Ran Apply"], {APPLY: ["pending",
                                                                              "success"]}))
    bench.comment(report_pull, "atlantis apply")
    bench.wait_marked("report", args.answer_timeout)
    bench.fake.outage(seconds=args.outage)
    start = time.monotonic()
    healed = start + args.outage
    autoplan_pull = bench.open("auto", deliver=False)
    autoplan = Tally(bench, autoplan_pull, plan_expected())
    bench.deliver("pull_request", bench.fake.pull_request_payload(autoplan_pull, "opened"))
    command = Tally(bench, command_pull, plan_expected())
    bench.comment(command_pull, "atlantis plan")
    tallies = {"outage: autoplan": autoplan, "outage: command": command,
               "outage: apply report": report}
    # every tally is asked each time, so each notes when its own answer was complete
    bench.wait_for(lambda: sum(t.complete() for t in tallies.values()) == len(tallies),
                   args.outage + args.answer_timeout)
    bench.server.settle(args.answer_timeout)
    outcomes = [t.judge(Outcome(name, bench.forge), healed) for name, t in tallies.items()]
    for outcome, project in zip(outcomes, ("auto", "cmd", "report"), strict=True):
        outcome.reapplied = max(0, bench.applied(project) - (project == "report"))
    return outcomes


def rate_limit_case(bench: Bench) -> Outcome:
    args = bench.args
    seconds = args.rate_limit
    bench.fake.rate_limit(seconds=seconds, retry_after=max(1, round(seconds)),
                          only=("comment", "status"))
    healed = time.monotonic() + seconds
    pull = bench.open("limited", deliver=False)
    tally = Tally(bench, pull, plan_expected())
    bench.deliver("pull_request", bench.fake.pull_request_payload(pull, "opened"))
    bench.wait_for(tally.complete, seconds + args.answer_timeout)
    bench.server.settle(args.answer_timeout)
    outcome = tally.judge(Outcome("rate limit", bench.forge), healed)
    outcome.reapplied = bench.applied("limited")
    return outcome


def kill_cases(bench: Bench) -> list[Outcome]:
    args = bench.args
    pulls = [bench.open(f"kill{i}") for i in range(args.kill_trials)]
    if not bench.wait_for(lambda: all(bench.planned(p) for p in pulls), args.answer_timeout
                          + 10 * len(pulls)):
        raise RuntimeError(f"the pull requests were not planned; see {bench.server.log_path}")
    for pull in pulls:
        bench.approve(pull)
    bench.server.settle()
    outcomes = []
    for i, pull in enumerate(pulls):
        project = f"kill{i}"
        tally = Tally(bench, pull, Expected(["Apply interrupted"], {APPLY: ["pending",
                                                                             "failure"]}))
        bench.comment(pull, "atlantis apply")
        bench.wait_marked(project, args.answer_timeout)
        assert bench.server.proc is not None
        os.killpg(bench.server.proc.pid, signal.SIGKILL)
        killed = time.monotonic()
        bench.server.wait_exit()
        bench.server.start()
        bench.wait_for(tally.complete, args.answer_timeout)
        bench.server.settle(args.answer_timeout)
        outcome = tally.judge(Outcome(f"kill -9 mid-apply #{i + 1}", bench.forge), killed)
        outcome.reapplied = max(0, bench.applied(project) - 1)
        outcomes.append(outcome)
    return outcomes


def run_forge(forge: str, tmp: Path, args: argparse.Namespace) -> list[Outcome]:
    with ExitStack() as stack:
        bench = Bench(forge, tmp, args, stack)
        bench.server.start()
        outcomes: list[Outcome] = []
        if args.outage > 0:
            outcomes += outage_cases(bench)
        if args.rate_limit > 0:
            outcomes.append(rate_limit_case(bench))
        outcomes += kill_cases(bench)
        for o in outcomes:
            print(f"{forge} {o.case}: lost {o.lost}, duplicated {o.duplicated}, re-applied "
                  f"{o.reapplied}, delay {o.delay_s} s {'; '.join(o.notes)}", file=sys.stderr)
        return outcomes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--forge", choices=("github", "gitlab", "both"), default="both")
    p.add_argument("--outage", type=float, default=60.0, help="seconds of 502 (0: skip)")
    p.add_argument("--rate-limit", type=float, default=15.0,
                   help="seconds of secondary rate limit on writes (0: skip)")
    p.add_argument("--kill-trials", type=int, default=10)
    p.add_argument("--apply-hold", type=float, default=1.0,
                   help="seconds the wrapper holds a started apply before terraform runs")
    p.add_argument("--answer-timeout", type=float, default=120.0,
                   help="seconds after a fault ends an answer may take before it is lost")
    p.add_argument("--quick", action="store_true",
                   help="GitHub only, 2 s outage and rate limit, 2 kill trials")
    p.add_argument("--json", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the data dirs and server logs")
    p.add_argument("--no-check", action="store_true", help="exit 0 whatever the figures")
    args = p.parse_args(argv)
    if args.quick:
        args.forge, args.outage, args.rate_limit, args.kill_trials = "github", 2.0, 2.0, 2
        args.apply_hold = 0.5
    return args


@contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    if keep:
        path = Path(tempfile.mkdtemp(prefix="atlantis-faults-"))
        print(f"keeping {path}", file=sys.stderr)
        yield path
    else:
        with tempfile.TemporaryDirectory(prefix="atlantis-faults-") as name:
            yield Path(name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    forges = ["github", "gitlab"] if args.forge == "both" else [args.forge]
    outcomes: list[Outcome] = []
    with workdir(args.keep) as tmp:
        for forge in forges:
            outcomes += run_forge(forge, tmp, args)
    totals = {k: sum(getattr(o, k) for o in outcomes) for k in ("lost", "duplicated",
                                                                "reapplied")}
    unanswered = sum(o.delay_s is None for o in outcomes)
    passed = not any(totals.values()) and not unanswered
    result = {"settings": {k: getattr(args, k) for k in ("outage", "rate_limit", "kill_trials",
                                                         "apply_hold", "answer_timeout")},
              "cases": [asdict(o) for o in outcomes], "totals": totals,
              "unanswered": unanswered, "passed": passed,
              "seconds": round(time.monotonic() - started, 1),
              "loadavg_before": load_before, "loadavg_after": os.getloadavg()[0],
              "nproc": os.cpu_count(), "python": platform.python_version()}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{'forge':<7} {'case':<26} {'lost':>4} {'dup':>4} {'re-applied':>10} "
              f"{'answer after (s)':>16}")
        for o in outcomes:
            delay = "never" if o.delay_s is None else f"{o.delay_s:.1f}"
            print(f"{o.forge:<7} {o.case:<26} {o.lost:>4} {o.duplicated:>4} {o.reapplied:>10} "
                  f"{delay:>16}")
        print(f"\ntarget 0 lost, 0 duplicated, 0 re-applied, every case answered: "
              f"{'PASS' if passed else 'FAIL'}; {result['seconds']} s; {result['nproc']} cores, "
              f"load average {load_before:.2f} before, {result['loadavg_after']:.2f} after")
    return 0 if passed or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
