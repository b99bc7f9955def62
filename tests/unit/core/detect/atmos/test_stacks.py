"""Imports, deep merge and component instances of one ref."""

from __future__ import annotations

import pytest

from atlantis_py.core.detect.atmos import (
    AtmosSettings,
    ImportCycleError,
    MemoryTree,
    StackCache,
    StackError,
)
from atlantis_py.core.detect.atmos.merge import deep_merge
from atlantis_py.core.detect.atmos.stacks import Instance, StackView

SETTINGS = AtmosSettings(included_paths=("stacks-top/**/*",), name_pattern="{stage}")


def view(files: dict[str, str], settings: AtmosSettings = SETTINGS) -> StackView:
    return StackView(MemoryTree(files), settings, StackCache())


def instances(files: dict[str, str]) -> dict[tuple[str, str], Instance]:
    v = view(files)
    return {(i.stack, i.component): i for s in v.stack_files().values() for i in v.instances(s)}


def test_deep_merge_maps_merge_lists_replace_later_wins() -> None:
    a = {"m": {"x": 1, "y": [1, 2]}, "s": "a", "keep": {"k": 1}}
    b = {"m": {"y": [3], "z": 2}, "s": "b"}
    assert deep_merge(a, b) == {"m": {"x": 1, "y": [3], "z": 2}, "s": "b", "keep": {"k": 1}}
    assert deep_merge(a, b)["keep"] is a["keep"]
    assert a == {"m": {"x": 1, "y": [1, 2]}, "s": "a", "keep": {"k": 1}}


@pytest.mark.parametrize("entry", ["catalog/base", "catalog/base.yaml", "catalog/b*",
                                   {"path": "catalog/base"}, "../catalog/base"])
def test_import_forms(entry: object) -> None:
    import json
    top = "stacks/stacks-top/dev.yaml" if entry != "../catalog/base" else "stacks/x/dev.yaml"
    settings = SETTINGS if entry != "../catalog/base" else \
        AtmosSettings(included_paths=("x/*",), name_pattern="{stage}")
    files = {
        "stacks/catalog/base.yaml": "components:\n  terraform:\n    vpc:\n      vars: {a: 1}\n",
        top: f"import:\n  - {json.dumps(entry)}\nvars:\n  stage: dev\n",
    }
    v = view(files, settings)
    [stack] = v.stack_files().values()
    [inst] = v.instances(stack)
    assert (inst.stack, inst.component, inst.value("vars")) == ("dev", "vpc",
                                                               {"stage": "dev", "a": 1})


def test_import_order_nesting_and_component_vars() -> None:
    files = {
        "stacks/org.yaml": "vars: {namespace: acme, stage: none, region: r0}\n"
                           "terraform:\n  vars: {tf_level: 1}\n",
        "stacks/catalog/vpc.yaml": "components:\n  terraform:\n    vpc:\n"
                                   "      vars: {cidr: 10.0.0.0/16, region: catalog}\n",
        "stacks/mid.yaml": "import: [org, catalog/vpc]\nvars: {stage: mid}\n",
        "stacks/stacks-top/dev.yaml": "import: [mid]\nvars: {stage: dev}\n"
                                      "components:\n  terraform:\n    vpc:\n"
                                      "      vars: {cidr: 10.1.0.0/16}\n",
    }
    [inst] = instances(files).values()
    assert inst.value("vars") == {"namespace": "acme", "stage": "dev", "region": "catalog",
                                  "tf_level": 1, "cidr": "10.1.0.0/16"}


def test_abstract_inherits_and_metadata_component() -> None:
    files = {"stacks/stacks-top/dev.yaml": """
vars: {stage: dev}
components:
  terraform:
    vpc-defaults:
      metadata: {type: abstract}
      vars: {a: 1, b: 1}
    vpc:
      metadata: {inherits: [vpc-defaults]}
      vars: {b: 2}
    vpc-2:
      metadata: {component: vpc, inherits: [vpc-defaults]}
    off:
      metadata: {enabled: false}
"""}
    found = instances(files)
    assert sorted(found) == [("dev", "vpc"), ("dev", "vpc-2")]
    vpc, vpc2 = found[("dev", "vpc")], found[("dev", "vpc-2")]
    assert vpc.value("vars") == {"stage": "dev", "a": 1, "b": 2}
    assert (vpc2.folder, vpc2.workspace) == ("vpc", "dev-vpc-2")
    assert vpc.workspace == "dev"


def test_import_cycle_reports_the_cycle() -> None:
    files = {"stacks/a.yaml": "import: [b]\n", "stacks/b.yaml": "import: [c]\n",
             "stacks/c.yaml": "import: [a]\n",
             "stacks/stacks-top/dev.yaml": "import: [a]\nvars: {stage: dev}\n"}
    with pytest.raises(ImportCycleError) as err:
        view(files).stack_files()
    assert err.value.cycle == ("stacks/a.yaml", "stacks/b.yaml", "stacks/c.yaml",
                               "stacks/a.yaml")
    assert "stacks/a.yaml -> stacks/b.yaml -> stacks/c.yaml -> stacks/a.yaml" in str(err.value)


def test_missing_import_names_importer() -> None:
    files = {"stacks/stacks-top/dev.yaml": "import: [catalog/nope]\n"}
    with pytest.raises(StackError, match="stacks/stacks-top/dev.yaml: import 'catalog/nope'"):
        view(files).stack_files()


def test_each_blob_parsed_once_across_refs() -> None:
    files = {"stacks/catalog/x.yaml": "vars: {a: 1}\n",
             **{f"stacks/stacks-top/s{i}.yaml": f"import: [catalog/x]\nvars: {{stage: s{i}}}\n"
                for i in range(5)}}
    cache = StackCache()
    StackView(MemoryTree(files), SETTINGS, cache).stack_files()
    StackView(MemoryTree(files), SETTINGS, cache).stack_files()
    assert cache.parses == 6
