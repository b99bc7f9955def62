"""describe_affected on the real Atmos example and on generated repositories
whose expected affected sets are computed here from the generator's own rules."""

from __future__ import annotations

import itertools
import json

import pytest

from atlantis_py.core.detect.atmos import (
    AffectedProject,
    ImportCycleError,
    MemoryTree,
    StackCache,
    StackError,
    describe_affected,
    discover_settings,
    settings_from_section,
    tfvars_json,
)

PLAT = [f"plat-{r}-{s}" for r in ("ue2", "uw2") for s in ("dev", "staging", "prod")]


def run(before: dict[str, str], after: dict[str, str], cache: StackCache | None = None
        ) -> list[AffectedProject]:
    head = MemoryTree(after)
    settings = discover_settings(head)
    assert settings is not None
    return describe_affected(MemoryTree(before), head, None, settings, cache=cache)


def keys(found: list[AffectedProject]) -> set[tuple[str | None, str | None]]:
    return {(a.stack, a.component) for a in found}


# -- the real example ------------------------------------------------------

def test_example_unchanged_is_empty(example: dict[str, str]) -> None:
    assert run(example, example) == []


def test_example_catalog_change_affects_stacks_whose_merge_changed(example: dict[str, str]
                                                                   ) -> None:
    after = dict(example)
    path = "stacks/catalog/s3-bucket/defaults.yaml"
    after[path] = example[path].replace("name: assets", "name: assets-v2")
    found = run(example, after)
    assert keys(found) == {(s, "s3-bucket") for s in PLAT}
    assert {a.reasons for a in found} == {("stack.vars",)}
    a = next(a for a in found if a.stack == "plat-ue2-dev")
    assert (a.project, a.dir, a.workspace) == ("plat-ue2-dev-s3-bucket",
                                               "components/terraform/s3-bucket", "plat-ue2-dev")
    assert a.vars["name"] == "assets-v2" and a.vars["force_destroy"] is True


def test_example_masked_catalog_change_affects_nothing(example: dict[str, str]) -> None:
    """Every top-level stack overrides force_destroy, so the catalog default is moot."""
    after = dict(example)
    path = "stacks/catalog/s3-bucket/defaults.yaml"
    after[path] = example[path].replace("versioning_enabled: true",
                                        "versioning_enabled: true\n        force_destroy: true")
    assert run(example, after) == []


def test_example_function_text_change(example: dict[str, str]) -> None:
    after = dict(example)
    path = "stacks/catalog/sqs-queue/defaults.yaml"
    after[path] = example[path].replace('"arn:aws:sns:', '"arn:aws-cn:sns:')
    assert keys(run(example, after)) == {(s, "sqs-queue") for s in PLAT}


def test_example_mixin_change_affects_one_region(example: dict[str, str]) -> None:
    after = dict(example)
    after["stacks/mixins/region/us-west-2.yaml"] = example[
        "stacks/mixins/region/us-west-2.yaml"].replace("mock-assets", "mock-assets-2")
    found = run(example, after)
    assert keys(found) == {(f"plat-uw2-{s}", "s3-bucket") for s in ("dev", "staging", "prod")}
    assert {a.reasons for a in found} == {("stack.mocks",)}


def test_example_component_folder_change(example: dict[str, str]) -> None:
    after = {**example, "components/terraform/kms-key/variables.tf": 'variable "x" {}\n'}
    found = run(example, after)
    assert keys(found) == {(s, "kms-key") for s in PLAT}
    assert {a.reasons for a in found} == {("component",)}


def test_example_module_change(example: dict[str, str]) -> None:
    before = {**example, "modules/naming/main.tf": 'output "n" { value = "a" }\n'}
    main = example["components/terraform/sns-topic/main.tf"]
    before["components/terraform/sns-topic/main.tf"] = (
        main + 'module "naming" {\n  source = "../../../modules/naming"\n}\n')
    after = {**before, "modules/naming/main.tf": 'output "n" { value = "b" }\n'}
    found = run(before, after)
    assert keys(found) == {(s, "sns-topic") for s in PLAT}
    assert {a.reasons for a in found} == {("component.module",)}


def test_example_stack_deleted(example: dict[str, str]) -> None:
    after = dict(example)
    del after["stacks/orgs/acme/plat/prod/us-west-2.yaml"]
    found = run(example, after)
    assert all(a.deleted for a in found)
    assert {a.component for a in found} == {"app-config", "dynamodb-table", "kms-key",
                                            "s3-bucket", "sns-topic", "sqs-queue"}
    assert {a.stack for a in found} == {"plat-uw2-prod"}
    assert {a.reasons for a in found} == {
        ("deleted", "stack file removed: stacks/orgs/acme/plat/prod/us-west-2.yaml")}
    kms = next(a for a in found if a.component == "kms-key")
    assert kms.vars["deletion_window_in_days"] == 30  # the base ref's vars


def test_example_component_removed_from_one_stack(example: dict[str, str]) -> None:
    path = "stacks/orgs/acme/plat/dev/us-east-2.yaml"
    after = {**example, path: example[path] + "    sqs-queue:\n      metadata:\n"
                                              "        type: abstract\n"}
    [gone] = run(example, after)
    assert (gone.stack, gone.component, gone.deleted) == ("plat-ue2-dev", "sqs-queue", True)
    assert gone.reasons == ("deleted", f"component made abstract in {path}")


def test_example_vars_file(example: dict[str, str]) -> None:
    after = {**example, "components/terraform/app-config/main.tf": "# edit\n"}
    a = next(a for a in run(example, after) if a.stack == "plat-ue2-dev")
    text, skipped = tfvars_json(a.vars)
    assert '"name": "app"' in text and '"stage": "dev"' in text
    assert skipped == ("api_key", "bucket_id", "db_password", "kms_key_arn", "queue_url",
                       "table_name", "topic_arn")


def test_vars_file_holds_what_yaml_can_hold() -> None:
    """Found by fuzzing: `!!binary` and `!!set` values made json.dumps raise."""
    from atlantis_py.core.detect.atmos.yamlload import load_mapping

    vars_ = load_mapping(b"b: !!binary aGVsbG8=\ns: !!set {x, y}\n", "stack.yaml")
    text, _ = tfvars_json(vars_)
    assert json.loads(text) == {"b": "hello", "s": {"x": None, "y": None}}


# -- generated repositories ------------------------------------------------

TENANTS, STAGES, COMPS = ("t0", "t1", "t2"), ("dev", "prod"), ("c0", "c1", "c2", "c3")


def uses(tenant: str) -> list[str]:
    """Generator rule: tenant i deploys c_i and c_{i+1}; c3 only by t2."""
    i = TENANTS.index(tenant)
    return [COMPS[i], COMPS[i + 1]]


def generated(abstract: tuple[str, str] | None = None) -> dict[str, str]:
    files = {"atmos.yaml": "stacks:\n  included_paths: ['orgs/**/*']\n"
                           "  excluded_paths: ['**/_defaults.yaml']\n"
                           "  name_pattern: '{tenant}-{stage}'\n",
             "modules/m/main.tf": "# module\n"}
    for c in COMPS:
        src = '\nmodule "m" {\n  source = "../../../modules/m"\n}\n' if c == "c1" else ""
        files[f"components/terraform/{c}/main.tf"] = f'resource "terraform_data" "{c}" {{}}{src}'
        files[f"stacks/catalog/{c}.yaml"] = (f"components:\n  terraform:\n    {c}:\n"
                                             f"      vars:\n        name: {c}\n        size: 1\n")
    for t in TENANTS:
        imports = "".join(f"  - catalog/{c}\n" for c in uses(t))
        files[f"stacks/orgs/{t}/_defaults.yaml"] = f"import:\n{imports}vars:\n  tenant: {t}\n"
        for s in STAGES:
            extra = ""
            if abstract == (t, s):
                extra = (f"components:\n  terraform:\n    {uses(t)[0]}:\n      metadata:\n"
                         "        type: abstract\n")
            files[f"stacks/orgs/{t}/{s}.yaml"] = (
                f"import:\n  - orgs/{t}/_defaults\nvars:\n  stage: {s}\n{extra}")
    return files


def expected(pred: object) -> set[tuple[str, str]]:
    assert callable(pred)
    return {(f"{t}-{s}", c) for t, s in itertools.product(TENANTS, STAGES)
            for c in uses(t) if pred(t, s, c)}


@pytest.mark.parametrize("component", COMPS)
def test_generated_catalog_import_change(component: str) -> None:
    before = generated()
    after = {**before, f"stacks/catalog/{component}.yaml":
             before[f"stacks/catalog/{component}.yaml"].replace("size: 1", "size: 2")}
    found = run(before, after)
    assert keys(found) == expected(lambda t, s, c: c == component)
    assert all(a.reasons == ("stack.vars",) and a.vars["size"] == 2 for a in found)


@pytest.mark.parametrize("component", COMPS)
def test_generated_component_folder_change(component: str) -> None:
    before = generated()
    after = {**before, f"components/terraform/{component}/extra.tf": "# new\n"}
    assert keys(run(before, after)) == expected(lambda t, s, c: c == component)


def test_generated_module_change() -> None:
    before = generated()
    after = {**before, "modules/m/main.tf": "# module v2\n"}
    found = run(before, after)
    assert keys(found) == expected(lambda t, s, c: c == "c1")
    assert {a.reasons for a in found} == {("component.module",)}


def test_generated_tenant_defaults_change() -> None:
    before = generated()
    after = {**before, "stacks/orgs/t1/_defaults.yaml":
             before["stacks/orgs/t1/_defaults.yaml"] + "  owner: team-b\n"}
    assert keys(run(before, after)) == expected(lambda t, s, c: t == "t1")


def test_generated_stack_deleted() -> None:
    before = generated()
    after = dict(before)
    del after["stacks/orgs/t2/prod.yaml"]
    found = run(before, after)
    assert keys(found) == expected(lambda t, s, c: (t, s) == ("t2", "prod"))
    assert all(a.deleted and a.reasons[0] == "deleted" for a in found)


def test_generated_abstract_component_is_not_deployable() -> None:
    before = generated()
    after = generated(abstract=("t0", "dev"))
    [gone] = run(before, after)
    assert ((gone.stack, gone.component), gone.deleted) == (("t0-dev", "c0"), True)
    # an abstract component present at both refs is never a project
    changed = run(after, {**after, "components/terraform/c0/x.tf": "#\n"})
    assert keys(changed) == expected(lambda t, s, c: c == "c0" and (t, s) != ("t0", "dev"))


def test_generated_import_cycle_plans_nothing() -> None:
    before = generated()
    after = {**before, "stacks/catalog/c0.yaml": "import: [orgs/t0/_defaults]\n"
                                                 + before["stacks/catalog/c0.yaml"]}
    with pytest.raises(ImportCycleError, match="import cycle: "):
        run(before, after)


def test_generated_malformed_yaml_names_file_and_line() -> None:
    before = generated()
    after = {**before, "stacks/catalog/c2.yaml": "components:\n  terraform:\n    c2:\n"
                                                 "      vars: [1, 2\n      x: 1\n"}
    with pytest.raises(StackError) as err:
        run(before, after)
    assert err.value.file == "stacks/catalog/c2.yaml"
    assert err.value.line == 5


def test_cache_reused_across_calls_parses_only_new_blobs() -> None:
    before = generated()
    after = {**before, "stacks/catalog/c0.yaml":
             before["stacks/catalog/c0.yaml"].replace("size: 1", "size: 3")}
    cache = StackCache()
    run(before, after, cache)
    first = cache.parses
    run(before, after, cache)
    assert cache.parses == first
    assert first == len([p for p in before if p.startswith("stacks/")]) + 1


def test_project_name_template_from_section() -> None:
    before = generated()
    after = {**before, "components/terraform/c3/x.tf": "#\n"}
    settings = settings_from_section({"included_paths": ["orgs/**/*"],
                                      "name_pattern": "{tenant}-{stage}",
                                      "project_name": "{component}@{stack}"})
    found = describe_affected(MemoryTree(before), MemoryTree(after),
                              ["components/terraform/c3/x.tf"], settings)
    assert {a.project for a in found} == {"c3@t2-dev", "c3@t2-prod"}
