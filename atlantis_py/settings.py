"""Server settings: flags with Atlantis's names, each also read from ATLANTIS_<NAME>.

Validated once at start so a bad value fails immediately with the setting's name,
instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from atlantis_py.core.config.credentials import parse_credentials
from atlantis_py.core.config.policies import load_policies
from atlantis_py.core.config.server import JSON_SOURCE, parse_server_config
from atlantis_py.domain.commands import ALLOWABLE_COMMANDS, DEFAULT_ALLOWED_COMMANDS
from atlantis_py.domain.credentials import CredentialsFile
from atlantis_py.domain.policies import PolicySets
from atlantis_py.domain.projects import DEFAULT_AUTOPLAN_FILES, TF_DISTRIBUTIONS
from atlantis_py.domain.repo_names import allowlist_matches, allowlist_pattern_problem
from atlantis_py.domain.rules import parse_duration
from atlantis_py.domain.server_config import ServerRepoConfig
from atlantis_py.domain.tfversions import parse_constraint
from atlantis_py.errors import ConfigError, RepoConfigError
from atlantis_py.settings_github_app import github_app

DEFAULT_GH_API_URL = "https://api.github.com"
DEFAULT_GITLAB_URL = "https://gitlab.com"
# Atlantis's defaults: HashiCorp's releases host, OpenTofu's GitHub releases
DEFAULT_TF_DOWNLOAD_URLS = {
    "terraform": "https://releases.hashicorp.com",
    "opentofu": "https://github.com/opentofu/opentofu/releases/download",
}
# what git check-ref-format --branch accepts, less the rare corners
_BRANCH = re.compile(r"(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+-]+(?<![./])(?<!\.lock)")


@dataclass(frozen=True)
class Settings:
    gh_token: str = ""
    gh_webhook_secret: str = ""
    gh_api_url: str = DEFAULT_GH_API_URL
    gh_user: str = "atlantis"
    gh_write_interval: float = 0.0
    gitlab_token: str = ""
    gitlab_webhook_secret: str = ""
    gitlab_url: str = DEFAULT_GITLAB_URL
    gitlab_user: str = "atlantis"
    gitlab_command_access_level: int = 30
    gitlab_approver_access_level: int = 30
    repo_allowlist: tuple[str, ...] = ("*",)
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
    terraform_bin: str = "terraform"
    allow_custom_steps: bool = False
    min_approvals: int = 1
    max_approval_ttl: timedelta | None = None
    max_review_deadline: timedelta | None = None
    allow_self_approval: bool = True
    notifications_file: Path | None = None
    tf_env_passthrough: tuple[str, ...] = ()
    credentials: CredentialsFile | None = None
    forge_retry_limit: timedelta = timedelta(minutes=30)
    local_repos: Path | None = None
    web_secure_cookies: bool = False
    repo_config: ServerRepoConfig | None = None
    policies: PolicySets | None = None
    allow_commands: frozenset[str] = frozenset(DEFAULT_ALLOWED_COMMANDS)
    disable_autoplan: bool = False
    disable_autoplan_label: str = ""
    autoplan_file_list: tuple[str, ...] = DEFAULT_AUTOPLAN_FILES
    drift_max_parallel: int = 2
    log_format: str = "text"
    tf_distribution: str = "terraform"
    tf_bin_dir: Path | None = None
    default_tf_version: str = ""
    tf_download: bool = False
    tf_download_url: str = DEFAULT_TF_DOWNLOAD_URLS["terraform"]
    gh_app_id: int | None = None
    gh_app_key: str = field(default="", repr=False)
    gh_app_slug: str = ""
    gh_app_installation_id: int | None = None

    @property
    def github_bot_user(self) -> str:
        """The login the bot comments as: a GitHub App comments as `{slug}[bot]`."""
        if self.gh_app_id is not None:
            return f"{self.gh_app_slug}[bot]"
        return self.gh_user

    @property
    def github_configured(self) -> bool:
        return bool(self.gh_token) or self.gh_app_id is not None

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'atlantis.db').resolve()}"

    @property
    def forge_hosts(self) -> dict[str, str]:
        """The host each forge's repository ids carry in repos.yaml (github.com/acme/x)."""
        github = urlparse(self.gh_api_url).hostname or "github.com"
        return {"github": "github.com" if github == "api.github.com" else github,
                "gitlab": urlparse(self.gitlab_url).hostname or "gitlab.com", "local": "local"}

    def repo_allowed(self, full_name: str) -> bool:
        """Whole segments: `acme/*` allows acme/infra, not acme/x/y (see repo_names)."""
        return any(allowlist_matches(pat, full_name) for pat in self.repo_allowlist)


@dataclass(frozen=True)
class _Option:
    flag: str
    help: str
    kind: type = str
    default: object = None


OPTIONS: tuple[_Option, ...] = (
    _Option("gh-token", "GitHub token (personal access token or app installation token)."),
    _Option("gh-webhook-secret", "Secret GitHub signs webhooks with (X-Hub-Signature-256)."),
    _Option("gh-api-url", "GitHub API base URL (GitHub Enterprise: https://HOST/api/v3).",
            default=DEFAULT_GH_API_URL),
    _Option("gh-user", "The bot's GitHub user name.", default="atlantis"),
    _Option("gh-write-interval", "Seconds to space GitHub writes (comments, statuses); "
            "raise to 1 if GitHub's secondary rate limits bite.", default="0"),
    _Option("gitlab-token", "GitLab token (scope api) of the bot user."),
    _Option("gitlab-webhook-secret", "Secret token GitLab sends in X-Gitlab-Token."),
    _Option("gitlab-url", "GitLab base URL (self-hosted: https://gitlab.example.com).",
            default=""),
    _Option("gitlab-hostname", "Shorthand for --gitlab-url https://HOST.", default=""),
    _Option("gitlab-user", "The bot's GitLab user name.", default="atlantis"),
    _Option("gitlab-command-access-level", "Least project access level that may run "
            "commands: 30 Developer, 40 Maintainer, 50 Owner.", kind=int, default=30),
    _Option("gitlab-approver-access-level", "Least project access level whose approval "
            "counts: 30 Developer, 40 Maintainer, 50 Owner.", kind=int, default=30),
    _Option("repo-allowlist", "Comma-separated globs of repos to serve, e.g. 'acme/*'; "
            "'*' matches within one segment, a '**' segment any depth, '*' alone all.",
            default="*"),
    _Option("rules-branch", "Branch whose workflows.yaml holds the environments (approval "
            "rules); default: each repository's default branch.", default=""),
    _Option("apply-base-branches", "Comma-separated globs of the base branches a pull "
            "request may be applied into, e.g. 'main,release/*'.", default="*"),
    _Option("data-dir", "Where mirrors, worktrees, plans and the SQLite DB live.",
            default="./atlantis-data"),
    _Option("port", "Port to listen on.", kind=int, default=4141),
    _Option("host", "Address to listen on.", default="0.0.0.0"),
    _Option("database-url", "SQLAlchemy URL; default SQLite under --data-dir. "
            "PostgreSQL: postgresql+psycopg://user:pw@host/db", default=""),
    _Option("parallel-pool-size", "Projects planned in parallel.", kind=int, default=4),
    _Option("worker-threads", "Background jobs run at once per worker process.", kind=int,
            default=2),
    _Option("job-lease-seconds", "A running job's lease: its worker renews it every third "
            "of this; when a worker dies, another (here or on another replica) takes the job "
            "over after at most this long.", kind=int, default=30),
    _Option("max-plan-size-mb", "Largest saved plan kept (in the database, so every "
            "replica can apply it); a larger plan fails with a message saying so.", kind=int,
            default=100),
    _Option("worker-processes", "Worker processes beside the web process; 0 runs the "
            "workers inside it.", kind=int, default=1),
    _Option("terraform-bin", "terraform (or tofu) executable; default: terraform, or tofu "
            "with --tf-distribution opentofu.", default=""),
    _Option("allow-custom-steps", "Allow `run` steps in repo workflows.", kind=bool,
            default=False),
    _Option("min-approvals", "Floor on every environment's required_approvals; a repo "
            "cannot go below it.", kind=int, default=1),
    _Option("max-approval-ttl", "Approvals expire after at most this long (e.g. 72h), "
            "whatever the repo says.", default=""),
    _Option("max-review-deadline", "Pending IPRs expire after at most this long "
            "(e.g. 14d).", default=""),
    _Option("disallow-self-approval", "Never count an author's own approval, whatever "
            "the repo says.", kind=bool, default=False),
    _Option("notifications", "YAML file of outgoing webhooks per environment "
            "(see README).", default=""),
    _Option("tf-env-passthrough", "Comma-separated globs of server environment variables "
            "terraform and run steps may see, e.g. 'AWS_*,GOOGLE_*'.", default=""),
    _Option("credentials", "YAML file of terraform variables per approval environment "
            "(see README).", default=""),
    _Option("forge-retry-limit", "How long a job keeps retrying while the forge is down "
            "or rate limiting (e.g. 30m, 2h; 0: never retry) before it gives up and says "
            "so on the pull request.", default="30m"),
    _Option("local-repos", "Serve the git repositories under this folder as a local forge "
            "(DIR/infra is local/infra): no GitHub or GitLab account needed (see README).",
            default=""),
    _Option("web-secure-cookies", "Mark the review console's session cookie Secure even "
            "when requests arrive over plain HTTP (TLS ends at a proxy in front).",
            kind=bool, default=False),
    _Option("repo-config", "Server-side repo config, Atlantis's repos.yaml format (see README).",
            default=""),
    _Option("repo-config-json", "The server-side repo config as JSON, instead of "
            "--repo-config.", default=""),
    _Option("policies", "YAML file of policy sets (Rego) every plan is checked against, "
            "in Atlantis's repos.yaml `policies:` shape (see README).", default=""),
    _Option("allow-commands", "Comma-separated comment commands this server runs: "
            + ", ".join(ALLOWABLE_COMMANDS) + ", or all (import and state are off by "
            "default, as in Atlantis).", default=",".join(DEFAULT_ALLOWED_COMMANDS)),
    _Option("disable-autoplan", "Never plan on open or push; `atlantis plan` still does.",
            kind=bool, default=False),
    _Option("disable-autoplan-label", "Pull requests with this label are not planned on "
            "open or push.", default=""),
    _Option("autoplan-file-list", "Comma-separated patterns of the changed files (from the "
            "repository root) that make their directory a project when no config file "
            "lists projects; '!' excludes.", default=",".join(DEFAULT_AUTOPLAN_FILES)),
    _Option("drift-max-parallel", "Drift checks (one repository each) run at once, over "
            "all replicas together.", kind=int, default=2),
    _Option("log-format", "Log lines as `text` or `json` (one JSON object a line: time, "
            "level, logger, message, exception).", default="text"),
    _Option("tf-distribution", "`terraform` or `opentofu`: which binaries projects run "
            "(`tofu` on PATH, `tofu{version}` in --tf-bin-dir).", default=""),
    _Option("default-tf-distribution", "Atlantis's newer name of --tf-distribution.",
            default=""),
    _Option("tf-bin-dir", "Folder of versioned binaries (`terraform1.9.8`, as Atlantis "
            "names them) that a project's terraform_version picks from; downloads are "
            "cached in DATA_DIR/bin.", default=""),
    _Option("default-tf-version", "Version (or constraint, e.g. '~> 1.9') for projects "
            "that name none; default: the binary on PATH.", default=""),
    _Option("tf-download", "Download a version a project asks for when no binary has it, "
            "verified against its SHA256SUMS.", kind=bool, default=False),
    _Option("tf-download-url", "Where --tf-download fetches from (a mirror with the "
            "releases' layout); default: the distribution's releases.", default=""),
    _Option("gh-app-id", "GitHub App id: authenticate as the App's installation instead "
            "of --gh-token.", default=""),
    _Option("gh-app-key-file", "File holding the GitHub App's private key (PEM).",
            default=""),
    _Option("gh-app-key", "The GitHub App's private key (PEM) itself; only from the "
            "environment, never a command line.", default=""),
    _Option("gh-app-slug", "The GitHub App's slug: it comments as SLUG[bot].", default=""),
    _Option("gh-app-installation-id", "The App's installation to act as; default: each "
            "repository's installation, looked up.", default=""),
)


def child_environ(args: argparse.Namespace) -> dict[str, str]:
    """The settings flags given on this command line as ATLANTIS_* variables, to
    start a child with the same settings (the others it inherits). Never as
    flags: a child's command line is readable by every user (`ps`), and flags
    hold tokens."""
    out: dict[str, str] = {}
    for opt in OPTIONS:
        value = getattr(args, opt.flag.replace("-", "_"), None)
        if value is None:
            continue
        if opt.kind is bool:
            out[env_name(opt.flag)] = "true" if value else "false"
        else:
            out[env_name(opt.flag)] = str(value)
    return out


def env_name(flag: str) -> str:
    return "ATLANTIS_" + flag.replace("-", "_").upper()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for opt in OPTIONS:
        if opt.kind is bool:
            parser.add_argument(f"--{opt.flag}", action="store_true", default=None,
                                help=f"{opt.help} [env {env_name(opt.flag)}]")
        else:
            parser.add_argument(f"--{opt.flag}", default=None,
                                help=f"{opt.help} [env {env_name(opt.flag)}]")


def _bool(flag: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"--{flag}: expected true or false, got {raw!r}")


def _int(flag: str, raw: object, minimum: int, maximum: int) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigError(f"--{flag}: expected a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"--{flag}: must be between {minimum} and {maximum}, got {value}")
    return value


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Flag value, else ATLANTIS_* env var, else default; all as raw values."""
    environ = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for opt in OPTIONS:
        value = getattr(args, opt.flag.replace("-", "_"), None)
        if value is None:
            env_value = environ.get(env_name(opt.flag))
            value = opt.default if env_value is None else env_value
        raw[opt.flag] = value
    return raw


def load(args: argparse.Namespace, environ: Mapping[str, str] | None = None,
         *, require_forge: bool = True) -> Settings:
    if getattr(args, "gh_app_key", None):
        raise ConfigError(f"--gh-app-key: a command line is readable by every user; pass "
                          f"the key as {env_name('gh-app-key')} or --gh-app-key-file")
    raw = resolve(args, environ)
    return build(raw, require_forge=require_forge)


def build(raw: Mapping[str, object], *, require_forge: bool = True) -> Settings:
    """Validate raw values into Settings; every error names the flag."""
    def text(flag: str) -> str:
        value = raw.get(flag)
        return "" if value is None else str(value)

    gh_token, gh_secret = text("gh-token"), text("gh-webhook-secret")
    gl_token, gl_secret = text("gitlab-token"), text("gitlab-webhook-secret")
    app = github_app(text)
    if require_forge and not gh_token and not gl_token and not text("local-repos") \
            and app.app_id is None:
        raise ConfigError(f"--gh-token (or {env_name('gh-token')}), --gh-app-id or "
                          f"--gitlab-token (or {env_name('gitlab-token')}) is required")
    if gl_token and not gl_secret:
        raise ConfigError(
            f"--gitlab-webhook-secret (or {env_name('gitlab-webhook-secret')}) is required "
            "with --gitlab-token: unauthenticated webhooks are never accepted")
    gl_url = _gitlab_url(text("gitlab-url"), text("gitlab-hostname"))
    if (gh_token or app.app_id is not None) and not gh_secret:
        raise ConfigError(
            f"--gh-webhook-secret (or {env_name('gh-webhook-secret')}) is required with "
            f"--{'gh-token' if gh_token else 'gh-app-id'}: unsigned webhooks are never "
            "accepted")
    if gh_token and app.app_id is not None:
        raise ConfigError("--gh-token and --gh-app-id: give one, not both")
    api = text("gh-api-url").rstrip("/")
    parsed = urlparse(api)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"--gh-api-url: expected an http(s) URL, got {api!r}")
    try:
        write_interval = float(text("gh-write-interval") or 0)
    except ValueError:
        raise ConfigError(f"--gh-write-interval: expected seconds, got "
                          f"{text('gh-write-interval')!r}") from None
    if not 0 <= write_interval <= 60:
        raise ConfigError("--gh-write-interval: must be between 0 and 60 seconds")
    allow = tuple(p.strip() for p in text("repo-allowlist").split(",") if p.strip())
    if not allow:
        raise ConfigError("--repo-allowlist: give at least one glob, e.g. 'acme/*' or '*'")
    rules_branch = text("rules-branch").strip()
    if rules_branch and not _BRANCH.fullmatch(rules_branch):
        raise ConfigError(f"--rules-branch: {rules_branch!r} is not a branch name")
    bases = tuple(p.strip() for p in text("apply-base-branches").split(",") if p.strip())
    if not bases:
        raise ConfigError("--apply-base-branches: give at least one glob, e.g. 'main' or '*'")
    for pattern in allow:
        if (problem := allowlist_pattern_problem(pattern)) is not None:
            raise ConfigError(f"--repo-allowlist: {problem}")
    distribution = text("tf-distribution") or text("default-tf-distribution") or "terraform"
    if text("default-tf-distribution") not in ("", distribution):
        raise ConfigError("--tf-distribution and --default-tf-distribution: they differ; "
                          "give one")
    if distribution not in TF_DISTRIBUTIONS:
        raise ConfigError(f"--tf-distribution: expected terraform or opentofu, got "
                          f"{distribution!r}")
    tf_bin = text("terraform-bin") or ("tofu" if distribution == "opentofu" else "terraform")
    if shutil.which(tf_bin) is None:
        raise ConfigError(f"--terraform-bin: {tf_bin!r} is not an executable on PATH")
    db_url = text("database-url")
    if db_url and "://" not in db_url:
        raise ConfigError(f"--database-url: expected a URL like postgresql+psycopg://…, "
                          f"got {db_url!r}")
    custom = raw.get("allow-custom-steps")
    no_self = raw.get("disallow-self-approval")
    secure_cookies = raw.get("web-secure-cookies")
    notifications = text("notifications")
    if notifications and not Path(notifications).is_file():
        raise ConfigError(f"--notifications: {notifications!r} is not a readable file")
    passthrough = _env_globs(text("tf-env-passthrough"))
    no_autoplan = raw.get("disable-autoplan")
    credentials = _credentials(text("credentials"))
    repo_config = _repo_config(text("repo-config"), text("repo-config-json"))
    policies = _policies(text("policies"))
    if repo_config is not None and repo_config.policies is not None:
        if policies is not None:
            raise ConfigError("--policies and the `policies:` section of the server-side "
                              "repo config: declare policy sets in one place, not both")
        policies = repo_config.policies
    return Settings(
        gh_token=gh_token,
        gh_webhook_secret=gh_secret,
        gh_api_url=api,
        gh_user=text("gh-user") or "atlantis",
        gh_write_interval=write_interval,
        gitlab_token=gl_token,
        gitlab_webhook_secret=gl_secret,
        gitlab_url=gl_url,
        gitlab_user=text("gitlab-user") or "atlantis",
        gitlab_command_access_level=_int("gitlab-command-access-level",
                                         raw.get("gitlab-command-access-level"), 10, 50),
        gitlab_approver_access_level=_int("gitlab-approver-access-level",
                                          raw.get("gitlab-approver-access-level"), 10, 50),
        repo_allowlist=allow,
        rules_branch=rules_branch,
        apply_base_branches=bases,
        data_dir=Path(text("data-dir") or "./atlantis-data"),
        port=_int("port", raw.get("port"), 0, 65535),
        host=text("host") or "0.0.0.0",
        database_url=db_url,
        parallel_pool_size=_int("parallel-pool-size", raw.get("parallel-pool-size"), 1, 64),
        worker_threads=_int("worker-threads", raw.get("worker-threads"), 1, 64),
        worker_processes=_int("worker-processes", raw.get("worker-processes"), 0, 16),
        job_lease_seconds=_int("job-lease-seconds", raw.get("job-lease-seconds"), 3, 3600),
        max_plan_size_mb=_int("max-plan-size-mb", raw.get("max-plan-size-mb"), 1, 1000),
        terraform_bin=tf_bin,
        allow_custom_steps=custom if isinstance(custom, bool) else _bool(
            "allow-custom-steps", str(custom)),
        min_approvals=_int("min-approvals", raw.get("min-approvals"), 0, 20),
        max_approval_ttl=_duration("max-approval-ttl", text("max-approval-ttl")),
        max_review_deadline=_duration("max-review-deadline", text("max-review-deadline")),
        allow_self_approval=not (no_self if isinstance(no_self, bool) else _bool(
            "disallow-self-approval", str(no_self))),
        notifications_file=Path(notifications) if notifications else None,
        tf_env_passthrough=passthrough,
        credentials=credentials,
        forge_retry_limit=_retry_limit(text("forge-retry-limit")),
        local_repos=_local_repos(text("local-repos")),
        web_secure_cookies=secure_cookies if isinstance(secure_cookies, bool) else _bool(
            "web-secure-cookies", str(secure_cookies)),
        repo_config=repo_config,
        policies=policies,
        allow_commands=_allow_commands(text("allow-commands")),
        disable_autoplan=no_autoplan if isinstance(no_autoplan, bool) else _bool(
            "disable-autoplan", str(no_autoplan)),
        disable_autoplan_label=text("disable-autoplan-label").strip(),
        autoplan_file_list=_file_list(text("autoplan-file-list")),
        drift_max_parallel=_int("drift-max-parallel", raw.get("drift-max-parallel"), 1, 64),
        log_format=_choice("log-format", text("log-format") or "text", ("text", "json")),
        tf_distribution=distribution,
        tf_bin_dir=_tf_bin_dir(text("tf-bin-dir")),
        default_tf_version=_tf_version("default-tf-version", text("default-tf-version")),
        tf_download=_flag(raw, "tf-download"),
        tf_download_url=_http_url("tf-download-url", text("tf-download-url")
                                  or DEFAULT_TF_DOWNLOAD_URLS[distribution]),
        gh_app_id=app.app_id,
        gh_app_key=app.key,
        gh_app_slug=app.slug,
        gh_app_installation_id=app.installation_id,
    )


def _allow_commands(raw: str) -> frozenset[str]:
    """Atlantis's names; `all` allows every one, an empty list the default."""
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    if not names:
        return frozenset(DEFAULT_ALLOWED_COMMANDS)
    for name in names:
        if name != "all" and name not in ALLOWABLE_COMMANDS:
            raise ConfigError(f"--allow-commands: unknown command {name!r}; use "
                              + ", ".join(ALLOWABLE_COMMANDS) + " or all")
    return frozenset(ALLOWABLE_COMMANDS) if "all" in names else frozenset(names)


def _file_list(raw: str) -> tuple[str, ...]:
    patterns = tuple(p.strip() for p in raw.split(",") if p.strip())
    if not patterns:
        return DEFAULT_AUTOPLAN_FILES
    for pattern in patterns:
        if pattern.lstrip("!").startswith(("/", "../")) or "\\" in pattern \
                or not pattern.lstrip("!"):
            raise ConfigError(f"--autoplan-file-list: {pattern!r} must be a pattern relative "
                              "to the repository root, e.g. '**/*.tf'")
    return patterns


def _flag(raw: Mapping[str, object], flag: str) -> bool:
    value = raw.get(flag)
    return value if isinstance(value, bool) else _bool(flag, str(value))


def _choice(flag: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"--{flag}: expected {' or '.join(allowed)}, got {value!r}")
    return value


def _http_url(flag: str, url: str) -> str:
    url = url.rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"--{flag}: expected an http(s) URL, got {url!r}")
    return url


def _tf_bin_dir(raw: str) -> Path | None:
    if not raw:
        return None
    folder = Path(raw).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"--tf-bin-dir: {raw!r} is not a folder")
    return folder.resolve()


def _tf_version(flag: str, raw: str) -> str:
    raw = raw.strip()
    if raw:
        try:
            parse_constraint(raw)
        except ValueError as err:
            raise ConfigError(f"--{flag}: {err}") from None
    return raw



def _local_repos(raw: str) -> Path | None:
    if not raw:
        return None
    folder = Path(raw).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"--local-repos: {raw!r} is not a folder")
    return folder.resolve()


_ENV_GLOB = re.compile(r"^[A-Za-z0-9_*?\[\]!-]+$")


def _env_globs(raw: str) -> tuple[str, ...]:
    globs = tuple(g.strip() for g in raw.split(",") if g.strip())
    for glob in globs:
        if not _ENV_GLOB.match(glob):
            raise ConfigError(f"--tf-env-passthrough: {glob!r} is not a glob of variable "
                              "names, e.g. AWS_*")
        if not glob.strip("*?"):
            raise ConfigError(f"--tf-env-passthrough: {glob!r} would hand terraform the "
                              "server's whole environment; name prefixes such as AWS_*")
    return globs


def _credentials(file: str) -> CredentialsFile | None:
    """Parsed at start so a bad file stops the server; values are read at use."""
    if not file:
        return None
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"--credentials: cannot read {file!r}: {err}") from None
    try:
        return parse_credentials(file, text)
    except RepoConfigError as err:
        raise ConfigError(f"--credentials {err}") from None


def _repo_config(file: str, raw_json: str) -> ServerRepoConfig | None:
    """repos.yaml, read at start: a bad one stops the server naming file, line and key."""
    if file and raw_json:
        raise ConfigError("--repo-config and --repo-config-json: give one, not both")
    if not file and not raw_json:
        return None
    text, flag = raw_json, "--repo-config-json"
    if file:
        flag = "--repo-config"
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"--repo-config: cannot read {file!r}: {err}") from None
    try:
        return parse_server_config(text, file or JSON_SOURCE)
    except RepoConfigError as err:
        raise ConfigError(f"{flag}: {err}") from None
def _policies(file: str) -> PolicySets | None:
    """Parsed at start so a bad file stops the server; the Rego files are read
    (and checked) by the policy engine, at start and at each plan."""
    if not file:
        return None
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"--policies: cannot read {file!r}: {err}") from None
    try:
        return load_policies(str(Path(file).absolute()), text)
    except RepoConfigError as err:
        raise ConfigError(f"--policies {err}") from None


def _duration(flag: str, raw: str) -> timedelta | None:
    if not raw:
        return None
    try:
        return parse_duration(raw)
    except ValueError as err:
        raise ConfigError(f"--{flag}: {err}") from None


def _retry_limit(raw: str) -> timedelta:
    if raw.strip() in ("", "0"):
        return timedelta(0)
    found = _duration("forge-retry-limit", raw)
    assert found is not None
    return found


def _gitlab_url(url: str, hostname: str) -> str:
    if url and hostname:
        raise ConfigError("--gitlab-url and --gitlab-hostname: give one, not both")
    if hostname:
        if not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]+)?", hostname):
            raise ConfigError(f"--gitlab-hostname: expected a host name, got {hostname!r}")
        url = f"https://{hostname}"
    url = (url or DEFAULT_GITLAB_URL).rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"--gitlab-url: expected an http(s) URL, got {url!r}")
    return url
