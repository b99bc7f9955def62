"""The real Atmos example (fixtures/atmos-example) as a Tree, with component folders."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[5].parent / "shared" / "fixtures" / "atmos-example"
COMPONENTS = ("app-config", "dynamodb-table", "kms-key", "s3-bucket", "sns-topic", "sqs-queue")


def tf(name: str) -> str:
    return f'resource "terraform_data" "{name}" {{\n  input = "v1"\n}}\n'


def example_files() -> dict[str, str]:
    out = {p.relative_to(FIXTURE).as_posix(): p.read_text()
           for p in FIXTURE.rglob("*") if p.is_file()}
    for name in COMPONENTS:
        out[f"components/terraform/{name}/main.tf"] = tf(name)
    return out


@pytest.fixture
def example() -> dict[str, str]:
    if not FIXTURE.is_dir():
        pytest.skip(f"{FIXTURE} is missing")
    return example_files()
