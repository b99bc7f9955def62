"""Affected Atmos projects between two refs, the way `atmos describe affected`
reports them.

Both refs' stacks are merged; an instance (component, stack) is affected when
one of its merged sections differs (reason `stack.<section>`), a file in its
component folder changed (`component`) or a local module it sources changed
(`component.module`). Instances present at base and absent at head are
`deleted`: they must be planned with `-destroy` from the base ref. A stack
whose whole import closure is unchanged is never re-merged or compared."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from atlantis_py.core.detect.atmos.cache import StackCache
from atlantis_py.core.detect.atmos.config import AtmosSettings
from atlantis_py.core.detect.atmos.errors import StackError
from atlantis_py.core.detect.atmos.imports import Resolved
from atlantis_py.core.detect.atmos.stacks import GLOBAL_SECTIONS, Instance, StackView
from atlantis_py.core.detect.atmos.tfsources import ModuleIndex
from atlantis_py.core.detect.atmos.tree import Tree, under

_REASON = {"backend_type": "backend", "remote_state_backend": "backend",
           "remote_state_backend_type": "backend"}
Key = tuple[str, str]


@dataclass(frozen=True)
class AffectedProject:
    """One project to plan. `vars` are the instance's merged vars at head (at
    base when `deleted`); `component`/`stack`/`component_folder` are None for
    plain-directory projects. `stack_file` is the manifest defining the instance."""

    project: str
    component: str | None
    stack: str | None
    dir: str
    workspace: str
    reasons: tuple[str, ...]
    deleted: bool = False
    vars: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    component_folder: str | None = None
    stack_file: str | None = None


def changed_between(base: Tree, head: Tree) -> list[str]:
    """Paths whose blob differs (added, removed or modified), from the listings."""
    a, b = base.files(""), head.files("")
    return sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))


def _frozen_vars(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        return MappingProxyType({})
    return MappingProxyType(copy.deepcopy(value))


def _section_reasons(old: Instance, new: Instance, stack_diff: set[str]) -> list[str]:
    """`stack.<section>` for every merged section that differs."""
    if not stack_diff and old.section is new.section:
        return []
    out: set[str] = set()
    for name in old.section_names() | new.section_names():
        if name not in stack_diff and old.section.get(name) == new.section.get(name):
            continue
        if old.value(name) != new.value(name):
            out.add("stack." + _REASON.get(name, name))
    return sorted(out)


class _Detection:
    def __init__(self, base: StackView, head: StackView, changed: Sequence[str]) -> None:
        self.base, self.head = base, head
        stacks = head.settings.stacks_path
        self.other_changed = [p for p in changed if not under(stacks, p)]
        self._modules: ModuleIndex | None = None
        self._folder_reasons: dict[str, tuple[str, ...]] = {}
        self._stack_diffs: dict[tuple[int, int], set[str]] = {}

    def folder_reasons(self, folder: str) -> tuple[str, ...]:
        found = self._folder_reasons.get(folder)
        if found is not None:
            return found
        reasons: list[str] = []
        if self.other_changed:
            path = f"{self.head.settings.components_path}/{folder}"
            if any(under(path, p) for p in self.other_changed):
                reasons.append("component")
            if self._modules is None:
                self._modules = ModuleIndex(self.head.tree, self.head.cache)
            modules = self._modules.closure(path)
            if any(under(m, p) for m in modules for p in self.other_changed):
                reasons.append("component.module")
        self._folder_reasons[folder] = tuple(reasons)
        return self._folder_reasons[folder]

    def stack_diff(self, old: Instance, new: Instance) -> set[str]:
        """Global and terraform-level sections that differ between two stacks."""
        key = (id(old.stack_doc), id(new.stack_doc))
        found = self._stack_diffs.get(key)
        if found is None:
            found = set()
            if old.stack_doc is not new.stack_doc:
                for name in GLOBAL_SECTIONS:
                    if old.stack_doc.get(name) != new.stack_doc.get(name):
                        found.add(name)
                a = old.stack_doc.get("terraform") or {}
                b = new.stack_doc.get("terraform") or {}
                if a != b:
                    assert isinstance(a, dict) and isinstance(b, dict)
                    found.update(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            self._stack_diffs[key] = found
        return found


def _index(instances: list[Instance]) -> dict[Key, Instance]:
    out: dict[Key, Instance] = {}
    for inst in instances:
        key = (inst.stack, inst.component)
        other = out.get(key)
        if other is not None and other.file != inst.file:
            raise StackError(inst.file, None, f"component {inst.component!r} of stack "
                                              f"{inst.stack!r} is also defined by {other.file}")
        out[key] = inst
    return out


def _why_deleted(inst: Instance, head: StackView, head_files: Mapping[str, Resolved]) -> str:
    stack = head_files.get(inst.file)
    if stack is None:
        return f"stack file removed: {inst.file}"
    for comp in head.components(stack):
        if comp.name == inst.component:
            if not comp.deployable:
                return f"component made {comp.why_not} in {inst.file}"
            return f"stack name or workspace changed in {inst.file}"
    return f"component removed from {inst.file}"


def describe_affected(base: Tree, head: Tree, changed_paths: Sequence[str] | None,
                      settings: AtmosSettings, *, base_settings: AtmosSettings | None = None,
                      cache: StackCache | None = None) -> list[AffectedProject]:
    """Affected and deleted projects, sorted by project name. `changed_paths`
    (e.g. `git diff --name-only`) may be None: the trees' listings are compared.
    Raises StackError (file and line) or TemplateError; then nothing is planned."""
    cache = cache if cache is not None else StackCache()
    old_view = StackView(base, base_settings or settings, cache)
    new_view = StackView(head, settings, cache)
    changed = list(changed_paths) if changed_paths is not None else changed_between(base, head)
    old_files, new_files = old_view.stack_files(), new_view.stack_files()
    same = {p for p in old_files.keys() & new_files.keys()
            if old_files[p].sig == new_files[p].sig} if old_view.settings == settings else set()
    run = _Detection(old_view, new_view, changed)
    old = _index([i for p, s in old_files.items() if p not in same
                  for i in old_view.instances(s)])
    new = _index([i for p, s in new_files.items() if p not in same
                  for i in new_view.instances(s)])
    found: list[AffectedProject] = []
    for key, inst in new.items():
        before = old.get(key)
        reasons = _section_reasons(before, inst, run.stack_diff(before, inst)) \
            if before is not None else ["added"]
        reasons.extend(run.folder_reasons(inst.folder))
        if reasons:
            found.append(_project(settings, inst, tuple(reasons), deleted=False))
    if run.other_changed:
        for path in sorted(same):
            stack = new_files[path]
            folders = {c.folder for c in new_view.components(stack) if c.deployable}
            hit = [f for f in folders if run.folder_reasons(f)]
            for inst in new_view.instances(stack, hit) if hit else ():
                found.append(_project(settings, inst, run.folder_reasons(inst.folder), False))
    for key, inst in old.items():
        if key not in new:
            why = _why_deleted(inst, new_view, new_files)
            found.append(_project(old_view.settings, inst, ("deleted", why), deleted=True))
    return sorted(found, key=lambda a: (a.project, a.deleted))


def _project(settings: AtmosSettings, inst: Instance, reasons: tuple[str, ...],
             deleted: bool) -> AffectedProject:
    return AffectedProject(
        project=settings.project(inst.stack, inst.component, inst.folder),
        component=inst.component, stack=inst.stack,
        dir=f"{settings.components_path}/{inst.folder}", workspace=inst.workspace,
        reasons=reasons, deleted=deleted, vars=_frozen_vars(inst.value("vars")),
        component_folder=inst.folder, stack_file=inst.file)
