"""Atmos stacks come from pull requests: whatever the manifests hold (bad YAML,
YAML tags, imports of anything, sections of the wrong type, name templates we
do not evaluate), detection gives a list of projects or a StackError /
TemplateError naming the problem, never another exception; and every project
it gives can be written as a .tfvars.json."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from atlantis_py.core.detect.atmos import (
    AtmosSettings,
    MemoryTree,
    StackError,
    TemplateError,
    describe_affected,
    discover_settings,
    settings_from_atmos_yaml,
    tfvars_json,
)
from atlantis_py.core.detect.atmos.yamlload import load_mapping
from tests.fuzz.strategies import VALUES, mutated

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "atmos-example"
FILES = ["stacks/orgs/acme/dev.yaml", "stacks/orgs/acme/prod.yml", "stacks/orgs/acme/_defaults.yaml",
         "stacks/catalog/vpc.yaml", "stacks/catalog/base.yaml", "stacks/mixins/region.yaml"]
IMPORTS = st.sampled_from(["catalog/vpc", "catalog/*", "catalog/base.yaml", "mixins/region",
                           "orgs/acme/_defaults", "./region", "../catalog/vpc", "../../../x",
                           "/abs", "", "git::https://example.com/x", "missing", "**/*",
                           "catalog/[", "orgs/acme/dev"])
WORDS = st.sampled_from(["acme", "dev", "prod", "ue1", "sandbox", "a/b", ""])
VARS = st.dictionaries(st.sampled_from(["tenant", "environment", "stage", "region", "name"]),
                       WORDS | VALUES, max_size=4)
TAGGED = st.sampled_from(["!terraform.state vpc .vpc_id", "!env HOME", "!!binary aGVsbG8=",
                          "!!set {a, b}", "!!timestamp 2001-12-14", "!include x.yaml",
                          "!!python/object:os.system {}", "[*a]", "&a [1]", "!!str 5",
                          "!exec [echo, hi]", "!store {a: 1}", "!!omap [a: 1]"])
METADATA = st.fixed_dictionaries({}, optional={
    "component": st.sampled_from(["vpc", "eks", "../../etc", ""]) | VALUES,
    "inherits": st.lists(st.sampled_from(["vpc", "base", "eks", "missing"]), max_size=3)
    | VALUES,
    "type": st.sampled_from(["abstract", "real"]) | VALUES,
    "enabled": st.booleans() | VALUES,
    "terraform_workspace": WORDS | VALUES,
    "terraform_workspace_pattern": st.sampled_from(["{tenant}-{stage}", "{component}",
                                                    "{nope}", "{stack}/{x}"]) | VALUES,
})
COMPONENT = st.fixed_dictionaries({}, optional={
    "vars": VARS | VALUES, "metadata": METADATA | VALUES, "settings": VALUES,
    "env": VALUES, "backend": VALUES, "component": WORDS | VALUES})
MANIFEST = st.fixed_dictionaries({}, optional={
    "import": st.lists(IMPORTS | st.builds(lambda p: {"path": p}, IMPORTS) | VALUES,
                       max_size=3) | VALUES,
    "vars": VARS | VALUES,
    "settings": VALUES,
    "terraform": st.fixed_dictionaries({}, optional={"vars": VARS, "backend_type": VALUES,
                                                     "settings": VALUES}) | VALUES,
    "components": st.fixed_dictionaries({}, optional={
        "terraform": st.dictionaries(st.sampled_from(["vpc", "eks", "base"]),
                                     COMPONENT | VALUES, max_size=3) | VALUES}) | VALUES,
})
STACK = st.builds(  # a stack that names instances, so detection gets past the errors
    lambda names, comps, imports: yaml.safe_dump(
        {"import": imports, "vars": names, "components": {"terraform": comps}},
        allow_unicode=True),
    st.fixed_dictionaries({"tenant": WORDS, "environment": WORDS, "stage": WORDS}),
    st.dictionaries(st.sampled_from(["vpc", "eks", "base"]), COMPONENT, min_size=1, max_size=3),
    st.lists(st.sampled_from(["catalog/vpc", "mixins/region"]), max_size=2))
CONTENT = st.one_of(
    STACK,
    STACK,
    MANIFEST.map(lambda m: yaml.safe_dump(m, allow_unicode=True)),
    st.builds(lambda m, key, tag: yaml.safe_dump(m) + f"{key}: {tag}\n", MANIFEST,
              st.sampled_from(["zz", "vars"]), TAGGED),
    st.builds(lambda tag: f"vars:\n  stage: dev\n  x: {tag}\ncomponents:\n  terraform:\n"
                          f"    vpc:\n      vars:\n        y: {tag}\n", TAGGED),
    st.text(max_size=40),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)
TREES = st.dictionaries(st.sampled_from(FILES), CONTENT, max_size=6).map(
    lambda files: {**files, "components/terraform/vpc/main.tf": "# vpc\n"})
NAMING = st.one_of(
    st.builds(lambda p: AtmosSettings(included_paths=("orgs/**/*",), name_pattern=p),
              st.sampled_from(["{tenant}-{stage}", "{stage}", "{nope}", "{tenant}-{environment}"])),
    st.builds(lambda t: AtmosSettings(included_paths=("orgs/**/*",), name_template=t),
              st.sampled_from([
                  "{{ .vars.tenant }}-{{ .vars.stage }}",
                  '{{ if eq .vars.stage "dev" }}d{{ else }}{{ .vars.stage }}{{ end }}',
                  "{{ .vars.stage | upper }}", "{{", "{{ .vars. }}", "{{ end }}",
                  '{{ printf "%s" .vars.stage }}', "{{ .settings.x.y }}", "{{ (.vars.stage }}",
                  "{{- .vars.stage -}}", '{{ if and .vars.a (not .vars.b) }}x{{ end }}'])
              | st.text(max_size=20))
    .filter(lambda s: s.name_template is None or s.name_template.strip() != ""),
)


def check(before: dict[str, str], after: dict[str, str], naming: AtmosSettings) -> None:
    try:
        found = describe_affected(MemoryTree(before), MemoryTree(after), None, naming)
    except (StackError, TemplateError) as err:
        assert str(err)
        return
    for project in found:
        tfvars_json(project.vars)


@settings(max_examples=200)
@given(TREES, TREES, NAMING)
def test_any_stacks(before: dict[str, str], after: dict[str, str],
                    naming: AtmosSettings) -> None:
    check(before, after, naming)


@cache
def example() -> dict[str, str]:
    return {p.relative_to(EXAMPLE).as_posix(): p.read_text()
            for p in EXAMPLE.rglob("*") if p.is_file()}


@cache
def example_docs() -> dict[str, Any]:
    """The example's manifests that hold no Atmos YAML function (safe_dump can
    write those back)."""
    docs = {}
    for path, text in example().items():
        if path.startswith("stacks/") and "!" not in text:
            docs[path] = yaml.safe_load(text)
    return docs


@settings(max_examples=100)
@given(st.data())
def test_the_example_with_one_manifest_mutated(data: st.DataObject) -> None:
    docs = example_docs()
    path = data.draw(st.sampled_from(sorted(docs)))
    doc = data.draw(mutated({"doc": docs[path]}, replacements=VALUES | MANIFEST)).get("doc")
    after = {**example(), path: yaml.safe_dump(doc, allow_unicode=True),
             "components/terraform/vpc/main.tf": "# vpc\n"}
    try:
        naming = discover_settings(MemoryTree(after))
    except (StackError, TemplateError):
        return
    assert naming is not None
    check(example(), after, naming)


@settings(max_examples=100)
@given(st.data())
def test_atmos_yaml_mutated(data: st.DataObject) -> None:
    doc = yaml.safe_load(example()["atmos.yaml"])
    text = yaml.safe_dump(data.draw(mutated(doc, replacements=VALUES)), allow_unicode=True)
    try:
        settings_from_atmos_yaml(text.encode())
    except (StackError, TemplateError) as err:
        assert str(err)


@given(st.binary(max_size=100) | CONTENT.map(str.encode))
def test_any_manifest_bytes(data: bytes) -> None:
    try:
        load_mapping(data, "stacks/x.yaml")
    except StackError as err:
        assert err.file == "stacks/x.yaml"
