"""Server settings: flags, ATLANTIS_* env vars, defaults, and errors that name the flag."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import pytest

from atlantis_py.errors import ConfigError
from atlantis_py.settings import (
    DEFAULT_GH_API_URL,
    Settings,
    add_arguments,
    build,
    child_environ,
    env_name,
    load,
    resolve,
)


@pytest.fixture
def tf(tmp_path: Path) -> str:
    """An executable stand-in for terraform, so the tests don't depend on PATH."""
    path = tmp_path / "bin" / "terraform"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def env(tf: str) -> dict[str, str]:
    return {"ATLANTIS_GH_TOKEN": "tok", "ATLANTIS_GH_WEBHOOK_SECRET": "sec",
            "ATLANTIS_TERRAFORM_BIN": tf}


def args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="atlantis-py server")
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults(env: dict[str, str], tf: str) -> None:
    s = load(args(), env)
    assert s == Settings(gh_token="tok", gh_webhook_secret="sec", terraform_bin=tf)
    assert (s.port, s.host, s.gh_api_url, s.gh_user) == (4141, "0.0.0.0", DEFAULT_GH_API_URL,
                                                         "atlantis")
    assert (s.repo_allowlist, s.parallel_pool_size, s.worker_threads) == (("*",), 4, 2)
    assert (s.allow_custom_steps, s.database_url, s.gh_write_interval) == (False, "", 0.0)
    assert s.data_dir == Path("./atlantis-data")


@pytest.mark.parametrize("flag, name", [
    pytest.param("gh-token", "ATLANTIS_GH_TOKEN", id="gh-token"),
    pytest.param("port", "ATLANTIS_PORT", id="port"),
    pytest.param("allow-custom-steps", "ATLANTIS_ALLOW_CUSTOM_STEPS", id="allow-custom-steps"),
])
def test_env_names(flag: str, name: str) -> None:
    assert env_name(flag) == name


# (argv, extra env, attribute, expected value)
SOURCES = [
    pytest.param([], {"ATLANTIS_PORT": "5000"}, "port", 5000, id="port-env"),
    pytest.param(["--port", "6000"], {}, "port", 6000, id="port-flag"),
    pytest.param(["--port", "6000"], {"ATLANTIS_PORT": "5000"}, "port", 6000,
                 id="port-flag-wins"),
    pytest.param(["--port", "0"], {}, "port", 0, id="port-zero-any-free-port"),
    pytest.param([], {"ATLANTIS_GH_TOKEN": "env-tok"}, "gh_token", "env-tok", id="token-env"),
    pytest.param(["--gh-token", "flag-tok"], {"ATLANTIS_GH_TOKEN": "env-tok"}, "gh_token",
                 "flag-tok", id="token-flag-wins"),
    pytest.param(["--gh-user", "Flag-Bot"], {"ATLANTIS_GH_USER": "env-bot"}, "gh_user",
                 "Flag-Bot", id="user-flag-wins"),
    pytest.param([], {"ATLANTIS_GH_USER": ""}, "gh_user", "atlantis", id="user-empty-default"),
    pytest.param([], {"ATLANTIS_GH_API_URL": "https://ghe.example/api/v3/"}, "gh_api_url",
                 "https://ghe.example/api/v3", id="api-url-env-trailing-slash-dropped"),
    pytest.param(["--gh-api-url", "http://127.0.0.1:8080"],
                 {"ATLANTIS_GH_API_URL": "https://ghe.example/api/v3"}, "gh_api_url",
                 "http://127.0.0.1:8080", id="api-url-flag-wins"),
    pytest.param([], {"ATLANTIS_REPO_ALLOWLIST": "acme/*, beta/infra ,,"}, "repo_allowlist",
                 ("acme/*", "beta/infra"), id="allowlist-split-and-trimmed"),
    pytest.param(["--repo-allowlist", "x/y"], {"ATLANTIS_REPO_ALLOWLIST": "acme/*"},
                 "repo_allowlist", ("x/y",), id="allowlist-flag-wins"),
    pytest.param([], {"ATLANTIS_DATA_DIR": "/var/lib/atl"}, "data_dir", Path("/var/lib/atl"),
                 id="data-dir-env"),
    pytest.param(["--data-dir", "/flag"], {"ATLANTIS_DATA_DIR": "/env"}, "data_dir",
                 Path("/flag"), id="data-dir-flag-wins"),
    pytest.param([], {"ATLANTIS_DATABASE_URL": "postgresql+psycopg://u@h/db"}, "database_url",
                 "postgresql+psycopg://u@h/db", id="database-url-env"),
    pytest.param([], {"ATLANTIS_PARALLEL_POOL_SIZE": "64"}, "parallel_pool_size", 64,
                 id="pool-size-max"),
    pytest.param(["--parallel-pool-size", "1"], {"ATLANTIS_PARALLEL_POOL_SIZE": "8"},
                 "parallel_pool_size", 1, id="pool-size-flag-wins"),
    pytest.param([], {"ATLANTIS_WORKER_THREADS": "3"}, "worker_threads", 3,
                 id="worker-threads-env"),
    pytest.param([], {"ATLANTIS_HOST": "127.0.0.1"}, "host", "127.0.0.1", id="host-env"),
    pytest.param([], {"ATLANTIS_GH_WRITE_INTERVAL": "1.5"}, "gh_write_interval", 1.5,
                 id="write-interval-env"),
    pytest.param([], {"ATLANTIS_ALLOW_CUSTOM_STEPS": "true"}, "allow_custom_steps", True,
                 id="bool-env-true"),
    pytest.param([], {"ATLANTIS_ALLOW_CUSTOM_STEPS": "YES"}, "allow_custom_steps", True,
                 id="bool-env-yes-any-case"),
    pytest.param([], {"ATLANTIS_ALLOW_CUSTOM_STEPS": "1"}, "allow_custom_steps", True,
                 id="bool-env-1"),
    pytest.param([], {"ATLANTIS_ALLOW_CUSTOM_STEPS": " on "}, "allow_custom_steps", True,
                 id="bool-env-on-padded"),
    pytest.param([], {"ATLANTIS_ALLOW_CUSTOM_STEPS": "false"}, "allow_custom_steps", False,
                 id="bool-env-false"),
    pytest.param([], {"ATLANTIS_ALLOW_CUSTOM_STEPS": "0"}, "allow_custom_steps", False,
                 id="bool-env-0"),
    pytest.param([], {"ATLANTIS_ALLOW_CUSTOM_STEPS": ""}, "allow_custom_steps", False,
                 id="bool-env-empty"),
    pytest.param(["--allow-custom-steps"], {}, "allow_custom_steps", True, id="bool-flag"),
    pytest.param(["--allow-custom-steps"], {"ATLANTIS_ALLOW_CUSTOM_STEPS": "false"},
                 "allow_custom_steps", True, id="bool-flag-wins"),
    pytest.param([], {}, "gitlab_approver_access_level", 30, id="approver-level-default"),
    pytest.param([], {"ATLANTIS_GITLAB_APPROVER_ACCESS_LEVEL": "40"},
                 "gitlab_approver_access_level", 40, id="approver-level-env"),
    pytest.param(["--gitlab-approver-access-level", "50"],
                 {"ATLANTIS_GITLAB_APPROVER_ACCESS_LEVEL": "40"},
                 "gitlab_approver_access_level", 50, id="approver-level-flag-wins"),
    pytest.param([], {}, "rules_branch", "", id="rules-branch-default-is-the-default-branch"),
    pytest.param(["--rules-branch", "release/rules"], {}, "rules_branch", "release/rules",
                 id="rules-branch-flag"),
    pytest.param([], {"ATLANTIS_RULES_BRANCH": "main"}, "rules_branch", "main",
                 id="rules-branch-env"),
    pytest.param([], {}, "apply_base_branches", ("*",), id="apply-base-branches-default"),
    pytest.param(["--apply-base-branches", "main, release/* ,"], {}, "apply_base_branches",
                 ("main", "release/*"), id="apply-base-branches-split-and-trimmed"),
    pytest.param([], {"ATLANTIS_APPLY_BASE_BRANCHES": "main"}, "apply_base_branches",
                 ("main",), id="apply-base-branches-env"),
    pytest.param([], {}, "forge_retry_limit", timedelta(minutes=30), id="retry-limit-default"),
    pytest.param(["--forge-retry-limit", "2h"], {"ATLANTIS_FORGE_RETRY_LIMIT": "5m"},
                 "forge_retry_limit", timedelta(hours=2), id="retry-limit-flag-wins"),
    pytest.param([], {"ATLANTIS_FORGE_RETRY_LIMIT": "1h30m"}, "forge_retry_limit",
                 timedelta(minutes=90), id="retry-limit-env"),
    pytest.param(["--forge-retry-limit", "0"], {}, "forge_retry_limit", timedelta(0),
                 id="retry-limit-zero-never-retries"),
    pytest.param([], {}, "web_secure_cookies", False, id="secure-cookies-default-off"),
    pytest.param(["--web-secure-cookies"], {}, "web_secure_cookies", True,
                 id="secure-cookies-flag"),
    pytest.param([], {"ATLANTIS_WEB_SECURE_COOKIES": "true"}, "web_secure_cookies", True,
                 id="secure-cookies-env"),
    pytest.param([], {}, "drift_max_parallel", 2, id="drift-max-parallel-default"),
    pytest.param(["--drift-max-parallel", "4"], {"ATLANTIS_DRIFT_MAX_PARALLEL": "3"},
                 "drift_max_parallel", 4, id="drift-max-parallel-flag-wins"),
    pytest.param([], {"ATLANTIS_DRIFT_MAX_PARALLEL": "3"}, "drift_max_parallel", 3,
                 id="drift-max-parallel-env"),
]


@pytest.mark.parametrize("argv, extra, attr, expected", SOURCES)
def test_flag_env_default(argv: list[str], extra: dict[str, str], attr: str, expected: object,
                          env: dict[str, str]) -> None:
    s = load(args(*argv), {**env, **extra})
    assert getattr(s, attr) == expected


def test_explicit_environ_replaces_process_env(monkeypatch: pytest.MonkeyPatch,
                                               env: dict[str, str]) -> None:
    monkeypatch.setenv("ATLANTIS_PORT", "1234")
    monkeypatch.setenv("ATLANTIS_GH_USER", "from-os")
    s = load(args(), env)
    assert (s.port, s.gh_user) == (4141, "atlantis")


def test_process_env_used_without_environ(monkeypatch: pytest.MonkeyPatch,
                                          env: dict[str, str]) -> None:
    for key, value in {**env, "ATLANTIS_PORT": "1234"}.items():
        monkeypatch.setenv(key, value)
    assert load(args()).port == 1234


def test_forge_credentials_optional_when_not_required(tf: str) -> None:
    s = load(args(), {"ATLANTIS_TERRAFORM_BIN": tf}, require_forge=False)
    assert (s.gh_token, s.gh_webhook_secret) == ("", "")


# (argv, env changes (None deletes), the flag the message must name, another part of it)
ERRORS = [
    pytest.param(["--port", "http"], {}, "--port", "whole number", id="port-not-a-number"),
    pytest.param(["--port", "65536"], {}, "--port", "between 0 and 65535", id="port-too-big"),
    pytest.param(["--port", "-1"], {}, "--port", "between 0 and 65535", id="port-negative"),
    pytest.param([], {"ATLANTIS_PORT": "41.41"}, "--port", "whole number", id="port-env-float"),
    pytest.param(["--parallel-pool-size", "0"], {}, "--parallel-pool-size", "between 1 and 64",
                 id="pool-size-0"),
    pytest.param(["--parallel-pool-size", "65"], {}, "--parallel-pool-size", "between 1",
                 id="pool-size-65"),
    pytest.param([], {"ATLANTIS_WORKER_THREADS": "0"}, "--worker-threads", "between 1",
                 id="worker-threads-0"),
    pytest.param(["--gh-api-url", "api.github.com"], {}, "--gh-api-url", "http(s) URL",
                 id="api-url-no-scheme"),
    pytest.param(["--gh-api-url", "ftp://ghe.example"], {}, "--gh-api-url", "http(s) URL",
                 id="api-url-ftp"),
    pytest.param(["--gh-api-url", "https://"], {}, "--gh-api-url", "http(s) URL",
                 id="api-url-no-host"),
    pytest.param([], {"ATLANTIS_GH_WEBHOOK_SECRET": None}, "--gh-webhook-secret",
                 "unsigned webhooks", id="token-without-secret"),
    pytest.param([], {"ATLANTIS_GH_WEBHOOK_SECRET": ""}, "--gh-webhook-secret",
                 "ATLANTIS_GH_WEBHOOK_SECRET", id="token-with-empty-secret"),
    pytest.param([], {"ATLANTIS_GH_TOKEN": None}, "--gh-token", "ATLANTIS_GH_TOKEN",
                 id="no-token"),
    pytest.param(["--terraform-bin", "/nonexistent/terraform"], {}, "--terraform-bin",
                 "not an executable", id="terraform-missing-path"),
    pytest.param([], {"ATLANTIS_TERRAFORM_BIN": "no-such-terraform-binary-x"},
                 "--terraform-bin", "no-such-terraform-binary-x", id="terraform-not-on-path"),
    pytest.param(["--database-url", "localhost/atlantis"], {}, "--database-url",
                 "expected a URL", id="database-url-not-a-url"),
    pytest.param([], {"ATLANTIS_ALLOW_CUSTOM_STEPS": "maybe"}, "--allow-custom-steps",
                 "'maybe'", id="bad-bool"),
    pytest.param(["--repo-allowlist", ""], {}, "--repo-allowlist", "at least one glob",
                 id="allowlist-empty"),
    pytest.param([], {"ATLANTIS_REPO_ALLOWLIST": " , ,"}, "--repo-allowlist",
                 "at least one glob", id="allowlist-only-commas"),
    pytest.param(["--gh-write-interval", "soon"], {}, "--gh-write-interval", "seconds",
                 id="write-interval-word"),
    pytest.param(["--gh-write-interval", "61"], {}, "--gh-write-interval", "between 0 and 60",
                 id="write-interval-too-long"),
    pytest.param(["--gh-write-interval", "-1"], {}, "--gh-write-interval", "between 0 and 60",
                 id="write-interval-negative"),
    pytest.param(["--gh-write-interval", "nan"], {}, "--gh-write-interval", "between 0 and 60",
                 id="write-interval-nan"),
    pytest.param(["--gitlab-approver-access-level", "60"], {},
                 "--gitlab-approver-access-level", "between 10 and 50", id="approver-level-60"),
    pytest.param([], {"ATLANTIS_GITLAB_APPROVER_ACCESS_LEVEL": "dev"},
                 "--gitlab-approver-access-level", "whole number", id="approver-level-word"),
    pytest.param([], {"ATLANTIS_RULES_BRANCH": "-x"}, "--rules-branch", "not a branch name",
                 id="rules-branch-option-like"),
    pytest.param(["--rules-branch", "a..b"], {}, "--rules-branch", "not a branch name",
                 id="rules-branch-range"),
    pytest.param(["--rules-branch", "ma in"], {}, "--rules-branch", "not a branch name",
                 id="rules-branch-space"),
    pytest.param(["--rules-branch", "rules.lock"], {}, "--rules-branch", "not a branch name",
                 id="rules-branch-lock-suffix"),
    pytest.param(["--apply-base-branches", " , "], {}, "--apply-base-branches",
                 "at least one glob", id="apply-base-branches-empty"),
    pytest.param(["--forge-retry-limit", "soon"], {}, "--forge-retry-limit", "'soon'",
                 id="retry-limit-word"),
    pytest.param(["--forge-retry-limit", "30"], {}, "--forge-retry-limit", "'30'",
                 id="retry-limit-no-unit"),
    pytest.param(["--drift-max-parallel", "0"], {}, "--drift-max-parallel", "between 1 and 64",
                 id="drift-max-parallel-0"),
]


@pytest.mark.parametrize("argv, changes, flag, detail", ERRORS)
def test_errors_name_the_flag(argv: list[str], changes: Mapping[str, str | None], flag: str,
                              detail: str, env: dict[str, str]) -> None:
    merged: dict[str, str | None] = {**env, **changes}
    environ = {k: v for k, v in merged.items() if v is not None}
    with pytest.raises(ConfigError) as err:
        load(args(*argv), environ)
    message = str(err.value)
    assert message.startswith(flag), message
    assert detail in message


def test_build_accepts_resolved_values_and_typed_bool(env: dict[str, str]) -> None:
    raw = resolve(args("--port", "8080"), env)
    assert raw["port"] == "8080" and raw["gh-token"] == "tok"
    s = build({**raw, "allow-custom-steps": True, "parallel-pool-size": 7})
    assert (s.port, s.parallel_pool_size, s.allow_custom_steps) == (8080, 7, True)


def test_build_error_names_flag(env: dict[str, str]) -> None:
    raw = resolve(args(), env)
    with pytest.raises(ConfigError, match=r"^--parallel-pool-size"):
        build({**raw, "parallel-pool-size": 0})


@pytest.mark.parametrize("allowlist, repo, allowed", [
    pytest.param(("*",), "anyone/anything", True, id="star-allows-all"),
    pytest.param(("acme/*",), "acme/infra", True, id="owner-glob"),
    pytest.param(("acme/*",), "acme/group/infra", False, id="owner-glob-one-segment"),
    pytest.param(("acme/*",), "acme/x/../../other/secret", False, id="owner-glob-traversal"),
    pytest.param(("acme/**",), "acme/group/infra", True, id="any-depth"),
    pytest.param(("*",), "acme/group/infra", True, id="star-alone-any-depth"),
    pytest.param(("acme/*",), "other/infra", False, id="owner-glob-other-owner"),
    pytest.param(("acme/*",), "acme-evil/infra", False, id="owner-glob-not-prefix"),
    pytest.param(("acme/infra",), "acme/infra", True, id="exact"),
    pytest.param(("acme/infra",), "acme/infra2", False, id="exact-is-anchored"),
    pytest.param(("acme/infra-?",), "acme/infra-1", True, id="qmark"),
    pytest.param(("acme/infra", "beta/*"), "beta/x", True, id="second-entry"),
    pytest.param(("acme/infra", "beta/*"), "gamma/x", False, id="no-entry"),
])
def test_repo_allowed(allowlist: tuple[str, ...], repo: str, allowed: bool) -> None:
    assert Settings(repo_allowlist=allowlist).repo_allowed(repo) is allowed


@pytest.mark.parametrize("allowlist", ["acme/../other", "acme/x y", "acme/%2e%2e", "acme/",
                                       "acme", "acme/*#", "acme/[ab]"])
def test_bad_allowlist_glob_stops_the_server(env: dict[str, str], allowlist: str) -> None:
    with pytest.raises(ConfigError, match=r"^--repo-allowlist: "):
        load(args(), {**env, "ATLANTIS_REPO_ALLOWLIST": f"acme/infra,{allowlist}"})


def test_repo_allowed_from_env(env: dict[str, str]) -> None:
    s = load(args(), {**env, "ATLANTIS_REPO_ALLOWLIST": "acme/infra, beta/*"})
    assert s.repo_allowed("beta/net") and s.repo_allowed("acme/infra")
    assert not s.repo_allowed("acme/other")


def test_db_url_defaults_to_sqlite_under_data_dir(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data")
    assert s.db_url == f"sqlite:///{tmp_path}/data/atlantis.db"


def test_db_url_relative_data_dir_is_made_absolute(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = Settings(data_dir=Path("rel")).db_url
    assert url == f"sqlite:///{tmp_path.resolve()}/rel/atlantis.db"


def test_db_url_explicit_database_url_wins(tmp_path: Path, env: dict[str, str]) -> None:
    s = load(args("--database-url", "postgresql+psycopg://u@h/db",
                  "--data-dir", str(tmp_path)), env)
    assert s.db_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("raw, globs", [
    pytest.param("", (), id="default-none"),
    pytest.param("AWS_*", ("AWS_*",), id="one"),
    pytest.param(" AWS_*, GOOGLE_*,ARM_*,TF_TOKEN_* ,", ("AWS_*", "GOOGLE_*", "ARM_*",
                                                         "TF_TOKEN_*"), id="several"),
    pytest.param("TF_CLI_CONFIG_FILE,AWS_ROLE_AR?", ("TF_CLI_CONFIG_FILE", "AWS_ROLE_AR?"),
                 id="exact-and-qmark"),
])
def test_tf_env_passthrough(raw: str, globs: tuple[str, ...], env: dict[str, str]) -> None:
    assert load(args("--tf-env-passthrough", raw), env).tf_env_passthrough == globs
    assert load(args(), {**env, "ATLANTIS_TF_ENV_PASSTHROUGH": raw}).tf_env_passthrough == globs


@pytest.mark.parametrize("raw, detail", [
    pytest.param("*", "whole environment", id="star"),
    pytest.param("AWS_*,**", "whole environment", id="stars"),
    pytest.param("AWS KEY", "not a glob of variable names", id="space"),
    pytest.param("AWS_*;rm", "not a glob of variable names", id="semicolon"),
])
def test_tf_env_passthrough_errors(raw: str, detail: str, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"^--tf-env-passthrough: .*" + detail):
        load(args("--tf-env-passthrough", raw), env)


def test_credentials_file_is_parsed_at_start(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text("environments:\n  dev:\n    TF_VAR_secret: dev-literal-value\n")
    s = load(args("--credentials", str(path)), env)
    assert s.credentials is not None and s.credentials.file == str(path)
    assert [v.name for v in s.credentials.variables("dev")] == ["TF_VAR_secret"]
    assert load(args(), env).credentials is None


@pytest.mark.parametrize("text, detail", [
    pytest.param(None, "--credentials: cannot read", id="missing"),
    pytest.param("environments:\n  dev:\n    TF_VAR_secret: 42\n",
                 "--credentials {file}:3: environments.dev.TF_VAR_secret: expected a string",
                 id="bad-value"),
    pytest.param("environments:\n  dev:\n    - A\n",
                 "--credentials {file}:3: environments.dev: expected a mapping", id="list"),
    pytest.param("environments:\n  dev: {\n", "--credentials {file}:", id="bad-yaml"),
])
def test_credentials_errors_name_file_line_and_key(tmp_path: Path, env: dict[str, str],
                                                   text: str | None, detail: str) -> None:
    path = tmp_path / "creds.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(args("--credentials", str(path)), env)
    assert str(err.value).startswith(detail.format(file=path)), str(err.value)


def test_policies_file_is_parsed_at_start_with_paths_from_its_folder(
        tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "policies.yaml").write_text(
        "policies:\n  policy_sets:\n    - {name: cost, path: rego/cost}\n")
    monkeypatch.chdir(tmp_path)
    s = load(args("--policies", "conf/policies.yaml"), env)
    assert s.policies is not None
    assert [(p.name, p.path) for p in s.policies.sets] == [
        ("cost", str(tmp_path / "conf" / "rego" / "cost"))]
    assert load(args(), env).policies is None
    env["ATLANTIS_POLICIES"] = "conf/policies.yaml"
    assert load(args(), env).policies == s.policies


@pytest.mark.parametrize("text, detail", [
    pytest.param(None, "--policies: cannot read", id="missing"),
    pytest.param("policies:\n  policy_sets:\n    - {name: a}\n",
                 "--policies {file}:3: policies.policy_sets[0]: missing key 'path'",
                 id="no-path"),
    pytest.param("policy_sets: []\n", "--policies {file}:1: (document): missing key "
                 "'policies'", id="no-section"),
])
def test_policies_errors_name_file_line_and_key(tmp_path: Path, env: dict[str, str],
                                                text: str | None, detail: str) -> None:
    path = tmp_path / "policies.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(args("--policies", str(path)), env)
    assert str(err.value).startswith(detail.format(file=path)), str(err.value)


def test_child_environ_carries_the_flags_given(env: dict[str, str]) -> None:
    given = args("--gh-token", "ghp_flag_token", "--gh-webhook-secret", "flag-secret",
                 "--allow-custom-steps", "--port", "9999")
    child = child_environ(given)
    assert child == {"ATLANTIS_GH_TOKEN": "ghp_flag_token",
                     "ATLANTIS_GH_WEBHOOK_SECRET": "flag-secret",
                     "ATLANTIS_ALLOW_CUSTOM_STEPS": "true", "ATLANTIS_PORT": "9999"}
    # the child, started with no flags and this environment, has the parent's settings
    assert load(args(), {**env, **child}) == load(given, env)


def test_local_repos_is_a_forge_of_its_own(tmp_path: Path, tf: str) -> None:
    repos = tmp_path / "git"
    repos.mkdir()
    s = load(args("--local-repos", str(repos)), {"ATLANTIS_TERRAFORM_BIN": tf})
    assert s.local_repos == repos.resolve()
    assert s.gh_token == "" and s.gitlab_token == ""
    assert load(args(), {"ATLANTIS_TERRAFORM_BIN": tf, "ATLANTIS_LOCAL_REPOS": str(repos)}
                ).local_repos == repos.resolve()
    with pytest.raises(ConfigError, match="--local-repos: .* is not a folder"):
        load(args("--local-repos", str(tmp_path / "missing")), {"ATLANTIS_TERRAFORM_BIN": tf})


def test_repo_config_file_or_json_is_parsed_at_start(tmp_path: Path, env: dict[str, str]
                                                      ) -> None:
    path = tmp_path / "repos.yaml"
    path.write_text("repos:\n- id: /.*/\n  workflow: default\n")
    s = load(args("--repo-config", str(path)), env)
    assert s.repo_config is not None and s.repo_config.file == str(path)
    assert s.repo_config.repos[0].workflow == "default"
    from_env = load(args(), {**env, "ATLANTIS_REPO_CONFIG_JSON": '{"repos": [{"id": "a/b"}]}'})
    assert from_env.repo_config is not None and from_env.repo_config.repos[0].id == "a/b"
    assert from_env.repo_config.file == "--repo-config-json"
    assert load(args(), env).repo_config is None


def test_repo_config_policies_section_gives_the_policy_sets(tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    path = tmp_path / "repos.yaml"
    path.write_text("repos:\n- id: /.*/\npolicies:\n  owners: {users: [alice]}\n"
                    "  policy_sets:\n    - {name: cost, path: rego}\n")
    s = load(args("--repo-config", str(path)), env)
    assert s.policies is not None and s.policies.owners.users == ("alice",)
    assert [(p.name, p.path) for p in s.policies.sets] == [("cost", str(tmp_path / "rego"))]
    other = tmp_path / "policies.yaml"
    other.write_text("policies:\n  policy_sets:\n    - {name: x, path: rego}\n")
    with pytest.raises(ConfigError, match="declare policy sets in one place"):
        load(args("--repo-config", str(path), "--policies", str(other)), env)
    bad = tmp_path / "bad.yaml"
    bad.write_text("repos: []\npolicies:\n  policy_sets: []\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:3"):
        load(args("--repo-config", str(bad)), env)


@pytest.mark.parametrize("argv, text, detail", [
    pytest.param(["--repo-config", "{file}"], "repos:\n- id: a/b\nmetrics: {}\n",
                 "--repo-config: {file}:3: metrics: Atlantis's 'metrics' is "
                 "not supported", id="unsupported-key"),
    pytest.param(["--repo-config", "{file}"], "repos:\n- id: a/b\n  workflow: nope\n",
                 "--repo-config: {file}:3: repos[0].workflow: workflow 'nope' is not defined",
                 id="undefined-workflow"),
    pytest.param(["--repo-config", "{file}.missing"], "", "--repo-config: cannot read",
                 id="missing"),
    pytest.param(["--repo-config-json", '{"repos": 1}'], "",
                 "--repo-config-json: --repo-config-json:1: repos: expected a list",
                 id="json"),
    pytest.param(["--repo-config", "{file}", "--repo-config-json", "{}"], "",
                 "--repo-config and --repo-config-json: give one", id="both"),
])
def test_repo_config_errors_name_file_line_and_key(tmp_path: Path, env: dict[str, str],
                                                   argv: list[str], text: str,
                                                   detail: str) -> None:
    path = tmp_path / "repos.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(args(*[a.replace("{file}", str(path)) for a in argv]), env)
    assert str(err.value).startswith(detail.format(file=path)), str(err.value)


@pytest.mark.parametrize("changes, hosts", [
    ({}, {"github": "github.com", "gitlab": "gitlab.com"}),
    ({"ATLANTIS_GH_API_URL": "https://ghe.acme.dev/api/v3",
      "ATLANTIS_GITLAB_URL": "https://git.acme.dev"},
     {"github": "ghe.acme.dev", "gitlab": "git.acme.dev"}),
])
def test_forge_hosts_qualify_repo_ids(env: dict[str, str], changes: dict[str, str],
                                      hosts: dict[str, str]) -> None:
    found = load(args(), {**env, **changes}).forge_hosts
    assert {k: found[k] for k in hosts} == hosts
def test_command_and_autoplan_defaults_are_atlantis_s(env: dict[str, str]) -> None:
    s = load(args(), env)
    assert s.allow_commands == {"version", "plan", "apply", "unlock", "approve_policies",
                                "cancel"}
    assert (s.disable_autoplan, s.disable_autoplan_label) == (False, "")
    assert s.autoplan_file_list == (
        "**/*.tf", "**/*.tf.json", "**/*.tfvars", "**/*.tfvars.json", "**/*.tofu",
        "**/*.tofu.json", "**/terragrunt.hcl", "**/.terraform.lock.hcl")


@pytest.mark.parametrize(("argv", "extra", "expected"), [
    (["--allow-commands", "plan,apply"], {}, {"plan", "apply"}),
    (["--allow-commands", " Plan , import,state "], {}, {"plan", "import", "state"}),
    ([], {"ATLANTIS_ALLOW_COMMANDS": "version,plan"}, {"version", "plan"}),
    (["--allow-commands", "plan,all"], {}, {"version", "plan", "apply", "unlock", "import",
                                            "state", "approve_policies", "cancel",
                                            "policy_check"}),
])
def test_allow_commands(argv: list[str], extra: dict[str, str], expected: set[str],
                        env: dict[str, str]) -> None:
    assert load(args(*argv), {**env, **extra}).allow_commands == expected


def test_allow_commands_refuses_an_unknown_name(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"--allow-commands: unknown command 'destroy'"):
        load(args("--allow-commands", "plan,destroy"), env)


def test_disable_autoplan_flag_and_env(env: dict[str, str]) -> None:
    assert load(args("--disable-autoplan"), env).disable_autoplan is True
    assert load(args(), {**env, "ATLANTIS_DISABLE_AUTOPLAN": "true"}).disable_autoplan is True
    assert load(args(), {**env, "ATLANTIS_DISABLE_AUTOPLAN_LABEL": "no-plan"}
                ).disable_autoplan_label == "no-plan"
    with pytest.raises(ConfigError, match="--disable-autoplan: expected true or false"):
        load(args(), {**env, "ATLANTIS_DISABLE_AUTOPLAN": "maybe"})


def test_autoplan_file_list(env: dict[str, str]) -> None:
    assert load(args("--autoplan-file-list", "**/*.tf, project1/*.pkr.hcl,!legacy"), env
                ).autoplan_file_list == ("**/*.tf", "project1/*.pkr.hcl", "!legacy")
    assert load(args(), {**env, "ATLANTIS_AUTOPLAN_FILE_LIST": "**/*.tf"}
                ).autoplan_file_list == ("**/*.tf",)
    for bad in ("/etc/*.tf", "../x/*.tf", "!"):
        with pytest.raises(ConfigError, match="--autoplan-file-list"):
            load(args("--autoplan-file-list", bad), env)
# terraform versions, log format and GitHub App authentication

def _rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def pem() -> str:
    return _rsa_pem()


@pytest.fixture
def app_env(tf: str, tmp_path: Path, pem: str) -> dict[str, str]:
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem)
    return {"ATLANTIS_GH_APP_ID": "42", "ATLANTIS_GH_APP_KEY_FILE": str(key_file),
            "ATLANTIS_GH_APP_SLUG": "acme-atlantis", "ATLANTIS_GH_WEBHOOK_SECRET": "sec",
            "ATLANTIS_TERRAFORM_BIN": tf}


def test_terraform_version_settings_default_as_atlantis(env: dict[str, str]) -> None:
    s = load(args(), env)
    assert (s.log_format, s.tf_distribution, s.tf_bin_dir, s.default_tf_version) == (
        "text", "terraform", None, "")
    assert (s.tf_download, s.tf_download_url) == (False, "https://releases.hashicorp.com")


def test_terraform_version_flags_and_env(env: dict[str, str], tmp_path: Path) -> None:
    s = load(args("--tf-bin-dir", str(tmp_path), "--tf-download", "--log-format", "json",
                  "--tf-download-url", "http://127.0.0.1:9/mirror/"),
             {**env, "ATLANTIS_DEFAULT_TF_VERSION": "~> 1.9"})
    assert (s.tf_bin_dir, s.tf_download, s.log_format) == (tmp_path.resolve(), True, "json")
    assert (s.tf_download_url, s.default_tf_version) == ("http://127.0.0.1:9/mirror", "~> 1.9")
    assert load(args(), {**env, "ATLANTIS_TF_DOWNLOAD": "true",
                         "ATLANTIS_LOG_FORMAT": "json"}).tf_download


def test_opentofu_runs_tofu_and_downloads_from_its_releases(
        env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    del env["ATLANTIS_TERRAFORM_BIN"]
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="--terraform-bin: 'tofu' is not an executable"):
        load(args("--tf-distribution", "opentofu"), env)
    tofu = tmp_path / "tofu"
    tofu.write_text("#!/bin/sh\n")
    tofu.chmod(0o755)
    s = load(args("--tf-distribution", "opentofu"), env)
    assert (s.terraform_bin, s.tf_distribution) == ("tofu", "opentofu")
    assert s.tf_download_url == "https://github.com/opentofu/opentofu/releases/download"
    assert load(args(), {**env, "ATLANTIS_DEFAULT_TF_DISTRIBUTION": "opentofu"}
                ).tf_distribution == "opentofu"
    with pytest.raises(ConfigError, match="--tf-distribution and --default-tf-distribution"):
        load(args("--tf-distribution", "terraform", "--default-tf-distribution", "opentofu"),
             env)


@pytest.mark.parametrize("argv, message", [
    pytest.param(["--log-format", "xml"], "--log-format: expected text or json, got 'xml'",
                 id="log-format"),
    pytest.param(["--tf-distribution", "tf"], "--tf-distribution: expected terraform or "
                 "opentofu", id="distribution"),
    pytest.param(["--tf-bin-dir", "/no/such/dir"], "--tf-bin-dir: '/no/such/dir' is not a "
                 "folder", id="bin-dir"),
    pytest.param(["--default-tf-version", "latest"], "--default-tf-version: 'latest' is not "
                 "a version or constraint", id="default-version"),
    pytest.param(["--tf-download-url", "ftp://x"], "--tf-download-url: expected an http",
                 id="download-url"),
    pytest.param(["--tf-download", "--tf-download-url", "x"], "--tf-download-url",
                 id="download-url-not-a-url"),
])
def test_terraform_version_settings_refused(env: dict[str, str], argv: list[str],
                                            message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load(args(*argv), env)


def test_github_app_from_a_key_file(app_env: dict[str, str], pem: str) -> None:
    s = load(args(), app_env)
    assert (s.gh_app_id, s.gh_app_slug, s.gh_app_installation_id) == (42, "acme-atlantis",
                                                                       None)
    assert s.gh_app_key == pem and s.github_configured and not s.gh_token
    assert s.github_bot_user == "acme-atlantis[bot]"
    assert pem not in repr(s)
    s = load(args("--gh-app-installation-id", "7"), app_env)
    assert s.gh_app_installation_id == 7


def test_github_app_key_from_the_environment_only(app_env: dict[str, str], pem: str) -> None:
    del app_env["ATLANTIS_GH_APP_KEY_FILE"]
    assert load(args(), {**app_env, "ATLANTIS_GH_APP_KEY": pem}).gh_app_key == pem
    with pytest.raises(ConfigError, match="--gh-app-key: a command line is readable"):
        load(args("--gh-app-key", pem), app_env)


@pytest.mark.parametrize("change, message", [
    pytest.param({"ATLANTIS_GH_APP_SLUG": ""}, "needs --gh-app-slug", id="no-slug"),
    pytest.param({"ATLANTIS_GH_APP_KEY_FILE": ""}, "needs the App's private key",
                 id="no-key"),
    pytest.param({"ATLANTIS_GH_APP_KEY_FILE": "/no/such.pem"}, "--gh-app-key-file: cannot "
                 "read", id="unreadable-key"),
    pytest.param({"ATLANTIS_GH_WEBHOOK_SECRET": ""}, "--gh-webhook-secret .* is required "
                 "with --gh-app-id", id="no-secret"),
    pytest.param({"ATLANTIS_GH_TOKEN": "tok"}, "give one, not both", id="with-token"),
    pytest.param({"ATLANTIS_GH_APP_ID": "x"}, "--gh-app-id: expected a whole number",
                 id="bad-id"),
    pytest.param({"ATLANTIS_GH_APP_ID": ""}, "--gh-app-key-file needs --gh-app-id",
                 id="key-without-id"),
    pytest.param({"ATLANTIS_GH_APP_INSTALLATION_ID": "0"}, "--gh-app-installation-id: must "
                 "be a positive number", id="bad-installation"),
])
def test_github_app_refused(app_env: dict[str, str], change: dict[str, str],
                            message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(args(), {**app_env, **change})


def test_github_app_key_that_is_no_pem_is_refused(app_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="not an unencrypted PEM private key"):
        load(args(), {**app_env, "ATLANTIS_GH_APP_KEY_FILE": str(bad)})
