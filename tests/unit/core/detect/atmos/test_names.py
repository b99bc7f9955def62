from __future__ import annotations

import pytest

from atlantis_py.core.detect.atmos import TemplateError
from atlantis_py.core.detect.atmos.names import MISSING, Path, StackNaming, Template

CTX = {"vars": {"tenant": "plat", "environment": "ue2", "stage": "dev", "on": True,
                "off": False, "n": 3, "empty": ""},
       "settings": {"team": "core", "nested": {"x": "y"}}}
EXAMPLE = ('{{ if eq .vars.stage "local" }}local{{ else }}'
           '{{ .vars.tenant }}-{{ .vars.environment }}-{{ .vars.stage }}{{ end }}')


def look(path: Path) -> object:
    value: object = CTX
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


@pytest.mark.parametrize("template, expected", [
    ("{{ .vars.tenant }}-{{ .vars.environment }}-{{ .vars.stage }}", "plat-ue2-dev"),
    (EXAMPLE, "plat-ue2-dev"),
    ('{{ if eq .vars.stage "dev" }}d{{ else }}x{{ end }}', "d"),
    ('{{ if eq .vars.stage "a" "dev" }}multi{{ end }}', "multi"),
    ('{{ if ne .vars.stage "dev" }}x{{ else }}y{{ end }}', "y"),
    ("{{ if .vars.on }}on{{ end }}{{ if .vars.off }}off{{ end }}", "on"),
    ("{{ if .vars.missing }}m{{ else }}none{{ end }}", "none"),
    ("{{ if .vars.empty }}e{{ else }}blank{{ end }}", "blank"),
    ("{{ if not .vars.off }}t{{ end }}", "t"),
    ('{{ if and .vars.on (eq .vars.tenant "plat") }}both{{ end }}', "both"),
    ("{{ if or .vars.off .vars.missing }}x{{ else if .vars.on }}elif{{ end }}", "elif"),
    ("{{ .settings.team }}/{{ .settings.nested.x }}", "core/y"),
    ("{{ .vars.n }}-{{ .vars.on }}", "3-true"),
    ("a  {{- .vars.stage -}}  b", "adevb"),
    ("{{- .vars.stage }}\n", "dev\n"),
    ("{{/* a comment */}}{{ .vars.stage }}", "dev"),
])
def test_renders_the_supported_subset(template: str, expected: str) -> None:
    assert Template(template).render(look) == expected


@pytest.mark.parametrize("template, construct", [
    ("{{ .vars.stage | upper }}", "pipe '|'"),
    ('{{ printf "%s" .vars.stage }}', "'printf'"),
    ("{{ range .vars.list }}x{{ end }}", "'range'"),
    ("{{ with .vars.stage }}x{{ end }}", "'with'"),
    ("{{ $x := .vars.stage }}", "'$"),
    ("{{ .atmos_stack }}", "'.atmos_stack'"),
    ("{{ if .vars.a }}x", "without '{{ end }}'"),
    ("x{{ end }}", "without a matching 'if'"),
    ("{{ .vars.a", "unbalanced"),
])
def test_unsupported_constructs_are_named(template: str, construct: str) -> None:
    with pytest.raises(TemplateError) as err:
        Template(template)
    assert construct in str(err.value)
    assert template in str(err.value)


def test_missing_value_is_an_error_not_no_value() -> None:
    with pytest.raises(TemplateError, match=r"\.vars\.region is not set"):
        Template("{{ .vars.region }}").render(look)


def test_template_fields_are_collected() -> None:
    assert Template(EXAMPLE).fields == {("vars", "stage"), ("vars", "tenant"),
                                        ("vars", "environment")}


@pytest.mark.parametrize("pattern, template, expected", [
    ("{tenant}-{environment}-{stage}", None, "plat-ue2-dev"),
    (None, "{{ .vars.stage }}", "dev"),
    (None, None, "orgs/acme/dev"),
])
def test_stack_naming(pattern: str | None, template: str | None, expected: str) -> None:
    assert StackNaming(pattern, template).name(look, "orgs/acme/dev") == expected


def test_name_pattern_with_missing_var() -> None:
    with pytest.raises(TemplateError, match="vars.namespace is not set"):
        StackNaming("{namespace}-{stage}").name(look, "x")
