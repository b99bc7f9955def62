"""Downloading a terraform (or tofu) release, as Atlantis's `--tf-download` does.

The zip is checked against the release's SHA256SUMS before anything in it is
used: a mirror, proxy or truncated transfer that hands over other bytes is
refused, and the refusal says so. The one binary is read out of the zip by
name (never extracted whole, so no path in the archive can land outside the
cache), written to a temporary file beside its final name and renamed into
place: two workers downloading the same version at once each rename a whole
binary, and a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from atlantis_py.domain.tfversions import Version
from atlantis_py.errors import AtlantisError

log = logging.getLogger(__name__)

_TIMEOUT = 60.0
_MAX_ZIP = 512 * 1024 * 1024

class DownloadFailed(AtlantisError):
    """The release could not be had, or failed verification; the message says which."""


@dataclass(frozen=True)
class Distribution:
    """`name` is --tf-distribution's value, `binary` the program's name."""

    name: str
    binary: str

    def files(self, base_url: str, version: Version, os_name: str, arch: str
              ) -> tuple[str, str, str]:
        """(zip URL, SHA256SUMS URL, zip file name) in the releases' layout."""
        v = str(version)
        zip_name = f"{self.binary}_{v}_{os_name}_{arch}.zip"
        if self.name == "opentofu":
            folder = f"{base_url}/v{v}"
        else:
            folder = f"{base_url}/terraform/{v}"
        return f"{folder}/{zip_name}", f"{folder}/{self.binary}_{v}_SHA256SUMS", zip_name


TERRAFORM = Distribution("terraform", "terraform")
OPENTOFU = Distribution("opentofu", "tofu")
DISTRIBUTIONS = {d.name: d for d in (TERRAFORM, OPENTOFU)}


def platform_names() -> tuple[str, str]:
    """Go's names for this machine, as the release files are named."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
            "i386": "386", "i686": "386", "armv7l": "arm"}.get(machine, machine)
    return platform.system().lower(), arch


def open_url(url: str) -> IO[bytes]:
    """GET `url` (http or https only: the settings check the base URL)."""
    response: IO[bytes] = urllib.request.urlopen(url, timeout=_TIMEOUT)
    return response


def download(dist: Distribution, version: Version, base_url: str, dest_dir: Path) -> Path:
    """Fetch, verify and install `{binary}{version}` in `dest_dir`; its path."""
    os_name, arch = platform_names()
    zip_url, sums_url, zip_name = dist.files(base_url.rstrip("/"), version, os_name, arch)
    dest_dir.mkdir(parents=True, exist_ok=True)
    expected = _expected_sum(_fetch_text(sums_url), zip_name, sums_url)
    log.info("downloading %s %s from %s", dist.binary, version, zip_url)
    with tempfile.TemporaryFile(dir=dest_dir) as archive:
        digest = _fetch_into(zip_url, archive)
        if digest != expected:
            raise DownloadFailed(
                f"{zip_name} from {zip_url} does not match its SHA256SUMS ({sums_url}): "
                f"expected sha256 {expected}, got {digest}. Refused: the file was changed "
                "or damaged on the way; check the mirror (--tf-download-url)")
        archive.seek(0)
        final = dest_dir / f"{dist.binary}{version}"
        _install(archive, dist.binary, final, zip_name)
    log.info("installed %s %s at %s", dist.binary, version, final)
    return final


def _fetch_text(url: str) -> str:
    try:
        with open_url(url) as response:
            return response.read(1024 * 1024).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise DownloadFailed(f"cannot fetch {url}: {_reason(err)}") from None


def _fetch_into(url: str, out: IO[bytes]) -> str:
    digest = hashlib.sha256()
    size = 0
    try:
        with open_url(url) as response:
            while chunk := response.read(1024 * 1024):
                size += len(chunk)
                if size > _MAX_ZIP:
                    raise DownloadFailed(f"{url} is larger than {_MAX_ZIP // 2**20} MiB")
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise DownloadFailed(f"cannot fetch {url}: {_reason(err)}") from None
    out.flush()
    return digest.hexdigest()


def _reason(err: Exception) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    return str(err)


def _expected_sum(sums: str, zip_name: str, sums_url: str) -> str:
    for line in sums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == zip_name:
            digest = parts[0].lower()
            if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
                return digest
    raise DownloadFailed(f"{sums_url} lists no sha256 for {zip_name}")


def _install(archive: IO[bytes], member: str, final: Path, zip_name: str) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            try:
                info = zipped.getinfo(member)
            except KeyError:
                raise DownloadFailed(f"{zip_name} holds no file named {member}") from None
            fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.")
            try:
                with zipped.open(info) as source, os.fdopen(fd, "wb") as target:
                    shutil.copyfileobj(source, target)
                os.chmod(tmp, 0o755)
                os.replace(tmp, final)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    except zipfile.BadZipFile as err:
        raise DownloadFailed(f"{zip_name} is not a valid zip: {err}") from None
