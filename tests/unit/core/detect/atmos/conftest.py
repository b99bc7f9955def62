"""Our Atmos example (tests/fixtures/atmos-example) as a Tree, with component folders."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[4] / "fixtures" / "atmos-example"
COMPONENTS = ("app-config", "dynamodb-table", "kms-key", "s3-bucket", "sns-topic", "sqs-queue")


def tf(name: str) -> str:
    return f'resource "terraform_data" "{name}" {{\n  input = "v1"\n}}\n'


def example_files() -> dict[str, str]:
    if not (FIXTURE / "atmos.yaml").is_file():
        raise FileNotFoundError(f"the Atmos example is missing: {FIXTURE}")
    out = {p.relative_to(FIXTURE).as_posix(): p.read_text()
           for p in FIXTURE.rglob("*") if p.is_file()}
    for name in COMPONENTS:
        out[f"components/terraform/{name}/main.tf"] = tf(name)
    return out


@pytest.fixture
def example() -> dict[str, str]:
    return example_files()
