"""Comment bodies compared with tests/golden/*.md.

Regenerate after an intended wording change with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/report`, then review the diff.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from atlantis_py.domain.drift import ResourceChange
from atlantis_py.domain.forge import StatusState
from atlantis_py.domain.results import PlanCounts, ProjectResult, RunStatus
from atlantis_py.domain.writes import ForgeWrite, WriteKind, describe
from atlantis_py.errors import RepoConfigError
from atlantis_py.report import Renderer

GOLDEN = Path(__file__).resolve().parents[2] / "golden"

PLAN_OUTPUT = """\
Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  + create

Terraform will perform the following actions:

  # null_resource.app will be created
  + resource "null_resource" "app" {
      + id = (known after apply)
    }

Plan: 1 to add, 0 to change, 0 to destroy.
"""

LONG_PLAN_OUTPUT = (
    "Terraform will perform the following actions:\n\n"
    + "".join(
        f"  # aws_route53_record.r{i} will be updated in-place\n"
        f'  ~ resource "aws_route53_record" "r{i}" {{\n'
        f"      ~ ttl = 300 -> 60\n"
        f"    }}\n"
        for i in range(4)
    )
    + "\nPlan: 0 to add, 4 to change, 0 to destroy.\n"
)

NO_CHANGES_OUTPUT = """\
null_resource.app: Refreshing state... [id=4211]

No changes. Your infrastructure matches the configuration.
"""

PLAN_ERROR_OUTPUT = """\
Error: Unsupported argument

  on main.tf line 3, in resource "null_resource" "db":
   3:   tags = {}

An argument named "tags" is not expected here.
"""

APPLY_OUTPUT = """\
null_resource.app: Creating...
null_resource.app: Creation complete after 0s [id=4211]

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.
"""


def result(
    project: str,
    dir: str,
    status: RunStatus = RunStatus.SUCCESS,
    *,
    command: str = "plan",
    workspace: str = "default",
    output: str = "",
    error: str | None = None,
    counts: PlanCounts | None = None,
    locked_by: int | None = None,
) -> ProjectResult:
    return ProjectResult(
        project=project,
        dir=dir,
        workspace=workspace,
        command=command,
        status=status,
        output=output,
        error=error,
        counts=counts,
        locked_by=locked_by,
        head_sha="9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
    )


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME.md; UPDATE_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / f"{name}.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{path} differs; UPDATE_GOLDEN=1 rewrites"


@pytest.fixture
def renderer() -> Renderer:
    return Renderer()


def test_plan_single_project_success(renderer: Renderer) -> None:
    body = renderer.plan([result("app", "app", output=PLAN_OUTPUT, counts=PlanCounts(add=1))])
    assert "**Plan: 1 to add, 0 to change, 0 to destroy.**" in body
    assert "* :arrow_forward: To **apply** this plan, comment:\n  `atlantis apply -p app`" in body
    assert ":repeat: To **plan** this project again, comment: `atlantis plan -p app`" in body
    assert '+   resource "null_resource" "app" {' in body
    assert "<details>" not in body
    assert "`atlantis apply`" not in body
    assert_golden("plan_single_success", body)


def test_plan_several_projects_with_one_error(renderer: Renderer) -> None:
    body = renderer.plan(
        [
            result("app", "app", output=PLAN_OUTPUT, counts=PlanCounts(add=1)),
            result(
                "dns",
                "infra/dns",
                workspace="staging",
                output=LONG_PLAN_OUTPUT,
                counts=PlanCounts(change=4),
            ),
            result("db", "db", RunStatus.FAILURE, output=PLAN_ERROR_OUTPUT, error="exit status 1"),
            result("cache", "cache", RunStatus.ERROR, error="locked by #12"),
        ]
    )
    assert body.startswith("Ran Plan for 4 projects:\n")
    assert "project: `dns` dir: `infra/dns` workspace: `staging`" in body
    assert "<details><summary>Show Output</summary>" in body
    assert body.count("**Plan Error**") == 2
    assert "locked by #12" in body
    assert "To apply all unapplied plans from this pull request, comment: `atlantis apply`" in body
    assert body.rstrip().endswith("Plan: 1 to add, 4 to change, 0 to destroy.")
    assert_golden("plan_multi_with_error", body)


def test_plan_no_changes(renderer: Renderer) -> None:
    body = renderer.plan([result("app", "app", output=NO_CHANGES_OUTPUT, counts=PlanCounts())])
    assert "**No changes. Your infrastructure matches the configuration.**" in body
    assert_golden("plan_no_changes", body)


def test_plan_extra_text_and_empty_results(renderer: Renderer) -> None:
    body = renderer.plan([], extra="Autoplan skipped `docs/`.")
    assert "nothing was planned" in body
    assert body.endswith("Autoplan skipped `docs/`.\n")


def test_plan_output_containing_backticks_cannot_end_the_fence(renderer: Renderer) -> None:
    body = renderer.plan([result("app", "app", RunStatus.FAILURE, output="bad ``` here\n```\n")])
    assert "````\nbad ``` here\n```\n````" in body


def test_apply_success(renderer: Renderer) -> None:
    body = renderer.apply([result("app", "app", command="apply", output=APPLY_OUTPUT)])
    assert body.startswith("Ran Apply for 1 project:\n")
    assert "Apply complete! Resources: 1 added" in body
    assert_golden("apply_success", body)


def test_apply_not_settled_lists_what_the_next_plan_changes(renderer: Renderer) -> None:
    """Two projects applied; the plan right after still changes one of them."""
    applied = [replace(result("app", "app", command="apply", output=APPLY_OUTPUT),
                       head_sha="abc1234def5678"),
               replace(result("db", "db", command="apply", output=APPLY_OUTPUT),
                       head_sha="abc1234def5678")]
    body = renderer.apply(applied, {"app": (
        ResourceChange("terraform_data.stamp", ("delete", "create")),
        ResourceChange("null_resource.app", ("update",)))})
    assert body.count("**Not settled:**") == 1
    assert "* `terraform_data.stamp`: delete, create\n" in body
    assert "Not settled" not in renderer.apply(applied, {})
    assert_golden("apply_not_settled", body)


def test_apply_failure(renderer: Renderer) -> None:
    body = renderer.apply(
        [
            result("app", "app", command="apply", output=APPLY_OUTPUT),
            result(
                "db",
                "db",
                RunStatus.FAILURE,
                command="apply",
                output=PLAN_ERROR_OUTPUT,
                error="exit status 1",
            ),
        ]
    )
    assert "**Apply Error**" in body
    assert_golden("apply_failure", body)


def test_apply_in_order_with_projects_not_run(renderer: Renderer) -> None:
    """Execution order groups: one failed, the next was not run (abort), and a
    project whose dependency did not apply; then automerge did not act."""
    aborted = ("execution order group 1 failed (`net`) and `abort_on_execution_order_fail` "
               "is set, so later groups did not run. Fix the failure, then comment "
               "`atlantis apply` again.")
    waiting = "it depends on `net` (`depends_on`), which did not apply successfully."
    body = renderer.apply([
        result("net", "net", RunStatus.FAILURE, command="apply", output=PLAN_ERROR_OUTPUT,
               error="exit status 1"),
        replace(result("dns", "dns", RunStatus.ERROR, command="apply", error=waiting),
                skipped=waiting),
        replace(result("app", "app", RunStatus.ERROR, command="apply", error=aborted),
                skipped=aborted),
    ])
    assert body.count("**Not applied**: ") == 2
    assert "group 1 failed (`net`)" in body and "Automerge" not in body
    assert body.count("**Apply Error**") == 1
    assert_golden("apply_order_not_run", body)


def test_plan_lists_a_project_not_planned_with_why(renderer: Renderer) -> None:
    why = ("execution order group 0 failed (`net`) and `abort_on_execution_order_fail` "
           "is set, so later groups did not run. Fix the failure, then comment "
           "`atlantis plan` again.")
    body = renderer.plan([
        result("net", "net", RunStatus.FAILURE, output=PLAN_ERROR_OUTPUT, error="exit 1"),
        replace(result("app", "app", RunStatus.ERROR, error=why), skipped=why),
    ])
    _, app = body.split("### 2. project:")
    assert f"**Not planned**: {why}" in app and "Plan Error" not in app
    assert "2 projects: 0 with changes, 0 with no changes, 2 failed." in body


def test_apply_automerged_and_branch_deleted(renderer: Renderer) -> None:
    merge = renderer.merge(merged=True, base_ref="main", head_ref="feature",
                           branch_deleted=True)
    body = renderer.apply([result("app", "app", command="apply", output=APPLY_OUTPUT)],
                          merge=merge)
    assert body.rstrip().endswith("The branch `feature` was deleted "
                                  "(`delete_source_branch_on_merge`).")
    assert "so it was merged into `main` (`automerge`)" in body
    assert_golden("apply_automerged", body)


def test_apply_automerge_failed_says_what_to_do(renderer: Renderer) -> None:
    merge = renderer.merge(merged=False, base_ref="main", head_ref="feature",
                           error="GitHub: merging acme/infra#7 failed: HTTP 405: "
                                 "Pull Request is not mergeable")
    body = renderer.apply([result("app", "app", command="apply", output=APPLY_OUTPUT)],
                          merge=merge)
    assert "**Automerge failed**" in body and "Pull Request is not mergeable" in body
    assert "comment `atlantis apply` to try the merge again" in body
    assert_golden("apply_automerge_failed", body)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"merged": True, "branch_deleted": False, "branch_error": "HTTP 422: gone"},
     ("could not be deleted (`delete_source_branch_on_merge`): HTTP 422: gone. "
     "Delete it yourself.")),
    ({"merged": True}, "(`automerge`).\n"),
    ({"merged": False, "retrying": True, "error": "HTTP 502"},
     "did not take the merge into `main` just now (HTTP 502). The merge is tried again"),
])
def test_merge_outcomes(renderer: Renderer, kwargs: dict[str, object], expected: str) -> None:
    body = renderer.merge(base_ref="main", head_ref="feature", **kwargs)  # type: ignore[arg-type]
    assert expected in body
    assert "deleted" in body or "branch_deleted" not in kwargs


def test_help(renderer: Renderer) -> None:
    body = renderer.help(["-target", "-var", "-var-file"])
    for command in (
        "`atlantis plan [-p NAME | [-d DIR] [-w WORKSPACE]] [-- EXTRA_ARGS]`",
        "`atlantis apply [-p NAME | [-d DIR] [-w WORKSPACE]]`",
        "`atlantis unlock`",
        "`atlantis version [-p NAME | [-d DIR] [-w WORKSPACE]]`",
        "`atlantis import [-p NAME | [-d DIR] [-w WORKSPACE]] ADDRESS ID",
        "`atlantis state rm [-p NAME | [-d DIR] [-w WORKSPACE]] ADDRESS...",
        "`atlantis help`",
    ):
        assert command in body
    assert "`-target`, `-var`, `-var-file`" in body
    assert_golden("help", body)


def test_help_without_extra_args(renderer: Renderer) -> None:
    assert "allows no extra arguments" in renderer.help([])


def test_unknown_command_explains_then_shows_help(renderer: Renderer) -> None:
    body = renderer.unknown_command("atlantis plan -x", "unknown flag -x.", ["-target"])
    assert body.startswith("Could not run this command: unknown flag -x.\n")
    assert "Nothing ran." in body
    assert body.endswith(renderer.help(["-target"]))


def test_apply_refused(renderer: Renderer) -> None:
    head = "c0ffee1234567890abcdef1234567890abcdef12"
    body = renderer.apply_refused(
        environment="prod",
        head_sha=head,
        refusals=["needs 1 more approval from bob or a member of acme/sre",
                  ("changes requested by dave: apply is blocked until dave approves or the "
                   "review is dismissed"),
                  ("this branch is 2 commits behind `main` and must contain its head to apply, "
                   "so the apply cannot revert what was merged there: merge or rebase `main` "
                   "into this branch (the new commit is planned and needs approval again)")],
        approvals=[("alice", head)],
        ignored=[("bob", "0ld5ha0000000000000000000000000000000000", "approved an older commit"),
                 ("carol", head, "the author cannot approve their own pull request"),
                 ("mallory", head, "has no write access to acme/infra")],
    )
    assert "* needs 1 more approval from bob or a member of acme/sre" in body
    assert "* alice approved `c0ffee1`" in body
    assert "bob approved `0ld5ha0`: approved an older commit" in body
    assert "carol approved `c0ffee1`: the author cannot approve" in body
    assert "* mallory approved `c0ffee1`: has no write access to acme/infra" in body
    assert "merge or rebase `main` into this branch" in body
    assert "Environment `prod`, head commit `c0ffee1`: nothing was applied." in body
    assert_golden("apply_refused", body)


def test_apply_refused_by_the_base_branch(renderer: Renderer) -> None:
    body = renderer.apply_refused(
        environment=None, head_sha="c0ffee1234567890abcdef1234567890abcdef12",
        refusals=[("this pull request targets `lax-base`, and this server applies only pull "
                   "requests into `main` (--apply-base-branches): retarget it at one of those "
                   "branches")])
    assert body.startswith("**Apply refused**\n\nHead commit `c0ffee1`: nothing was applied.")
    assert "Environment" not in body
    assert_golden("apply_refused_base_branch", body)


def test_apply_refused_without_reviews(renderer: Renderer) -> None:
    body = renderer.apply_refused(environment="dev", head_sha="abc",
                                  refusals=["needs 2 more approvals from anyone but the author"])
    assert "Approvals that count" not in body and "do not count" not in body
    assert "* needs 2 more approvals from anyone but the author" in body


def test_config_error(renderer: Renderer) -> None:
    err = RepoConfigError("workflows.yaml", 7, "projects[1].workflow", 'no workflow named "fast"')
    body = renderer.config_error(err)
    assert "`workflows.yaml`" in body and "line: 7" in body and "`projects[1].workflow`" in body
    assert "Nothing ran." in body
    assert_golden("config_error", body)


def test_config_error_without_line(renderer: Renderer) -> None:
    body = renderer.config_error(RepoConfigError("workflows.yaml", None, "version", "must be 1"))
    assert "line:" not in body


def test_permission_denied(renderer: Renderer) -> None:
    body = renderer.permission_denied("eve", "apply")
    assert body.startswith(
        "@eve does not have permission to run `atlantis apply`: "
        "write access to the repository is required."
    )
    assert renderer.permission_denied("eve", "atlantis apply") == body
    assert_golden("permission_denied", body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (Renderer().nothing_to_apply(), "Comment `atlantis plan` to plan again."),
        (Renderer().apply_interrupted(["db"]), "The lock is kept"),
        (Renderer().apply_interrupted([]), "applying this pull request's plans"),
        (Renderer().plan_outdated("abcdef123456", "123456abcdef"), "`abcdef1`"),
        (Renderer().plan_outdated("abcdef123456", "123456abcdef"), "Comment `atlantis plan`"),
        (Renderer().no_plans(), "Comment `atlantis plan` first."),
        (Renderer().unlocked(0), "nothing to unlock"),
        (Renderer().unlocked(1), "Deleted 1 plan and released its lock"),
        (Renderer().unlocked(3), "Deleted 3 plans and released their locks"),
        (Renderer().error("checkout failed", "fatal: bad object"), "**Error: checkout failed**"),
    ],
)
def test_short_comments(body: str, expected: str) -> None:
    assert expected in body
    assert body.endswith("\n") and not body.endswith("\n\n")


def test_project_without_name_is_targeted_by_dir_and_workspace(renderer: Renderer) -> None:
    body = renderer.plan([result("", "infra", workspace="prod", counts=PlanCounts())])
    assert "`atlantis apply -d infra -w prod`" in body
    assert "1. dir: `infra` workspace: `prod`" in body


ATMOS_CHANGE_OUTPUT = """\
Terraform will perform the following actions:

  # terraform_data.vpc will be updated in-place
  ~ resource "terraform_data" "vpc" {
      ~ input = "10.0.0.0/16" -> "10.1.0.0/16"
    }

Plan: 0 to add, 1 to change, 0 to destroy.
"""

ATMOS_DESTROY_OUTPUT = """\
Terraform will perform the following actions:

  # terraform_data.vpc will be destroyed
  - resource "terraform_data" "vpc" {
      - input = "10.2.0.0/16" -> null
    }

Plan: 0 to add, 0 to change, 1 to destroy.
"""


def test_plan_atmos_reasons_and_destroy(renderer: Renderer) -> None:
    changed = replace(result("plat-ue2-dev-vpc", "components/terraform/vpc",
                             workspace="plat-ue2-dev", output=ATMOS_CHANGE_OUTPUT,
                             counts=PlanCounts(change=1)),
                      reasons=("stack.vars", "component"),
                      skipped_vars=("vpc_flow_logs_bucket_arn",))
    destroyed = replace(result("plat-uw2-prod-vpc", "components/terraform/vpc",
                               workspace="plat-uw2-prod", output=ATMOS_DESTROY_OUTPUT,
                               counts=PlanCounts(destroy=1)),
                        reasons=("deleted",
                                 "stack file removed: stacks/orgs/acme/plat/prod/us-west-2.yaml"),
                        deleted=True)
    body = renderer.plan([changed, destroyed])
    assert "**Why planned:** `stack.vars`, `component`" in body
    assert body.count("**Not passed to terraform**") == 1
    assert "only Atmos resolves): `vpc_flow_logs_bucket_arn`." in body
    assert ("**This project will be DESTROYED** because "
            "`stacks/orgs/acme/plat/prod/us-west-2.yaml` was removed") in body
    assert "workspace: `plat-uw2-prod` **(destroy)**" in body
    assert "`atlantis apply -p plat-uw2-prod-vpc`" in body
    assert_golden("plan_atmos", body)


@pytest.mark.parametrize(("reasons", "expected"), [
    (("deleted", "stack file removed: stacks/a.yaml"), "`stacks/a.yaml` was removed"),
    (("deleted", "no *.tf left in old/net"), "`old/net` was removed"),
    (("deleted", "component removed from stacks/a.yaml"),
     "the component was removed from `stacks/a.yaml`"),
    (("deleted", "component made abstract in stacks/a.yaml"),
     "the component was made abstract in `stacks/a.yaml`"),
    (("deleted",), "it no longer exists in this pull request"),
])
def test_destroy_reasons_read_as_sentences(renderer: Renderer, reasons: tuple[str, ...],
                                           expected: str) -> None:
    body = renderer.plan([replace(result("p", "d"), reasons=reasons, deleted=True)])
    assert f"will be DESTROYED** because {expected}." in body


LOCK_HINT = "The lock is released when #12 is merged or closed, or when someone comments"


def test_plan_with_a_lock_conflict(renderer: Renderer) -> None:
    body = renderer.plan(
        [
            result("app", "app", output=PLAN_OUTPUT, counts=PlanCounts(add=1)),
            result("db", "db", RunStatus.ERROR, workspace="prod", error="ignored",
                   locked_by=12),
        ]
    )
    assert ("**Plan Error**: dir: `db` workspace: `prod` is locked by pull request #12."
            in body)
    assert LOCK_HINT in body
    assert "Once it is released, comment `atlantis plan -p db` here again." in body
    assert "ignored" not in body
    assert "2 projects: 1 with changes, 0 with no changes, 1 failed." in body
    assert_golden("plan_lock_conflict", body)


def test_apply_with_a_lock_conflict(renderer: Renderer) -> None:
    body = renderer.apply([result("db", "db", RunStatus.ERROR, command="apply", locked_by=12,
                                  error="locked by pull request #12")])
    assert "**Apply Error**: dir: `db` workspace: `default` is locked by pull request #12." in body
    assert LOCK_HINT in body
    assert "comment `atlantis plan -p db` here and apply the new plan." in body
    assert "```" not in body
    assert_golden("apply_lock_conflict", body)


def test_help_lists_flags_and_extra_args_as_the_parser_takes_them(renderer: Renderer) -> None:
    body = renderer.help(["-target=", "-refresh=false", "-destroy"])
    for flag in ("`-p NAME` or `--project NAME`", "`-d DIR` or `--dir DIR`",
                 "`-w WORKSPACE` or `--workspace WORKSPACE`"):
        assert flag in body
    assert "`-p` cannot be combined with `-d` or `-w`." in body
    assert "Allowed: `-target=...`, `-refresh=false`, `-destroy`." in body
    assert "(`apply` takes none)" in body
    assert "the next word (`-var foo=bar`)" in body
    assert "without `-d`, that workspace of the repository root" in body


def test_review_approved_without_comment(renderer: Renderer) -> None:
    body = renderer.review_recorded(actor="alice", approved=True,
                                    head_sha="c0ffee1234567890", comment="")
    assert body == "**`alice`** approved this change at `c0ffee1` (via atlantis-py).\n"
    assert renderer.review_recorded(actor="alice", approved=True, head_sha="c0ffee1234567890",
                                    comment="  \n") == body
    assert_golden("review_approved", body)


def test_review_rejected_quotes_every_line_of_the_comment(renderer: Renderer) -> None:
    body = renderer.review_recorded(
        actor="bob", approved=False, head_sha="c0ffee1234567890",
        comment="The CIDR overlaps staging.\n\nUse 10.2.0.0/16 instead.\n")
    assert body.startswith("**`bob`** rejected this change at `c0ffee1` (via atlantis-py):\n\n")
    assert body.endswith("> The CIDR overlaps staging.\n>\n> Use 10.2.0.0/16 instead.\n")
    assert_golden("review_rejected", body)


@pytest.mark.parametrize("text", [
    "fine\n\n# Approved by the security team\n",
    "fine\r\n**bold claim**\r\n```\n",
    "a\n\n---\n\n* :arrow_forward: comment `atlantis apply`",
])
def test_free_text_cannot_leave_its_quote(renderer: Renderer, text: str) -> None:
    body = renderer.review_recorded(actor="eve\n\n# evil", approved=False, head_sha="abc",
                                    comment=text)
    head, quoted = body.split("\n\n", 1)
    assert head.startswith("**`eve  # evil`** rejected")
    assert all(line == ">" or line.startswith("> ") for line in quoted.splitlines())
    body = renderer.cancelled(actor="eve", released=0, reason=text)
    reason = body.split("Reason:\n\n", 1)[1]
    assert all(line == ">" or line.startswith("> ") for line in reason.splitlines())


def test_head_moved(renderer: Renderer) -> None:
    body = renderer.head_moved(branch="change-both", old_sha="abcdef123456",
                               head_sha="123456abcdef")
    assert "`change-both`" in body and "`abcdef1`" in body and "`123456a`" in body
    assert_golden("head_moved", body)


def test_apply_replanning(renderer: Renderer) -> None:
    body = renderer.apply_replanning(branch="change-both", planned_sha="abcdef123456",
                                     head_sha="123456abcdef")
    assert "`change-both`" in body and "`abcdef1`" in body and "`123456a`" in body
    assert "already being planned" in body and "no need to comment `atlantis plan`" in body
    assert_golden("apply_replanning", body)


def test_cancelled_with_reason(renderer: Renderer) -> None:
    body = renderer.cancelled(actor="alice", released=1, reason="Superseded by #42.")
    assert body.startswith(
        "**`alice`** cancelled this change (via atlantis-py); 1 lock released.\n")
    assert body.endswith("Reason:\n\n> Superseded by #42.\n")
    assert_golden("cancelled", body)


@pytest.mark.parametrize(("released", "expected"), [
    (0, "; it held no locks.\n"),
    (2, "; 2 locks released.\n"),
])
def test_cancelled_without_reason(renderer: Renderer, released: int, expected: str) -> None:
    body = renderer.cancelled(actor="alice", released=released, reason="")
    assert body.endswith(expected)
    assert "Reason" not in body


def test_review_expired(renderer: Renderer) -> None:
    body = renderer.review_expired(
        author="carol",
        notice=("No approval arrived within the review deadline of 2d for production, "
                'so this request was rejected with reason "expired".'))
    assert '@carol No approval arrived within the review deadline of 2d for production' in body
    assert body.endswith("push a new commit or comment `atlantis plan`.\n")
    assert_golden("review_expired", body)


def test_apply_interrupted(renderer: Renderer) -> None:
    body = renderer.apply_interrupted(["network", "dns"])
    assert body.startswith("**Apply interrupted**\n")
    assert "while applying `network`, `dns`;" in body
    assert "will not be run again automatically" in body
    assert "The locks are kept" in body
    assert "comment `atlantis plan` and apply the new plan" in body
    assert_golden("apply_interrupted", body)


def test_apply_without_plan(renderer: Renderer) -> None:
    body = renderer.apply_without_plan(["db", "cache"])
    assert "Projects `db`, `cache` have no successful plan for this commit." in body
    assert "Nothing was applied." in body
    assert_golden("apply_without_plan", body)
    assert "Project `db` has no successful plan" in renderer.apply_without_plan(["db"])


def test_version(renderer: Renderer) -> None:
    body = renderer.version("1.2.3")
    assert body == "atlantis-py 1.2.3\n"
    assert_golden("version", body)


def test_nothing_to_plan(renderer: Renderer) -> None:
    body = renderer.nothing_to_plan()
    assert body.startswith("Ran Plan for 0 projects")
    assert "No plans to apply" not in body
    assert_golden("nothing_to_plan", body)


def test_nothing_to_apply(renderer: Renderer) -> None:
    body = renderer.nothing_to_apply()
    assert "already applied, or its apply was interrupted" in body
    assert_golden("nothing_to_apply", body)


def test_plan_not_run_prints_the_problem_as_a_sentence(renderer: Renderer) -> None:
    body = renderer.plan_not_run("no project named `x` in this repository")
    assert "\nNo project named `x` in this repository.\n" in body
    assert "```" not in body
    assert_golden("plan_not_run", body)
    assert "\n`infra` holds no Terraform (*.tf) files.\n" in renderer.plan_not_run(
        "`infra` holds no Terraform (*.tf) files.")


def test_stacks_invalid_fences_the_parser_error(renderer: Renderer) -> None:
    err = "stacks/deploy/dev.yaml:7: malformed YAML: mapping values are not allowed here"
    body = renderer.stacks_invalid(err)
    assert f"```\n{err}\n```" in body
    assert_golden("stacks_invalid", body)
    assert "````\nx: ```\n````" in renderer.stacks_invalid("x: ```")


def test_unknown_command_fences_the_comment(renderer: Renderer) -> None:
    body = renderer.unknown_command("atlantis plan ```", "unexpected argument.")
    assert "````\natlantis plan ```\n````" in body


@pytest.mark.parametrize(("state", "hint"), [
    ("CANCELLED", "push a new commit, or close and reopen the pull request"),
    ("REJECTED", "the reviewer approves, or the review is dismissed"),
    ("APPLYING", "the result will be posted here"),
])
def test_apply_blocked_names_the_state_and_the_way_on(renderer: Renderer, state: str,
                                                      hint: str) -> None:
    body = renderer.apply_blocked(state)
    assert body.startswith(f"**Apply refused**\n\nThis change is `{state}`: nothing was applied.")
    assert hint in body and body.endswith("\n") and not body.endswith("\n\n")
    if state == "CANCELLED":
        assert_golden("apply_blocked", body)
def test_job_failed_says_what_failed_where_to_look_and_what_to_do(renderer: Renderer) -> None:
    body = renderer.job_failed(
        what="autoplan of `4f2a9c1`",
        error="ForgeError: GitHub: listing files of acme/infra#4 failed: HTTP 403: "
              "Resource not accessible by integration",
        hint="Comment `atlantis plan` to plan again.", job_id=12,
        delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert_golden("job_failed", body)


def test_job_gave_up_says_how_long_it_tried(renderer: Renderer) -> None:
    body = renderer.job_failed(
        what="`atlantis apply`",
        error="TransientForgeError: GitLab: commenting on acme/infra!4 failed: HTTP 502: "
              "Server Error",
        hint="Comment `atlantis apply` to try again.", job_id=7, delivery_id="",
        gave_up=True, attempts=9, waited=1830.0, undelivered=[
            describe(ForgeWrite(WriteKind.COMMENT, "gitlab", "acme/infra", number=4,
                                body="\nRan Apply for 1 project:\n\n1. project: `network`")),
            describe(ForgeWrite(WriteKind.STATUS, "gitlab", "acme/infra", sha="4f2a9c1" * 5,
                                context="atlantis/apply", state=StatusState.SUCCESS,
                                body="1/1 applied"))])
    assert "never reached the pull request" in body
    assert "“Ran Apply for 1 project:”" in body and "`atlantis/apply` = success" in body
    assert_golden("job_gave_up", body)


@pytest.mark.parametrize("seconds, text", [
    (0.4, "0 s"), (45, "45 s"), (59.4, "59 s"), (90, "2 min"), (1830, "30 min"),
    (3600, "1 h"), (3900, "1 h 5 min")])
def test_waits_read_as_people_say_them(renderer: Renderer, seconds: float, text: str) -> None:
    body = renderer.job_failed(what="x", error="e", hint="h", job_id=1, delivery_id="",
                               gave_up=True, attempts=2, waited=seconds)
    assert f"after 2 attempts over {text}." in body


def test_lock_released_names_the_lock_and_quotes_the_reason(renderer: Renderer) -> None:
    body = renderer.lock_released(actor="root", dir="network", workspace="default",
                                  project="network", reason="Stuck since the outage.\n# hi")
    assert body.startswith("**`root`** released this pull request's lock on `network`")
    reason = body.split("Reason:\n\n", 1)[1]
    assert all(line == ">" or line.startswith("> ") for line in reason.splitlines())
    assert_golden("lock_released", body)


def test_hook_failed(renderer: Renderer) -> None:
    body = renderer.hook_failed(kind="pre", name="generate tfvars",
                                argv=["./gen.sh", "--all"], returncode=3,
                                output="…(earlier output cut)\nno such stack\n", command="plan")
    assert body.startswith("**Pre workflow hook failed: generate tfvars**")
    assert "`./gen.sh --all` exited with code 3, so nothing was planned" in body
    assert "no such stack" in body
    assert_golden("hook_failed", body)
    post = renderer.hook_failed(kind="post", name="post workflow hook #0", argv=["x"],
                                returncode=1, output="", command="apply")
    assert "nothing was" not in post and "the apply itself finished" in post


def test_branch_not_served(renderer: Renderer) -> None:
    body = renderer.branch_not_served(base="develop", pattern="^main$", what="planned")
    assert "`/^main$/`" in body and "`develop`" in body and "Nothing was planned" in body
    assert_golden("branch_not_served", body)
IMPORT_OUTPUT = """\
terraform_data.x: Importing from ID "some-id"...
terraform_data.x: Import prepared!
  Prepared terraform_data for import
terraform_data.x: Refreshing state... [id=some-id]

Import successful!
"""


def test_import_success_says_a_new_plan_follows(renderer: Renderer) -> None:
    body = renderer.state_command(
        result("", ".", command="import", output=IMPORT_OUTPUT),
        "atlantis import terraform_data.x some-id", replanning=True)
    assert body.startswith("Ran Import for dir: `.` workspace: `default`\n")
    assert "Import successful!" in body and "the new plan follows" in body
    assert_golden("import_success", body)


def test_state_rm_failure_names_the_error_and_the_command_to_retry(renderer: Renderer) -> None:
    body = renderer.state_command(
        result("app", "app", RunStatus.FAILURE, command="state_rm",
               output="Error: Invalid target address\n", error="state_rm failed (exit 1)"),
        "atlantis state -p app rm terraform_data.nope", replanning=False)
    assert body.startswith("Ran State rm for project: `app` dir: `app`")
    assert "**State rm Error**" in body and "Invalid target address" in body
    assert "The state was left as it was" in body
    assert "comment `atlantis state -p app rm terraform_data.nope` again" in body
    assert_golden("state_rm_failure", body)


def test_import_refused_names_what_is_missing(renderer: Renderer) -> None:
    body = renderer.apply_refused(
        environment="default", head_sha="c0ffee1234", refusals=["needs 1 more approval"],
        title="Import", nothing="nothing was imported",
        again="atlantis import terraform_data.x some-id")
    assert body.startswith("**Import refused**\n")
    assert "`c0ffee1`: nothing was imported." in body
    assert "comment `atlantis import terraform_data.x some-id` again" in body
    assert_golden("import_refused", body)


def test_command_disabled_lists_what_the_server_allows(renderer: Renderer) -> None:
    body = renderer.command_disabled("import", ["version", "plan", "apply", "unlock"])
    assert "`atlantis import` is disabled on this server" in body
    assert "`atlantis plan`" in body and "--allow-commands" in body
    assert_golden("command_disabled", body)
    assert "allows no commands" in renderer.command_disabled("plan", [])


def test_version_per_project(renderer: Renderer) -> None:
    body = renderer.version("1.2.3", [result("app", "app", command="version",
                                             output="Terraform v1.11.4\non linux_amd64\n")])
    assert body.startswith("atlantis-py 1.2.3\n\nRan Version for project: `app`")
    assert "Terraform v1.11.4" in body
    assert_golden("version_projects", body)


def test_not_run_names_the_problem(renderer: Renderer) -> None:
    body = renderer.not_run("Import", "this pull request has 2 planned projects")
    assert body.startswith("**Import not run**\n\nThis pull request has 2 planned projects.")
    assert_golden("not_run", body)


def test_an_import_id_with_backticks_stays_inside_its_code_span(renderer: Renderer) -> None:
    body = renderer.state_command(
        result("", ".", RunStatus.FAILURE, command="import", error="import failed (exit 1)"),
        "atlantis import a.b 'x`y'", replanning=False)
    assert "comment ``atlantis import a.b 'x`y'`` again." in body
