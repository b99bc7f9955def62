"""Pull request comments, one method per kind of comment.

The wording lives in templates/*.md.j2 so that changing a sentence is a
template diff reviewed against tests/golden/, not a code change. This module
only prepares values the templates cannot compute tidily (sums, approval
reasons) and registers the few filters that keep the markdown well-formed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined

from atlantis_py.domain.drift import ResourceChange
from atlantis_py.domain.policies import FailingSet
from atlantis_py.domain.results import PlanCounts, ProjectResult, RunStatus
from atlantis_py.errors import RepoConfigError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BACKTICKS = re.compile(r"`+")
_DIFF_MARK = re.compile(r"^( +)([+\-~])( |$)", re.MULTILINE)
SHORT_SHA = 7


@dataclass(frozen=True)
class _ApprovalLine:
    user: str
    sha: str
    reason: str = ""


@dataclass(frozen=True)
class _PlanTally:
    changed: int
    unchanged: int
    failed: int
    total: PlanCounts | None  # None when no project produced counts


class Renderer:
    """Renders comment bodies; cheap to share, holds only the template cache."""

    def __init__(self, *, fold_lines: int = 12) -> None:
        self._env = Environment(
            loader=PackageLoader("atlantis_py.report", "templates"),
            autoescape=False,  # markdown, not HTML; values are fenced or backticked instead
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._env.filters.update(
            code=_code,
            fence=_fence,
            output=_clean_output,
            diff=_diff_markers,
            short=_short_sha,
            target=_target,
            plural=_plural,
            lines=_line_count,
            because=_destroy_because,
            why=_codes,
            codes=_codes,
            quote=_quote,
            sentence=_sentence,
            duration=_duration,
        )
        self._env.globals.update(fold_lines=fold_lines, RunStatus=RunStatus)

    def plan(self, results: Sequence[ProjectResult], *, extra: str = "") -> str:
        return self._render("plan.md.j2", results=results, tally=_tally(results), extra=extra)

    def apply(self, results: Sequence[ProjectResult],
              unsettled: Mapping[str, Sequence[ResourceChange]] | None = None, *,
              merge: str = "") -> str:
        """`unsettled`: per project, what a plan right after its apply would still
        change (flows/drift.py's post-apply verify); `merge`: what automerge did,
        after every project applied (merge.md.j2)."""
        return self._render("apply.md.j2", results=results, unsettled=unsettled or {},
                            merge=merge)

    def merge(self, *, merged: bool, base_ref: str, head_ref: str, error: str = "",
              retrying: bool = False, branch_deleted: bool | None = None,
              branch_error: str = "") -> str:
        """Automerge's outcome: merged (and the branch deleted), or why not and
        what to do."""
        return self._render("merge.md.j2", merged=merged, base_ref=base_ref,
                            head_ref=head_ref, error=error, retrying=retrying,
                            branch_deleted=branch_deleted, branch_error=branch_error)

    def help(self, allowed_extra_args: Sequence[str] = ()) -> str:
        return self._render("help.md.j2", allowed_extra_args=allowed_extra_args)

    def unknown_command(
        self, text: str, reason: str, allowed_extra_args: Sequence[str] = ()
    ) -> str:
        return self._render(
            "unknown_command.md.j2",
            text=text,
            reason=reason.rstrip("."),
            allowed_extra_args=allowed_extra_args,
        )

    def permission_denied(self, user: str, command: str) -> str:
        command = command if command.startswith("atlantis") else f"atlantis {command}"
        return self._render("permission_denied.md.j2", user=user, command=command)

    def config_error(self, err: RepoConfigError) -> str:
        return self._render("config_error.md.j2", err=err)

    def apply_refused(
        self,
        *,
        environment: str | None,
        head_sha: str,
        refusals: Sequence[str],
        approvals: Sequence[tuple[str, str]] = (),
        ignored: Sequence[tuple[str, str, str]] = (),
        title: str = "Apply",
        nothing: str = "nothing was applied",
        again: str = "atlantis apply",
    ) -> str:
        """Why the policy refused: `refusals` are the policy's own sentences, each
        naming what is missing; `approvals` count, `ignored` (user, sha, reason) don't.
        `environment` None: a refusal no environment's rules decide (the base branch).
        `title`, `nothing` and `again` word it for another gated command (import)."""
        return self._render(
            "apply_refused.md.j2",
            title=title,
            nothing=nothing,
            again=again,
            environment=environment,
            head_sha=head_sha,
            refusals=refusals,
            approvals=[_ApprovalLine(user, sha) for user, sha in approvals],
            ignored=[_ApprovalLine(user, sha, reason) for user, sha, reason in ignored],
        )

    def policy_refused(self, *, head_sha: str, blocked: Sequence[FailingSet],
                       owners: Mapping[str, str]) -> str:
        """The apply is blocked by failing policy sets; `owners` says, per set,
        who may approve it (a clause: "it may be approved by alice")."""
        return self._render("policy_refused.md.j2", head_sha=head_sha, blocked=blocked,
                            owners=owners)

    def policy_approval(self, *, actor: str, head_sha: str, configured: bool,
                        approved: Sequence[FailingSet] = (), refused: Sequence[str] = (),
                        remaining: Sequence[FailingSet] = (),
                        owners: Mapping[str, str] | None = None,
                        already: Sequence[FailingSet] = (), skipped: bool = False) -> str:
        """The answer to `atlantis approve_policies`: what `actor` approved, what
        they may not (each reason says who may), and what still blocks the apply;
        `skipped`: repos.yaml's `policy_check: false` for this repository."""
        return self._render("policy_approval.md.j2", actor=actor, head_sha=head_sha,
                            configured=configured, skipped=skipped, approved=approved, refused=refused,
                            remaining=remaining, owners=owners or {}, already=already)
    def state_command(self, result: ProjectResult, command: str, *, replanning: bool) -> str:
        """`atlantis import` / `atlantis state rm` ran: terraform's output, and
        whether a new plan of the project follows (the old one no longer matches
        the state). `command` is the comment's command, to run again."""
        title = "Import" if result.command == "import" else "State rm"
        return self._render("state_command.md.j2", r=result, title=title, command=command,
                            replanning=replanning)

    def not_run(self, title: str, problem: str) -> str:
        """A command that names no single project (`problem` is markdown)."""
        return self._render("not_run.md.j2", title=title, problem=problem)

    def command_disabled(self, command: str, allowed: Sequence[str]) -> str:
        """A command --allow-commands leaves out."""
        return self._render("command_disabled.md.j2", command=command, allowed=allowed)

    def plan_outdated(self, planned_sha: str, head_sha: str) -> str:
        return self._render("plan_outdated.md.j2", planned_sha=planned_sha, head_sha=head_sha)

    def apply_replanning(self, *, branch: str, planned_sha: str, head_sha: str) -> str:
        """An apply that found the branch moved unreported: its re-plan is already
        queued (flows/heads.py), so the user is not asked to plan."""
        return self._render("apply_replanning.md.j2", branch=branch, planned_sha=planned_sha,
                            head_sha=head_sha)

    def head_moved(self, *, branch: str, old_sha: str, head_sha: str) -> str:
        """A push no hook reported, found by the branch-head check (flows/heads.py)."""
        return self._render("head_moved.md.j2", branch=branch, old_sha=old_sha,
                            head_sha=head_sha)

    def no_plans(self) -> str:
        return self._render("no_plans.md.j2")

    def version(self, version: str, results: Sequence[ProjectResult] = ()) -> str:
        """`atlantis version`: which server answered, and what `terraform version`
        printed in each project (`results`)."""
        return self._render("version.md.j2", version=version, results=results)

    def nothing_to_plan(self) -> str:
        """`atlantis plan` found no affected project: a plan's answer, not an apply's."""
        return self._render("nothing_to_plan.md.j2")

    def unlocked(self, count: int) -> str:
        return self._render("unlocked.md.j2", count=count)

    def review_recorded(self, *, actor: str, approved: bool, head_sha: str, comment: str) -> str:
        """A review given through the atlantis-py API, with its comment quoted."""
        return self._render("review_recorded.md.j2", actor=actor, approved=approved,
                            head_sha=head_sha, comment=comment.strip())

    def cancelled(self, *, actor: str, released: int, reason: str) -> str:
        return self._render("cancelled.md.j2", actor=actor, released=released,
                            reason=reason.strip())

    def lock_released(self, *, actor: str, dir: str, workspace: str, project: str,
                      reason: str) -> str:
        """An admin released one lock in the console; the reason is quoted."""
        return self._render("lock_released.md.j2", actor=actor, dir=dir, workspace=workspace,
                            project=project, reason=reason.strip())

    def review_expired(self, *, author: str, notice: str) -> str:
        """`notice` is the policy's sentence saying which deadline passed."""
        return self._render("review_expired.md.j2", author=author, notice=notice)

    def apply_interrupted(self, projects: Sequence[str]) -> str:
        return self._render("apply_interrupted.md.j2", projects=projects)

    def apply_blocked(self, state: str) -> str:
        """The IPR's state (REJECTED, CANCELLED, APPLYING) allows no apply."""
        return self._render("apply_blocked.md.j2", state=state)

    def apply_without_plan(self, projects: Sequence[str]) -> str:
        return self._render("apply_without_plan.md.j2", projects=projects)

    def nothing_to_apply(self) -> str:
        return self._render("nothing_to_apply.md.j2")

    def plan_not_run(self, problem: str) -> str:
        """`problem` is already markdown ("no project named `x` in this repository")."""
        return self._render("plan_not_run.md.j2", problem=problem)

    def stacks_invalid(self, error: str) -> str:
        """`error` is the stack parser's "file:line: message", shown fenced."""
        return self._render("stacks_invalid.md.j2", error=error)

    def hook_failed(self, *, kind: str, name: str, argv: Sequence[str], returncode: int,
                    output: str, command: str) -> str:
        """A repos.yaml workflow hook (`kind` pre or post) of `command` failed."""
        return self._render("hook_failed.md.j2", kind=kind, hook=name, argv=argv,
                            returncode=returncode, output=output, command=command)

    def branch_not_served(self, *, base: str, pattern: str, what: str) -> str:
        """repos.yaml's `branch` regex does not take pull requests into `base`."""
        return self._render("branch_not_served.md.j2", base=base, pattern=pattern, what=what)

    def error(self, title: str, message: str) -> str:
        return self._render("error.md.j2", title=title, message=message)

    def job_failed(self, *, what: str, error: str, hint: str, job_id: int, delivery_id: str,
                   gave_up: bool = False, attempts: int = 1, waited: float = 0.0,
                   undelivered: Sequence[str] = ()) -> str:
        """A job that failed for good: `what` (markdown) failed with `error`;
        `hint` is the sentence saying what the user can do; `gave_up` after
        `attempts` tries over `waited` seconds of a forge that kept failing;
        `undelivered` the job's comments and statuses that never arrived."""
        return self._render("job_failed.md.j2", what=what, error=error, hint=hint,
                            job_id=job_id, delivery_id=delivery_id, gave_up=gave_up,
                            attempts=attempts, waited=waited, undelivered=undelivered)

    def _render(self, name: str, **values: object) -> str:
        """Every comment ends with exactly one newline, whatever the template did."""
        return self._env.get_template(name).render(**values).strip("\n") + "\n"


def _tally(results: Sequence[ProjectResult]) -> _PlanTally:
    ok = [r for r in results if r.status is RunStatus.SUCCESS and r.locked_by is None]
    counted = [r.counts for r in ok if r.counts is not None]
    total = None
    if counted:
        total = PlanCounts(
            add=sum(c.add for c in counted),
            change=sum(c.change for c in counted),
            destroy=sum(c.destroy for c in counted),
            replace=sum(c.replace for c in counted),
        )
    changed = sum(1 for c in counted if c.has_changes)
    return _PlanTally(
        changed=changed,
        unchanged=len(counted) - changed,
        failed=len(results) - len(ok),
        total=total,
    )


def _code(value: object) -> str:
    """Inline code that survives backticks and line breaks inside the value."""
    text = " ".join(str(value).splitlines())
    ticks = "`" * (max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(text: str) -> str:
    """A fence longer than any backtick run in the text, so output cannot end it."""
    return "`" * max(3, max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)


def _clean_output(text: str) -> str:
    """Terraform output without colour codes, trailing blanks or edge blank lines."""
    text = _ANSI.sub("", text)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")).strip("\n")


def _diff_markers(text: str) -> str:
    """Move plan markers to column 0 so GitHub's ```diff colours them, the way
    Atlantis does: "  + x" → "+   x", and "~" (update) becomes "!" (orange)."""
    return _DIFF_MARK.sub(lambda m: ("!" if m[2] == "~" else m[2]) + m[1] + m[3], text)


def _short_sha(sha: str) -> str:
    return sha[:SHORT_SHA]


def _target(result: ProjectResult) -> str:
    """The flags that name this project in a comment command."""
    if result.project:
        return f"-p {result.project}"
    flags = f"-d {result.dir}"
    return flags if result.workspace == "default" else f"{flags} -w {result.workspace}"


_DELETED = (
    (re.compile(r"^stack file removed: (.+)$"), "{0} was removed"),
    (re.compile(r"^no \*\.tf left in (.+)$"), "{0} was removed"),
    (re.compile(r"^component removed from (.+)$"), "the component was removed from {0}"),
    (re.compile(r"^component made (\w+) in (.+)$"), "the component was made {0} in {1}"),
    (re.compile(r"^stack name or workspace changed in (.+)$"),
     "its stack name or workspace changed in {0}"),
)


def _destroy_because(reasons: Sequence[str]) -> str:
    """Detection's reason for a deleted project as the end of a sentence:
    "stack file removed: stacks/a.yaml" → "`stacks/a.yaml` was removed"."""
    for reason in reasons:
        for pattern, text in _DELETED:
            m = pattern.match(reason)
            if m:
                groups = [g if g in ("abstract", "disabled") else _code(g) for g in m.groups()]
                return text.format(*groups)
    rest = [r for r in reasons if r != "deleted"]
    return "; ".join(rest) if rest else "it no longer exists in this pull request"


def _codes(values: Sequence[str]) -> str:
    """Why a project was planned, or which projects: "`stack.vars`, `component`"."""
    return ", ".join(_code(v) for v in values)


def _quote(text: str) -> str:
    """Someone's free text as a block quote: every line starts with ">", so no
    line of it can end the quote and continue as our own markdown."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(f"> {line}" if line else ">" for line in lines)


def _sentence(text: str) -> str:
    """A clause as a sentence: capitalised, one line, ending with a full stop."""
    text = " ".join(text.strip().splitlines())
    if text[:1].islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _duration(seconds: float) -> str:
    """A wait as people say it: "45 s", "12 min", "1 h 5 min"."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _plural(word: str, count: int) -> str:
    return word if count == 1 else f"{word}s"


def _line_count(text: str) -> int:
    return text.count("\n") + 1 if text else 0
