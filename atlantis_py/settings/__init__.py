"""Server settings: flags with Atlantis's names, each also read from
ATLANTIS_<NAME>, validated once at start (see loader). Everything importers
use is re-exported here."""

from atlantis_py.errors import ConfigError
from atlantis_py.settings.config_files import ConfigFileSettings
from atlantis_py.settings.forges import DEFAULT_GH_API_URL, DEFAULT_GITLAB_URL, ForgeSettings
from atlantis_py.settings.loader import Settings, build, load
from atlantis_py.settings.options import OPTIONS, Option, add_arguments, child_environ, resolve
from atlantis_py.settings.terraform import DEFAULT_TF_DOWNLOAD_URLS, TerraformSettings
from atlantis_py.settings.values import env_name

__all__ = [
    "DEFAULT_GH_API_URL", "DEFAULT_GITLAB_URL", "DEFAULT_TF_DOWNLOAD_URLS", "OPTIONS",
    "ConfigError", "ConfigFileSettings", "ForgeSettings", "Option", "Settings",
    "TerraformSettings", "add_arguments", "build", "child_environ", "env_name", "load",
    "resolve",
]
