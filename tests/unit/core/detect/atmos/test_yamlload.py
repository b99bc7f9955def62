from __future__ import annotations

import pytest

from atlantis_py.core.detect.atmos import AtmosFunction, StackError
from atlantis_py.core.detect.atmos.yamlload import load_mapping


@pytest.mark.parametrize("text, expected", [
    ("x: !terraform.state vpc .vpc_id", AtmosFunction("!terraform.state", "vpc .vpc_id")),
    ("x: !terraform.output vpc vpc_id", AtmosFunction("!terraform.output", "vpc vpc_id")),
    ("x: !env HOME", AtmosFunction("!env", "HOME")),
    ("x: !exec echo hi", AtmosFunction("!exec", "echo hi")),
    ("x: !template '{{ .vars.a }}'", AtmosFunction("!template", "{{ .vars.a }}")),
    ("x: !store ssm/x y z", AtmosFunction("!store", "ssm/x y z")),
    ("x: !include ../a.yaml", AtmosFunction("!include", "../a.yaml")),
    ("x: !secret API_KEY", AtmosFunction("!secret", "API_KEY")),
    ("x: !whatever [1, 2]", AtmosFunction("!whatever", "[1, 2]")),
])
def test_atmos_functions_load_as_opaque_values(text: str, expected: AtmosFunction) -> None:
    assert load_mapping(text.encode(), "s.yaml") == {"x": expected}


def test_function_text_change_is_a_change() -> None:
    a = load_mapping(b"x: !env A", "s.yaml")
    b = load_mapping(b"x: !env B", "s.yaml")
    assert a != b


@pytest.mark.parametrize("text, line", [
    ("a: 1\nb: [1, 2\nc: 3\n", 3),
    ("a:\n  b: 1\n c: 2\n", 3),
    ("a: 1\n\tb: 2\n", 2),
])
def test_malformed_yaml_names_file_and_line(text: str, line: int) -> None:
    with pytest.raises(StackError) as err:
        load_mapping(text.encode(), "stacks/bad.yaml")
    assert err.value.file == "stacks/bad.yaml"
    assert err.value.line == line
    assert str(err.value).startswith(f"stacks/bad.yaml:{line}: malformed YAML")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(StackError, match="expected a mapping"):
        load_mapping(b"- a\n- b\n", "s.yaml")
    assert load_mapping(b"", "s.yaml") == {}
