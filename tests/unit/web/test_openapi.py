"""The OpenAPI document names exactly the fields the API returns."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pytest

from atlantis_py.domain.records import AuditEvent, IPRState, PullRecord
from atlantis_py.domain.views import ApprovalView, IPRView, ProjectView
from atlantis_py.web.api import STATUS, summary
from atlantis_py.web.openapi import ERRORS, OPENAPI, SCHEMAS


def names(cls: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("schema, fields", [
    ("IPR", names(IPRView)),
    ("Project", names(ProjectView)),
    ("Approval", names(ApprovalView)),
    ("Event", names(AuditEvent) - {"pull_id"} | {"ipr_id"}),
])
def test_objects_document_every_field(schema: str, fields: set[str]) -> None:
    doc = SCHEMAS[schema]
    assert set(doc["properties"]) == fields
    assert set(doc["required"]) == fields and doc["additionalProperties"] is False


def test_summary_documents_every_field() -> None:
    record = PullRecord(id=1, forge="github", repo="acme/infra", number=2, title="t",
                        author="alice", state=IPRState.PENDING, open=True, head_sha="a" * 40,
                        head_ref="f", base_ref="main", clone_url="", updated_at=datetime(2026, 1, 1))
    assert set(summary(record)) == set(SCHEMAS["IPRSummary"]["properties"])


def test_every_operation_documents_its_errors_as_error_objects() -> None:
    for path, methods in OPENAPI["paths"].items():
        for method, op in methods.items():
            codes = {int(c) for c in op["responses"] if c.startswith(("4", "5"))}
            assert {401, 413} <= codes, (method, path)
            if "{id}" in path:
                assert 404 in codes, (method, path)
            for code in codes:
                assert code in ERRORS
                schema = op["responses"][str(code)]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}
    assert set(STATUS.values()) <= set(ERRORS)
