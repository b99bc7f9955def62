"""Webhook plumbing both fakes share: stored real deliveries, and the POST that
sends one to the server under test.
"""

from __future__ import annotations

import functools
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def fixture_folder(forge: str) -> Path:
    """Where the deliveries `forge` really sent are stored; ATLANTIS_<FORGE>_FIXTURES
    points elsewhere."""
    default = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / forge
    return Path(os.environ.get(f"ATLANTIS_{forge.upper()}_FIXTURES", default))


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
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
