"""A loopback mirror of terraform (or OpenTofu) releases in their real layout,
made from the terraform binary on PATH: what `--tf-download-url` points at."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from atlantis_py.domain.tfversions import parse_version
from atlantis_py.runner.download import Distribution, platform_names


def add_release(root: Path, dist: Distribution, version: str, *,
                wrong_sum: bool = False) -> Path:
    """Publish `version` (the installed terraform, renamed for tofu) under
    `root`; `wrong_sum` lists a checksum the zip does not have."""
    os_name, arch = platform_names()
    zip_url, sums_url, zip_name = dist.files("", parse_version(version), os_name, arch)
    folder = root / zip_url.strip("/").rsplit("/", 1)[0]
    folder.mkdir(parents=True, exist_ok=True)
    binary = shutil.which("terraform")
    assert binary is not None
    archive = folder / zip_name
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zipped:
        zipped.write(binary, dist.binary)
        zipped.writestr("LICENSE.txt", "test release\n")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if wrong_sum:
        digest = hashlib.sha256(b"something else").hexdigest()
    sums = root / sums_url.strip("/")
    other = f"{'0' * 64}  {dist.binary}_{version}_windows_amd64.zip\n"
    sums.write_text(f"{other}{digest}  {zip_name}\n")
    return archive


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve `root` over HTTP on loopback; yields its base URL."""
    def handler(*args: object) -> _Quiet:
        return _Quiet(*args, directory=str(root))  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
