"""Stacks of one ref: which manifests are stacks, their component instances,
and each instance's stack name, workspace and merged sections.

An instance's section (vars, settings, env, …) is the deep merge of the
stack's global section (for vars/settings/env/hooks/dependencies), the
`terraform:` section and the component's own (after `metadata.inherits`).
`metadata` is the component's own and is not inherited, as in Atmos."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from atlantis_py.core.detect.atmos.cache import StackCache
from atlantis_py.core.detect.atmos.config import AtmosSettings
from atlantis_py.core.detect.atmos.errors import StackError, TemplateError
from atlantis_py.core.detect.atmos.imports import YAML_EXTS, Resolved, Resolver
from atlantis_py.core.detect.atmos.merge import deep_merge, merge_all, section
from atlantis_py.core.detect.atmos.names import MISSING, Lookup, Path
from atlantis_py.core.detect.atmos.tree import Tree
from atlantis_py.core.detect.globs import glob_match

GLOBAL_SECTIONS = frozenset({"vars", "settings", "env", "hooks", "dependencies"})
_WS_TOKEN = re.compile(r"\{([A-Za-z_-]+)\}")


@dataclass(frozen=True, eq=False)
class ComponentDef:
    """A component entry of a merged stack; `section` has inherits applied."""

    name: str
    section: dict[str, object]
    folder: str
    deployable: bool
    why_not: str | None = None


@dataclass(frozen=True, eq=False)
class Instance:
    """One deployable (component, stack) pair at one ref."""

    stack: str
    component: str
    folder: str
    workspace: str
    file: str
    stack_doc: dict[str, object]
    section: dict[str, object]

    def layers(self, name: str) -> tuple[object, object, object]:
        glob = self.stack_doc.get(name) if name in GLOBAL_SECTIONS else None
        terraform = section(self.stack_doc, "terraform").get(name)
        return glob, terraform, self.section.get(name)

    def value(self, name: str) -> object:
        if name == "metadata":
            return self.section.get("metadata")
        return merge_all(*self.layers(name))

    def section_names(self) -> set[str]:
        names = {k for k in self.stack_doc if k in GLOBAL_SECTIONS}
        names.update(section(self.stack_doc, "terraform"))
        names.update(self.section)
        return names


def _lookup(layers: dict[str, list[object]]) -> Lookup:
    def look(path: Path) -> object:
        for layer in layers.get(path[0], ()):
            value = layer
            for key in path[1:]:
                if not isinstance(value, dict) or key not in value:
                    break
                value = value[key]
            else:
                return value
        return MISSING
    return look


def _meta(sec: dict[str, object]) -> dict[str, object]:
    meta = sec.get("metadata")
    return meta if isinstance(meta, dict) else {}


def component_defs(merged: dict[str, object], file: str) -> tuple[ComponentDef, ...]:
    comps = section(merged, "components", "terraform")
    done: dict[str, dict[str, object]] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> dict[str, object]:
        if name in done:
            return done[name]
        if name in chain:
            raise StackError(file, None, "metadata.inherits cycle: "
                                         + " -> ".join((*chain, name)))
        raw = comps.get(name)
        sec = raw if isinstance(raw, dict) else {}
        inherits = _meta(sec).get("inherits") or []
        if not isinstance(inherits, list):
            raise StackError(file, None, f"component {name!r}: metadata.inherits must be a list")
        acc: dict[str, object] = {}
        for base in inherits:
            if base not in comps:
                raise StackError(file, None, f"component {name!r} inherits {base!r}, "
                                             "which this stack does not define")
            parent = resolve(str(base), (*chain, name))
            acc = deep_merge(acc, {k: v for k, v in parent.items() if k != "metadata"})
        done[name] = deep_merge(acc, sec)
        return done[name]

    defs = []
    for name in comps:
        sec = resolve(name, ())
        meta = _meta(sec)
        folder = meta.get("component") or sec.get("component") or name
        why = "abstract" if meta.get("type") == "abstract" else \
            "disabled" if meta.get("enabled") is False else None
        defs.append(ComponentDef(name, sec, str(folder), why is None, why))
    return tuple(defs)


class StackView:
    """The stacks of one tree under one AtmosSettings."""

    def __init__(self, tree: Tree, settings: AtmosSettings, cache: StackCache) -> None:
        self.tree = tree
        self.settings = settings
        self.cache = cache
        self.resolver = Resolver(tree, settings.stacks_path, cache)
        self.naming = settings.naming()
        self._stack_names: dict[str, str | TemplateError] = {}

    def stack_paths(self) -> list[str]:
        s = self.settings
        out = []
        for path in self.resolver.listing:
            rel = self.resolver.rel(path)
            if any(glob_match(g, rel) for g in s.included_paths) and \
                    not any(glob_match(g, rel) for g in s.excluded_paths):
                out.append(path)
        return sorted(out)

    def stack_files(self) -> dict[str, Resolved]:
        return {p: self.resolver.resolve(p) for p in self.stack_paths()}

    def components(self, stack: Resolved) -> tuple[ComponentDef, ...]:
        found = self.cache.derived("components", stack.sig,
                                   lambda: component_defs(stack.merged, stack.path))
        assert isinstance(found, tuple)
        return found

    def instances(self, stack: Resolved, folders: Iterable[str] | None = None
                  ) -> list[Instance]:
        """Deployable instances of a stack file (only those in `folders` if given)."""
        wanted = set(folders) if folders is not None else None
        out = []
        for comp in self.components(stack):
            if comp.deployable and (wanted is None or comp.folder in wanted):
                out.append(self.instance(stack, comp))
        return out

    def instance(self, stack: Resolved, comp: ComponentDef) -> Instance:
        name = self._name(stack, comp)
        return Instance(name, comp.name, comp.folder, self._workspace(name, comp), stack.path,
                        stack.merged, comp.section)

    def _layers(self, stack: Resolved, comp: ComponentDef | None) -> dict[str, list[object]]:
        terraform = section(stack.merged, "terraform")
        out: dict[str, list[object]] = {}
        for root in ("vars", "settings"):
            layers = [comp.section.get(root)] if comp is not None else []
            out[root] = [*layers, terraform.get(root), stack.merged.get(root)]
        return out

    def _name(self, stack: Resolved, comp: ComponentDef) -> str:
        own = any(isinstance(comp.section.get(p[0]), dict)
                  and p[1] in comp.section[p[0]]  # type: ignore[operator]
                  for p in self.naming.fields)
        manifest = self.resolver.rel(stack.path)
        for ext in YAML_EXTS:
            manifest = manifest.removesuffix(ext)
        try:
            if own:
                return self.naming.name(_lookup(self._layers(stack, comp)), manifest)
            cached = self._stack_names.get(stack.sig)
            if cached is None:
                try:
                    cached = self.naming.name(_lookup(self._layers(stack, None)), manifest)
                except TemplateError as err:
                    cached = err
                self._stack_names[stack.sig] = cached
            if isinstance(cached, TemplateError):
                raise cached
            return cached
        except TemplateError as err:
            raise StackError(stack.path, None, f"cannot name the stack of component "
                                               f"{comp.name!r}: {err.message}") from err

    def _workspace(self, stack: str, comp: ComponentDef) -> str:
        """Atmos's rule: the stack name, or `<stack>-<component>` for an instance
        of another component's folder, unless metadata sets it."""
        meta = _meta(comp.section)
        literal = meta.get("terraform_workspace")
        pattern = meta.get("terraform_workspace_pattern")
        if isinstance(literal, str) and literal:
            ws = literal
        elif isinstance(pattern, str) and pattern:
            vars_ = comp.section.get("vars")
            values = {"component": comp.name, "base-component": comp.folder, "stack": stack}

            def sub(m: re.Match[str]) -> str:
                key = m.group(1)
                if key in values:
                    return values[key]
                found = vars_.get(key) if isinstance(vars_, dict) else None
                return str(found) if found is not None else m.group(0)

            ws = _WS_TOKEN.sub(sub, pattern)
        elif comp.folder != comp.name:
            ws = f"{stack}-{comp.name}"
        else:
            ws = stack
        return ws.replace("/", "-")
