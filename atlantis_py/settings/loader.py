"""Server settings: flags with Atlantis's names, each also read from ATLANTIS_<NAME>.

Validated once at start so a bad value fails immediately with the setting's name,
instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from atlantis_py.domain.commands import ALLOWABLE_COMMANDS, DEFAULT_ALLOWED_COMMANDS
from atlantis_py.domain.projects import DEFAULT_AUTOPLAN_FILES
from atlantis_py.errors import ConfigError
from atlantis_py.settings.config_files import ConfigFileSettings, config_file_settings
from atlantis_py.settings.forges import ForgeSettings, forge_settings
from atlantis_py.settings.options import resolve
from atlantis_py.settings.terraform import TerraformSettings, terraform_settings
from atlantis_py.settings.values import RawValues, choice, comma_list, duration, env_name

# what git check-ref-format --branch accepts, less the rare corners
_BRANCH = re.compile(r"(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+-]+(?<![./])(?<!\.lock)")


@dataclass(frozen=True)
class Settings(ForgeSettings, TerraformSettings, ConfigFileSettings):
    """All the settings: the forges', terraform's and the config files' (from
    the bases), and the server's own below."""

    rules_branch: str = ""
    apply_base_branches: tuple[str, ...] = ("*",)
    data_dir: Path = Path("./atlantis-data")
    port: int = 4141
    host: str = "0.0.0.0"
    database_url: str = ""
    parallel_pool_size: int = 4
    worker_threads: int = 2
    job_lease_seconds: int = 30
    max_plan_size_mb: int = 100
    worker_processes: int = 1
    min_approvals: int = 1
    max_approval_ttl: timedelta | None = None
    max_review_deadline: timedelta | None = None
    allow_self_approval: bool = True
    web_secure_cookies: bool = False
    allow_commands: frozenset[str] = frozenset(DEFAULT_ALLOWED_COMMANDS)
    disable_autoplan: bool = False
    disable_autoplan_label: str = ""
    autoplan_file_list: tuple[str, ...] = DEFAULT_AUTOPLAN_FILES
    drift_max_parallel: int = 2
    log_format: str = "text"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'atlantis.db').resolve()}"


def load(args: argparse.Namespace, environ: Mapping[str, str] | None = None,
         *, require_forge: bool = True) -> Settings:
    if getattr(args, "gh_app_key", None):
        raise ConfigError(f"--gh-app-key: a command line is readable by every user; pass "
                          f"the key as {env_name('gh-app-key')} or --gh-app-key-file")
    raw = resolve(args, environ)
    return build(raw, require_forge=require_forge)


def build(raw: Mapping[str, object], *, require_forge: bool = True) -> Settings:
    """Validate raw values into Settings; every error names the flag."""
    values = RawValues(raw)
    forges = forge_settings(values, require_forge=require_forge)
    rules_branch = values.text("rules-branch").strip()
    if rules_branch and not _BRANCH.fullmatch(rules_branch):
        raise ConfigError(f"--rules-branch: {rules_branch!r} is not a branch name")
    bases = values.items("apply-base-branches")
    if not bases:
        raise ConfigError("--apply-base-branches: give at least one glob, e.g. 'main' or '*'")
    terraform = terraform_settings(values)
    db_url = values.text("database-url")
    if db_url and "://" not in db_url:
        raise ConfigError(f"--database-url: expected a URL like postgresql+psycopg://…, "
                          f"got {db_url!r}")
    files = config_file_settings(values)
    return Settings(
        **vars(forges),
        **vars(terraform),
        **vars(files),
        rules_branch=rules_branch,
        apply_base_branches=bases,
        data_dir=Path(values.text("data-dir") or "./atlantis-data"),
        port=values.whole("port", 0, 65535),
        host=values.text("host") or "0.0.0.0",
        database_url=db_url,
        parallel_pool_size=values.whole("parallel-pool-size", 1, 64),
        worker_threads=values.whole("worker-threads", 1, 64),
        worker_processes=values.whole("worker-processes", 0, 16),
        job_lease_seconds=values.whole("job-lease-seconds", 3, 3600),
        max_plan_size_mb=values.whole("max-plan-size-mb", 1, 1000),
        min_approvals=values.whole("min-approvals", 0, 20),
        max_approval_ttl=duration("max-approval-ttl", values.text("max-approval-ttl")),
        max_review_deadline=duration("max-review-deadline",
                                     values.text("max-review-deadline")),
        allow_self_approval=not values.flag("disallow-self-approval"),
        web_secure_cookies=values.flag("web-secure-cookies"),
        allow_commands=_allow_commands(values.text("allow-commands")),
        disable_autoplan=values.flag("disable-autoplan"),
        disable_autoplan_label=values.text("disable-autoplan-label").strip(),
        autoplan_file_list=_file_list(values.text("autoplan-file-list")),
        drift_max_parallel=values.whole("drift-max-parallel", 1, 64),
        log_format=choice("log-format", values.text("log-format") or "text", ("text", "json")),
    )


def _allow_commands(raw: str) -> frozenset[str]:
    """Atlantis's names; `all` allows every one, an empty list the default."""
    names = [n.lower() for n in comma_list(raw)]
    if not names:
        return frozenset(DEFAULT_ALLOWED_COMMANDS)
    for name in names:
        if name != "all" and name not in ALLOWABLE_COMMANDS:
            raise ConfigError(f"--allow-commands: unknown command {name!r}; use "
                              + ", ".join(ALLOWABLE_COMMANDS) + " or all")
    return frozenset(ALLOWABLE_COMMANDS) if "all" in names else frozenset(names)


def _file_list(raw: str) -> tuple[str, ...]:
    patterns = comma_list(raw)
    if not patterns:
        return DEFAULT_AUTOPLAN_FILES
    for pattern in patterns:
        if pattern.lstrip("!").startswith(("/", "../")) or "\\" in pattern \
                or not pattern.lstrip("!"):
            raise ConfigError(f"--autoplan-file-list: {pattern!r} must be a pattern relative "
                              "to the repository root, e.g. '**/*.tf'")
    return patterns


