"""The import rules of design.md, checked on the source so a slip fails CI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "atlantis_py"

# library -> the only package allowed to import it
OWNED = {"github": "forges", "gitlab": "forges", "git": "runner", "sqlalchemy": "store",
         "alembic": "store"}
# package -> atlantis_py packages it must not import (design.md's direction:
# domain <- forges/core/runner/report/store <- queue/flows <- web/cli <- app;
# cli may start the app it belongs to, nothing else reaches up)
_ALL = {"domain", "forges", "core", "runner", "report", "store", "queue", "flows", "web",
        "cli", "app", "settings"}
_EDGE = {"forges", "core", "runner", "report", "store"}
FORBIDDEN = {
    "domain": _ALL - {"domain"},
    **{name: _ALL - {"domain", name} for name in _EDGE},
    "queue": _ALL - {"domain", "queue"},
    "flows": {"store", "web", "cli", "app", "settings"},
    "web": {"store", "runner", "cli", "app", "settings"},
    "cli": {"web"},
    "app": {"cli"},
    "errors": _ALL,
    "logs": _ALL,
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_import_direction(path: Path) -> None:
    rel = path.relative_to(PACKAGE)
    owner = rel.parts[0].removesuffix(".py")
    for name in imports(path):
        top = name.split(".")[0]
        if top in OWNED:
            assert owner == OWNED[top], f"{rel} imports {name}; only {OWNED[top]}/ may"
        if top == "atlantis_py" and "." in name:
            target = name.split(".")[1]
            assert target not in FORBIDDEN.get(owner, set()), f"{rel} imports {name}"


def test_every_rule_names_a_real_package() -> None:
    """A renamed package must not leave its rule guarding nothing."""
    present = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
               if p.suffix == ".py" or (p / "__init__.py").is_file()}
    named = set(FORBIDDEN) | {t for targets in FORBIDDEN.values() for t in targets}
    assert named <= present, f"rules name missing packages: {sorted(named - present)}"
    assert "jobs" not in present, "jobs/ was split into queue/ and flows/"
