"""Errors of Atmos stack detection. Each names the file (and line when known)
so a user can fix the stack manifest without guessing; nothing is planned
when one is raised."""

from __future__ import annotations

from atlantis_py.errors import AtlantisError


class StackError(AtlantisError):
    """A stack manifest (or atmos.yaml) cannot be used: malformed YAML, a
    missing import, a bad section."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


class ImportCycleError(StackError):
    """Stack imports form a loop; `cycle` lists the files, first == last."""

    def __init__(self, cycle: tuple[str, ...]) -> None:
        self.cycle = cycle
        super().__init__(cycle[0], None, "import cycle: " + " -> ".join(cycle))


class TemplateError(AtlantisError):
    """A stack name template uses more of Go's text/template than we evaluate,
    or a value it needs is not set. Saying so beats guessing a stack name."""

    def __init__(self, template: str, message: str) -> None:
        self.template = template
        self.message = message
        super().__init__(f"name template {template!r}: {message}")
