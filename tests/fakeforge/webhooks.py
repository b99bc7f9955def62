"""Webhook plumbing both fakes share: stored deliveries (tests/fixtures/<forge>, written
by us in the shape each forge sends), and the POST that sends one to the server under test.
"""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

FIXTURES_ROOT = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_folder(forge: str) -> Path:
    """Where the stored deliveries of `forge` live, inside the repository. A missing
    folder is an error here, not a skipped test later."""
    folder = FIXTURES_ROOT / forge
    if not folder.is_dir():
        raise FileNotFoundError(f"webhook fixtures for {forge} are missing: {folder}")
    return folder


@functools.cache
def _fixture_text(path: Path) -> str:
    return path.read_text()


def load_fixture(path: Path) -> dict[str, Any]:
    """A fresh copy of a stored delivery, for a payload builder to overwrite."""
    data: dict[str, Any] = json.loads(_fixture_text(path))
    return data


def post_delivery(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST one delivery; returns (status, response body), never raises for an HTTP
    error status."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
