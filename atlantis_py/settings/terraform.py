"""How projects run terraform: which distribution and binary, the versions it
may pick or download, and which server variables terraform may see."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from atlantis_py.domain.projects import TF_DISTRIBUTIONS
from atlantis_py.domain.tfversions import parse_constraint
from atlantis_py.errors import ConfigError
from atlantis_py.settings.values import RawValues, comma_list, folder, http_url

# Atlantis's defaults: HashiCorp's releases host, OpenTofu's GitHub releases
DEFAULT_TF_DOWNLOAD_URLS = {
    "terraform": "https://releases.hashicorp.com",
    "opentofu": "https://github.com/opentofu/opentofu/releases/download",
}
_ENV_GLOB = re.compile(r"^[A-Za-z0-9_*?\[\]!-]+$")


@dataclass(frozen=True)
class TerraformSettings:
    terraform_bin: str = "terraform"
    allow_custom_steps: bool = False
    tf_env_passthrough: tuple[str, ...] = ()
    tf_distribution: str = "terraform"
    tf_bin_dir: Path | None = None
    default_tf_version: str = ""
    tf_download: bool = False
    tf_download_url: str = DEFAULT_TF_DOWNLOAD_URLS["terraform"]


def terraform_settings(raw: RawValues) -> TerraformSettings:
    distribution = (raw.text("tf-distribution") or raw.text("default-tf-distribution")
                    or "terraform")
    if raw.text("default-tf-distribution") not in ("", distribution):
        raise ConfigError("--tf-distribution and --default-tf-distribution: they differ; "
                          "give one")
    if distribution not in TF_DISTRIBUTIONS:
        raise ConfigError(f"--tf-distribution: expected terraform or opentofu, got "
                          f"{distribution!r}")
    tf_bin = raw.text("terraform-bin") or ("tofu" if distribution == "opentofu"
                                           else "terraform")
    if shutil.which(tf_bin) is None:
        raise ConfigError(f"--terraform-bin: {tf_bin!r} is not an executable on PATH")
    return TerraformSettings(
        terraform_bin=tf_bin,
        allow_custom_steps=raw.flag("allow-custom-steps"),
        tf_env_passthrough=_env_globs(raw.text("tf-env-passthrough")),
        tf_distribution=distribution,
        tf_bin_dir=folder("tf-bin-dir", raw.text("tf-bin-dir")),
        default_tf_version=_tf_version("default-tf-version", raw.text("default-tf-version")),
        tf_download=raw.flag("tf-download"),
        tf_download_url=http_url("tf-download-url", raw.text("tf-download-url")
                                 or DEFAULT_TF_DOWNLOAD_URLS[distribution]),
    )


def _tf_version(flag: str, raw: str) -> str:
    raw = raw.strip()
    if raw:
        try:
            parse_constraint(raw)
        except ValueError as err:
            raise ConfigError(f"--{flag}: {err}") from None
    return raw


def _env_globs(raw: str) -> tuple[str, ...]:
    globs = comma_list(raw)
    for glob in globs:
        if not _ENV_GLOB.match(glob):
            raise ConfigError(f"--tf-env-passthrough: {glob!r} is not a glob of variable "
                              "names, e.g. AWS_*")
        if not glob.strip("*?"):
            raise ConfigError(f"--tf-env-passthrough: {glob!r} would hand terraform the "
                              "server's whole environment; name prefixes such as AWS_*")
    return globs
