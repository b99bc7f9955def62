"""Stack names from `stacks.name_pattern` or `stacks.name_template`.

Real atmos.yaml files name stacks with Go templates such as
`{{ .vars.tenant }}-{{ .vars.environment }}-{{ .vars.stage }}` or
`{{ if eq .vars.stage "local" }}local{{ else }}…{{ end }}`. We evaluate that
subset: fields under `.vars`/`.settings`, string/number/bool literals,
`if`/`else if`/`else`/`end`, `eq`, `ne`, `not`, `and`, `or`, parentheses and
`{{-`/`-}}` trimming. Anything more (pipes, `printf`, `range`, variables …)
raises TemplateError naming it rather than producing a wrong stack name."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from atlantis_py.core.detect.atmos.errors import TemplateError

Path = tuple[str, ...]
Lookup = Callable[[Path], object]


class _Missing:
    """A field that is not set (Go renders `<no value>`; we refuse)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<field>(?:\.[A-Za-z_]\w*)+)
    |(?P<num>-?\d+(?:\.\d+)?)|(?P<paren>[()])|(?P<ident>[A-Za-z_]\w*)|(?P<other>\S+?))""",
                    re.VERBOSE)
_FUNCS = {"eq", "ne", "not", "and", "or"}
_KEYWORDS = {"range", "with", "define", "template", "block", "break", "continue"}


@dataclass(frozen=True)
class Field:
    path: Path


@dataclass(frozen=True)
class Literal:
    value: object


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Expr, ...]


Expr = Field | Literal | Call


@dataclass(frozen=True)
class Print:
    expr: Expr


@dataclass(frozen=True)
class If:
    branches: tuple[tuple[Expr, tuple[Node, ...]], ...]
    otherwise: tuple[Node, ...]


Node = str | Print | If


def _truthy(value: object) -> bool:
    return value is not MISSING and value is not None and value is not False \
        and value != 0 and value != "" and value != [] and value != {}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Template:
    """A compiled name template; `fields` are the paths it reads."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.fields: set[Path] = set()
        self._nodes = self._parse()

    # -- parsing -----------------------------------------------------------

    def _fail(self, message: str) -> TemplateError:
        return TemplateError(self.source, message)

    def _split(self) -> list[tuple[str, str]]:
        """("text", s) and ("action", s) pieces with `{{-`/`-}}` trimming applied."""
        out: list[tuple[str, str]] = []
        pos = 0
        trim_next = False
        for m in _ACTION.finditer(self.source):
            text = self.source[pos:m.start()]
            if trim_next:
                text = text.lstrip()
            if m.group(1):
                text = text.rstrip()
            out.append(("text", text))
            out.append(("action", m.group(2).strip()))
            trim_next = bool(m.group(3))
            pos = m.end()
        tail = self.source[pos:]
        if "{{" in tail or "}}" in tail:
            raise self._fail("unbalanced '{{' / '}}'")
        out.append(("text", tail.lstrip() if trim_next else tail))
        return [(k, v) for k, v in out if k == "action" or v]

    def _parse(self) -> tuple[Node, ...]:
        pieces = self._split()
        nodes, stop, rest = self._block(pieces, 0)
        if stop is not None:
            raise self._fail(f"'{{{{ {stop} }}}}' without a matching 'if'")
        del rest
        return nodes

    def _block(self, pieces: list[tuple[str, str]], i: int
               ) -> tuple[tuple[Node, ...], str | None, int]:
        """Nodes until an `else`/`end` action; returns (nodes, stopper, next index)."""
        nodes: list[Node] = []
        while i < len(pieces):
            kind, value = pieces[i]
            i += 1
            if kind == "text":
                nodes.append(value)
                continue
            word = value.split(None, 1)[0] if value else ""
            if word in ("else", "end"):
                return tuple(nodes), value, i
            if word == "if":
                node, i = self._if(pieces, i, value[2:])
                nodes.append(node)
            elif value.startswith("/*"):
                continue
            else:
                nodes.append(Print(self._expr(value)))
        return tuple(nodes), None, i

    def _if(self, pieces: list[tuple[str, str]], i: int, cond: str) -> tuple[If, int]:
        branches: list[tuple[Expr, tuple[Node, ...]]] = []
        while True:
            body, stop, i = self._block(pieces, i)
            branches.append((self._expr(cond), body))
            if stop is None:
                raise self._fail("'if' without '{{ end }}'")
            if stop == "end":
                return If(tuple(branches), ()), i
            rest = stop[4:].strip()
            if rest.startswith("if ") or rest == "if":
                cond = rest[2:]
                continue
            if rest:
                raise self._fail(f"unsupported construct 'else {rest}'")
            otherwise, stop, i = self._block(pieces, i)
            if stop != "end":
                raise self._fail("'else' without '{{ end }}'")
            return If(tuple(branches), otherwise), i

    def _tokens(self, text: str) -> list[tuple[str, str]]:
        out = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind is not None:
                out.append((kind, m.group(kind)))
        return out

    def _expr(self, text: str) -> Expr:
        tokens = self._tokens(text)
        if not tokens:
            raise self._fail("empty action '{{ }}'")
        expr, pos = self._call(tokens, 0)
        if pos != len(tokens):
            extra = tokens[pos][1]
            what = "pipe '|'" if extra == "|" else repr(extra)
            raise self._fail(f"unsupported construct {what} in '{{{{ {text} }}}}'")
        return expr

    def _call(self, tokens: list[tuple[str, str]], pos: int) -> tuple[Expr, int]:
        kind, value = tokens[pos]
        if kind == "ident" and value in _FUNCS:
            args: list[Expr] = []
            pos += 1
            while pos < len(tokens) and tokens[pos] != ("paren", ")"):
                arg, pos = self._operand(tokens, pos)
                args.append(arg)
            if not args:
                raise self._fail(f"'{value}' needs arguments")
            return Call(value, tuple(args)), pos
        return self._operand(tokens, pos)

    def _operand(self, tokens: list[tuple[str, str]], pos: int) -> tuple[Expr, int]:
        kind, value = tokens[pos]
        if kind == "paren" and value == "(":
            expr, pos = self._call(tokens, pos + 1)
            if pos >= len(tokens) or tokens[pos] != ("paren", ")"):
                raise self._fail("unbalanced parentheses")
            return expr, pos + 1
        if kind == "field":
            path = tuple(value[1:].split("."))
            if path[0] not in ("vars", "settings") or len(path) < 2:
                raise self._fail(f"unsupported field {value!r}: only .vars.* and "
                                 ".settings.* are supported")
            self.fields.add(path)
            return Field(path), pos + 1
        if kind == "str":
            text = value[1:-1] if value.startswith("`") else json.loads(value)
            return Literal(text), pos + 1
        if kind == "num":
            return Literal(float(value) if "." in value else int(value)), pos + 1
        if kind == "ident" and value in ("true", "false", "nil"):
            return Literal({"true": True, "false": False, "nil": None}[value]), pos + 1
        if kind == "ident" and value in _FUNCS:
            raise self._fail(f"'{value}' must be parenthesised when used as an argument")
        if kind == "ident" and value in _KEYWORDS:
            raise self._fail(f"unsupported construct '{value}'")
        if kind == "ident":
            raise self._fail(f"unsupported function '{value}' (supported: eq, ne, not, "
                             "and, or)")
        if value == "|":
            raise self._fail("unsupported construct: pipe '|'")
        raise self._fail(f"unsupported construct {value!r}")

    # -- evaluation --------------------------------------------------------

    def render(self, lookup: Lookup) -> str:
        return "".join(self._render(self._nodes, lookup))

    def _render(self, nodes: tuple[Node, ...], lookup: Lookup) -> list[str]:
        out: list[str] = []
        for node in nodes:
            if isinstance(node, str):
                out.append(node)
            elif isinstance(node, Print):
                value = self._eval(node.expr, lookup)
                if value is MISSING or value is None:
                    assert isinstance(node.expr, Field)
                    raise self._fail(f".{'.'.join(node.expr.path)} is not set")
                out.append(_text(value))
            else:
                for cond, body in node.branches:
                    if _truthy(self._eval(cond, lookup)):
                        out.extend(self._render(body, lookup))
                        break
                else:
                    out.extend(self._render(node.otherwise, lookup))
        return out

    def _eval(self, expr: Expr, lookup: Lookup) -> object:
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, Field):
            return lookup(expr.path)
        values = [self._eval(a, lookup) for a in expr.args]
        if expr.func == "eq":
            return any(values[0] == v for v in values[1:])
        if expr.func == "ne":
            return values[0] != values[1]
        if expr.func == "not":
            return not _truthy(values[0])
        if expr.func == "and":
            return all(_truthy(v) for v in values)
        return any(_truthy(v) for v in values)


_PATTERN_TOKEN = re.compile(r"\{([A-Za-z_]\w*)\}")


class StackNaming:
    """How a stack is named: a Go template, a `{tenant}-{stage}` pattern, or
    (neither set) the manifest path relative to the stacks folder."""

    def __init__(self, name_pattern: str | None = None, name_template: str | None = None
                 ) -> None:
        self._template = Template(name_template) if name_template else None
        self._pattern = name_pattern or None
        self.fields: frozenset[Path] = frozenset()
        if self._template is not None:
            self.fields = frozenset(self._template.fields)
        elif self._pattern:
            self.fields = frozenset(("vars", t) for t in _PATTERN_TOKEN.findall(self._pattern))

    def name(self, lookup: Lookup, manifest: str) -> str:
        """`manifest` is the stack file relative to the stacks folder, no extension."""
        if self._template is not None:
            return self._template.render(lookup).strip()
        if self._pattern:
            pattern = self._pattern

            def sub(m: re.Match[str]) -> str:
                value = lookup(("vars", m.group(1)))
                if value is MISSING or value is None or value == "":
                    raise TemplateError(pattern, f"vars.{m.group(1)} is not set")
                return _text(value)

            return _PATTERN_TOKEN.sub(sub, pattern)
        return manifest
