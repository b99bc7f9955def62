"""Which terraform binary runs a project: its `terraform_version` (or the
server's `--default-tf-version`) picked from the versioned binaries, as
Atlantis names them (`terraform1.9.8`; `terraform_1.9.8` is accepted too), in
`--tf-bin-dir` and the download cache, then on PATH, then the plain binary
when its own version fits, then (with `--tf-download`) a verified download.
A constraint (`~> 1.9`) picks the highest version that satisfies it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import threading
import urllib.error
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from atlantis_py.domain.tfversions import Constraint, Version, parse_constraint, parse_version
from atlantis_py.errors import AtlantisError
from atlantis_py.runner.download import Distribution, DownloadFailed, download, open_url

log = logging.getLogger(__name__)

_MAX_INDEX = 64 * 1024 * 1024  # the releases' index.json lists every build of every version


class VersionUnavailable(AtlantisError):
    """No binary of the version asked for can be had; the message says why and
    what would make one available."""


@dataclass(frozen=True)
class Resolved:
    """A binary and its version (None when the plain binary would not say)."""

    path: str
    version: Version | None


class Binaries:
    """`plain` is the distribution's binary on PATH (--terraform-bin), run when
    nothing asks for a version; `cache_dir` is where downloads go."""

    def __init__(self, dist: Distribution, plain: str, bin_dirs: Sequence[Path],
                 cache_dir: Path, *, download_enabled: bool = False, download_url: str = "",
                 default_version: str = "") -> None:
        self.dist = dist
        self.plain = plain
        self.bin_dirs = tuple(bin_dirs)
        self.cache_dir = cache_dir
        self.download_enabled = download_enabled
        self.download_url = download_url
        self.default_version = default_version
        self._plain_version: Version | None = None
        self._plain_known = False
        self._lock = threading.Lock()
        self._downloads: dict[str, threading.Lock] = {}
        self._name = re.compile(re.escape(dist.binary) + r"_?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)")

    def resolve(self, wanted: str | None, *, detected: bool = False) -> Resolved:
        """The binary to run for a project asking for `wanted` (None: nothing).
        A `detected` version (the code's required_version) is a hint, as in
        Atlantis: one that does not parse, or a range nothing at hand matches
        while downloads are off, leaves the default binary to run (and
        terraform to say whether it fits)."""
        asked = wanted or self.default_version
        if not asked:
            return Resolved(self.plain, self.plain_version())
        try:
            constraint = parse_constraint(asked)
        except ValueError as err:
            if detected:
                return self.resolve(None)
            raise VersionUnavailable(str(err)) from None
        local = self.local()
        exact = constraint.exact
        if exact is not None:
            found = local.get(exact) or shutil.which(f"{self.dist.binary}{exact}")
            if found:
                return Resolved(found, exact)
        else:
            best = constraint.best(list(local))
            if best is not None:
                return Resolved(local[best], best)
        if not self.download_enabled:
            if detected and exact is None:
                return self.resolve(None)
            raise VersionUnavailable(self._missing(asked, local, "downloads are off"))
        version = exact or self._remote_best(constraint, local)
        return Resolved(str(self._download(version)), version)

    def local(self) -> dict[Version, str]:
        """Every version at hand: the bin dirs' and cache's versioned binaries
        (looked at on each call: an operator may drop one in), and the plain one."""
        found: dict[Version, str] = {}
        plain = self.plain_version()
        if plain is not None:
            resolved = shutil.which(self.plain)
            if resolved:
                found[plain] = resolved
        for folder in (*self.bin_dirs, self.cache_dir):
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                named = self._name.fullmatch(entry.name)
                if named and entry.is_file() and os.access(entry.path, os.X_OK):
                    found[parse_version(named.group(1))] = entry.path
        return found

    def plain_version(self) -> Version | None:
        """`{plain} version -json`, asked once."""
        with self._lock:
            if not self._plain_known:
                self._plain_version = _version_of(self.plain)
                self._plain_known = True
            return self._plain_version

    def _missing(self, asked: str, local: dict[Version, str], why: str) -> str:
        where = ", ".join(str(d) for d in self.bin_dirs) or "no --tf-bin-dir"
        have = ", ".join(str(v) for v in sorted(local, key=Version.key)) or "none"
        return (f"{self.dist.binary} {asked} is not available on this server: no matching "
                f"binary ({self.dist.binary}VERSION) in {where} or on PATH, and {why}. "
                f"Versions available: {have}")

    def _remote_best(self, constraint: Constraint, local: dict[Version, str]) -> Version:
        if self.dist.name != "terraform":
            raise VersionUnavailable(self._missing(
                str(constraint), local, f"{self.dist.binary} constraints are matched only "
                "against the binaries at hand (name an exact version to download it)"))
        url = f"{self.download_url.rstrip('/')}/terraform/index.json"
        try:
            with open_url(url) as response:
                index = json.loads(response.read(_MAX_INDEX))
            names = list((index.get("versions") or {}).keys())
        except (urllib.error.URLError, OSError, ValueError, AttributeError) as err:
            raise VersionUnavailable(self._missing(
                str(constraint), local, f"the list of releases ({url}) could not be read: "
                f"{err}")) from None
        versions = []
        for name in names:
            try:
                versions.append(parse_version(str(name)))
            except ValueError:
                continue
        best = constraint.best(versions)
        if best is None:
            raise VersionUnavailable(self._missing(
                str(constraint), local, f"no release at {url} matches it"))
        return best

    def _download(self, version: Version) -> Path:
        with self._lock:
            lock = self._downloads.setdefault(str(version), threading.Lock())
        with lock:
            done = self.cache_dir / f"{self.dist.binary}{version}"
            if done.is_file():
                return done
            try:
                return download(self.dist, version, self.download_url, self.cache_dir)
            except DownloadFailed as err:
                raise VersionUnavailable(
                    f"{self.dist.binary} {version} could not be downloaded: {err}") from None


_REQUIRED_HCL = re.compile(r'^[ \t]*required_version[ \t]*=[ \t]*"([^"\n]+)"', re.MULTILINE)
_REQUIRED_JSON = re.compile(r'"required_version"\s*:\s*"([^"\n]+)"')


def required_version(folder: Path) -> str | None:
    """The `required_version` of the terraform code in `folder`, when it says
    exactly one (Atlantis uses it for a project without terraform_version)."""
    found: set[str] = set()
    for pattern, files in ((_REQUIRED_HCL, "*.tf"), (_REQUIRED_JSON, "*.tf.json")):
        for path in sorted(folder.glob(files)):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")[:1_000_000]
            except OSError:
                continue
            found.update(m.strip() for m in pattern.findall(text))
    return found.pop() if len(found) == 1 else None


def _version_of(binary: str) -> Version | None:
    if shutil.which(binary) is None:
        return None
    try:
        proc = subprocess.run([binary, "version", "-json"], capture_output=True, timeout=60,
                              check=False, stdin=subprocess.DEVNULL,
                              env={"PATH": os.environ.get("PATH", os.defpath),
                                   "CHECKPOINT_DISABLE": "1"})
        return parse_version(str(json.loads(proc.stdout)["terraform_version"]))
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
        log.warning("could not tell the version of %s", binary)
        return None
