"""Affected detection for Atmos repositories: stacks × components, base vs head.

Pure: reads two `Tree`s (the runner provides git-backed ones) and never runs
git or terraform."""

from atlantis_py.core.detect.atmos.affected import (
    AffectedProject,
    changed_between,
    describe_affected,
)
from atlantis_py.core.detect.atmos.cache import StackCache
from atlantis_py.core.detect.atmos.config import (
    AtmosSettings,
    discover_settings,
    settings_from_atmos_yaml,
    settings_from_section,
)
from atlantis_py.core.detect.atmos.errors import ImportCycleError, StackError, TemplateError
from atlantis_py.core.detect.atmos.plaindirs import plain_affected
from atlantis_py.core.detect.atmos.tfvars import tfvars_json
from atlantis_py.core.detect.atmos.tree import MemoryTree, Tree
from atlantis_py.core.detect.atmos.yamlload import AtmosFunction

__all__ = [
    "AffectedProject", "AtmosFunction", "AtmosSettings", "ImportCycleError", "MemoryTree",
    "StackCache", "StackError", "TemplateError", "Tree", "changed_between",
    "describe_affected", "discover_settings", "plain_affected", "settings_from_atmos_yaml",
    "settings_from_section", "tfvars_json",
]
