"""YAML as Atmos writes it.

Atmos manifests use YAML functions (`!terraform.state`, `!env`, `!exec`,
`!store`, `!include`, …) that Atmos evaluates at run time. Detection only needs
to know whether a manifest *changed*, so a tagged value loads as an opaque
`AtmosFunction` compared by its text: editing the text is a change, and an
unknown tag is never an error."""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml

from atlantis_py.core.detect.atmos.errors import StackError

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class AtmosFunction:
    """A tagged YAML value, e.g. tag "!terraform.state", text "vpc .vpc_id"."""

    tag: str
    text: str

    def __str__(self) -> str:
        return f"{self.tag} {self.text}".rstrip()


class _Loader(_Base):  # type: ignore[misc]
    """SafeLoader (libyaml when present) plus the catch-all for `!tags`."""


def _function(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> AtmosFunction:
    if isinstance(node, yaml.ScalarNode):
        text = str(node.value)
    elif isinstance(node, yaml.SequenceNode):
        text = json.dumps(loader.construct_sequence(node, deep=True), default=str)
    else:
        assert isinstance(node, yaml.MappingNode)
        text = json.dumps(loader.construct_mapping(node, deep=True), default=str,
                          sort_keys=True)
    return AtmosFunction(tag="!" + suffix, text=text)


_Loader.add_multi_constructor("!", _function)


def load_yaml(data: bytes, file: str) -> object:
    """One YAML document; StackError(file, line, problem) when malformed."""
    try:
        return yaml.load(data, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = err.problem or err.context or "invalid YAML"
        context = f" ({err.context})" if err.context and err.problem else ""
        raise StackError(file, line, f"malformed YAML: {problem}{context}") from err
    except yaml.YAMLError as err:
        raise StackError(file, None, f"malformed YAML: {err}") from err
    except UnicodeDecodeError as err:
        raise StackError(file, None, f"not UTF-8 text: {err}") from err


def load_mapping(data: bytes, file: str) -> dict[str, object]:
    """A manifest must be a mapping at the top; an empty file is an empty one."""
    doc = load_yaml(data, file)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise StackError(file, 1, f"expected a mapping at the top, found {type(doc).__name__}")
    return doc
