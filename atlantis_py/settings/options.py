"""The settings' table: each flag with Atlantis's name, its help, and its
ATLANTIS_<NAME> variable; a flag given wins over the variable, the variable over
the default."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass

from atlantis_py.domain.commands import ALLOWABLE_COMMANDS, DEFAULT_ALLOWED_COMMANDS
from atlantis_py.domain.projects import DEFAULT_AUTOPLAN_FILES
from atlantis_py.settings.forges import DEFAULT_GH_API_URL
from atlantis_py.settings.values import env_name


@dataclass(frozen=True)
class Option:
    flag: str
    help: str
    kind: type = str
    default: object = None


OPTIONS: tuple[Option, ...] = (
    Option("gh-token", "GitHub token (personal access token or app installation token)."),
    Option("gh-webhook-secret", "Secret GitHub signs webhooks with (X-Hub-Signature-256)."),
    Option("gh-api-url", "GitHub API base URL (GitHub Enterprise: https://HOST/api/v3).",
            default=DEFAULT_GH_API_URL),
    Option("gh-user", "The bot's GitHub user name.", default="atlantis"),
    Option("gh-write-interval", "Seconds to space GitHub writes (comments, statuses); "
            "raise to 1 if GitHub's secondary rate limits bite.", default="0"),
    Option("gitlab-token", "GitLab token (scope api) of the bot user."),
    Option("gitlab-webhook-secret", "Secret token GitLab sends in X-Gitlab-Token."),
    Option("gitlab-url", "GitLab base URL (self-hosted: https://gitlab.example.com).",
            default=""),
    Option("gitlab-hostname", "Shorthand for --gitlab-url https://HOST.", default=""),
    Option("gitlab-user", "The bot's GitLab user name.", default="atlantis"),
    Option("gitlab-command-access-level", "Least project access level that may run "
            "commands: 30 Developer, 40 Maintainer, 50 Owner.", kind=int, default=30),
    Option("gitlab-approver-access-level", "Least project access level whose approval "
            "counts: 30 Developer, 40 Maintainer, 50 Owner.", kind=int, default=30),
    Option("repo-allowlist", "Comma-separated globs of repos to serve, e.g. 'acme/*'; "
            "'*' matches within one segment, a '**' segment any depth, '*' alone all.",
            default="*"),
    Option("rules-branch", "Branch whose workflows.yaml holds the environments (approval "
            "rules); default: each repository's default branch.", default=""),
    Option("apply-base-branches", "Comma-separated globs of the base branches a pull "
            "request may be applied into, e.g. 'main,release/*'.", default="*"),
    Option("data-dir", "Where mirrors, worktrees, plans and the SQLite DB live.",
            default="./atlantis-data"),
    Option("port", "Port to listen on.", kind=int, default=4141),
    Option("host", "Address to listen on.", default="0.0.0.0"),
    Option("database-url", "SQLAlchemy URL; default SQLite under --data-dir. "
            "PostgreSQL: postgresql+psycopg://user:pw@host/db", default=""),
    Option("parallel-pool-size", "Projects planned in parallel.", kind=int, default=4),
    Option("worker-threads", "Background jobs run at once per worker process.", kind=int,
            default=2),
    Option("job-lease-seconds", "A running job's lease: its worker renews it every third "
            "of this; when a worker dies, another (here or on another replica) takes the job "
            "over after at most this long.", kind=int, default=30),
    Option("max-plan-size-mb", "Largest saved plan kept (in the database, so every "
            "replica can apply it); a larger plan fails with a message saying so.", kind=int,
            default=100),
    Option("worker-processes", "Worker processes beside the web process; 0 runs the "
            "workers inside it.", kind=int, default=1),
    Option("terraform-bin", "terraform (or tofu) executable; default: terraform, or tofu "
            "with --tf-distribution opentofu.", default=""),
    Option("allow-custom-steps", "Allow `run` steps in repo workflows.", kind=bool,
            default=False),
    Option("min-approvals", "Floor on every environment's required_approvals; a repo "
            "cannot go below it.", kind=int, default=1),
    Option("max-approval-ttl", "Approvals expire after at most this long (e.g. 72h), "
            "whatever the repo says.", default=""),
    Option("max-review-deadline", "Pending IPRs expire after at most this long "
            "(e.g. 14d).", default=""),
    Option("disallow-self-approval", "Never count an author's own approval, whatever "
            "the repo says.", kind=bool, default=False),
    Option("notifications", "YAML file of outgoing webhooks per environment "
            "(see README).", default=""),
    Option("tf-env-passthrough", "Comma-separated globs of server environment variables "
            "terraform and run steps may see, e.g. 'AWS_*,GOOGLE_*'.", default=""),
    Option("credentials", "YAML file of terraform variables per approval environment "
            "(see README).", default=""),
    Option("forge-retry-limit", "How long a job keeps retrying while the forge is down "
            "or rate limiting (e.g. 30m, 2h; 0: never retry) before it gives up and says "
            "so on the pull request.", default="30m"),
    Option("local-repos", "Serve the git repositories under this folder as a local forge "
            "(DIR/infra is local/infra): no GitHub or GitLab account needed (see README).",
            default=""),
    Option("web-secure-cookies", "Mark the review console's session cookie Secure even "
            "when requests arrive over plain HTTP (TLS ends at a proxy in front).",
            kind=bool, default=False),
    Option("repo-config", "Server-side repo config, Atlantis's repos.yaml format (see README).",
            default=""),
    Option("repo-config-json", "The server-side repo config as JSON, instead of "
            "--repo-config.", default=""),
    Option("policies", "YAML file of policy sets (Rego) every plan is checked against, "
            "in Atlantis's repos.yaml `policies:` shape (see README).", default=""),
    Option("allow-commands", "Comma-separated comment commands this server runs: "
            + ", ".join(ALLOWABLE_COMMANDS) + ", or all (import and state are off by "
            "default, as in Atlantis).", default=",".join(DEFAULT_ALLOWED_COMMANDS)),
    Option("disable-autoplan", "Never plan on open or push; `atlantis plan` still does.",
            kind=bool, default=False),
    Option("disable-autoplan-label", "Pull requests with this label are not planned on "
            "open or push.", default=""),
    Option("autoplan-file-list", "Comma-separated patterns of the changed files (from the "
            "repository root) that make their directory a project when no config file "
            "lists projects; '!' excludes.", default=",".join(DEFAULT_AUTOPLAN_FILES)),
    Option("drift-max-parallel", "Drift checks (one repository each) run at once, over "
            "all replicas together.", kind=int, default=2),
    Option("log-format", "Log lines as `text` or `json` (one JSON object a line: time, "
            "level, logger, message, exception).", default="text"),
    Option("tf-distribution", "`terraform` or `opentofu`: which binaries projects run "
            "(`tofu` on PATH, `tofu{version}` in --tf-bin-dir).", default=""),
    Option("default-tf-distribution", "Atlantis's newer name of --tf-distribution.",
            default=""),
    Option("tf-bin-dir", "Folder of versioned binaries (`terraform1.9.8`, as Atlantis "
            "names them) that a project's terraform_version picks from; downloads are "
            "cached in DATA_DIR/bin.", default=""),
    Option("default-tf-version", "Version (or constraint, e.g. '~> 1.9') for projects "
            "that name none; default: the binary on PATH.", default=""),
    Option("tf-download", "Download a version a project asks for when no binary has it, "
            "verified against its SHA256SUMS.", kind=bool, default=False),
    Option("tf-download-url", "Where --tf-download fetches from (a mirror with the "
            "releases' layout); default: the distribution's releases.", default=""),
    Option("gh-app-id", "GitHub App id: authenticate as the App's installation instead "
            "of --gh-token.", default=""),
    Option("gh-app-key-file", "File holding the GitHub App's private key (PEM).",
            default=""),
    Option("gh-app-key", "The GitHub App's private key (PEM) itself; only from the "
            "environment, never a command line.", default=""),
    Option("gh-app-slug", "The GitHub App's slug: it comments as SLUG[bot].", default=""),
    Option("gh-app-installation-id", "The App's installation to act as; default: each "
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for opt in OPTIONS:
        if opt.kind is bool:
            parser.add_argument(f"--{opt.flag}", action="store_true", default=None,
                                help=f"{opt.help} [env {env_name(opt.flag)}]")
        else:
            parser.add_argument(f"--{opt.flag}", default=None,
                                help=f"{opt.help} [env {env_name(opt.flag)}]")


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

