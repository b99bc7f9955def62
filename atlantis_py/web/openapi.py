"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from atlantis_py import __version__
from atlantis_py.domain.records import IPRState

STATES = [s.value for s in IPRState]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {400: "Malformed JSON body", 401: "Missing or invalid bearer token",
               403: "The token's role or user may not do this", 404: "No such IPR",
               409: "The IPR's state does not allow this", 422: "Invalid field values",
               502: "The forge refused or failed"}
    return {str(c): {"description": meaning[c],
                     "content": {"application/json": {"schema": _ref("Error")}}}
            for c in codes}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


IPR_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "atlantis-py", "version": __version__,
             "description": "Infrastructure Pull Requests: plan, review, deploy."},
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/ipr": {
            "get": {
                "summary": "List IPRs, newest first",
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"enum": STATES}},
                    {"name": "repo", "in": "query", "schema": {"type": "string"}},
                    {"name": "page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "default": 1}},
                    {"name": "per_page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200,
                                "default": 50}},
                ],
                "responses": {"200": _json(_ref("IPRPage"), "A page of IPRs"),
                              **_errors(401, 422)},
            },
            "post": {
                "summary": "Open a pull request and plan it like any other",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("CreateIPR")}}},
                "responses": {"201": _json(_ref("IPR"), "The new IPR"),
                              **_errors(400, 401, 403, 422, 502)},
            },
        },
        "/api/v1/ipr/{id}": {
            "get": {"summary": "One IPR: projects, plan summaries, approvals, state",
                    "parameters": [IPR_ID],
                    "responses": {"200": _json(_ref("IPR"), "The IPR"),
                                  **_errors(401, 404)}},
        },
        "/api/v1/ipr/{id}/review": {
            "post": {
                "summary": "Approve or reject as the token's user",
                "parameters": [IPR_ID],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("Review")}}},
                "responses": {"200": _json(_ref("IPR"), "The IPR after the review"),
                              **_errors(400, 401, 403, 404, 409, 422)},
            },
        },
        "/api/v1/ipr/{id}/deploy": {
            "post": {
                "summary": "Apply the approved plans (only when APPROVED and in the window); "
                           "asked again while queued or APPLYING, answers with the same job",
                "parameters": [IPR_ID],
                "responses": {"202": _json({"type": "object", "properties": {
                    "ipr": {"type": "integer"}, "job": {"type": "integer"},
                    "status": {"type": "string"}}},
                    "Deployment queued, or the job already queued or applying it"),
                    **_errors(401, 403, 404, 409)},
            },
        },
        "/api/v1/ipr/{id}/cancel": {
            "post": {
                "summary": "Cancel the IPR and release its locks (refused while APPLYING)",
                "parameters": [IPR_ID],
                "responses": {"200": _json(_ref("IPR"), "The cancelled IPR"),
                              **_errors(401, 403, 404, 409)},
            },
        },
        "/api/v1/ipr/{id}/events": {
            "get": {
                "summary": "The audit trail, oldest first (format=jsonl for JSON lines)",
                "parameters": [IPR_ID, {"name": "format", "in": "query",
                                        "schema": {"enum": ["json", "jsonl"]}}],
                "responses": {"200": {"description": "Events", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "items": {"type": "array", "items": _ref("Event")}}}},
                    "application/x-ndjson": {"schema": {"type": "string"}}}},
                    **_errors(401, 404)},
            },
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "atlantis-py token create"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": {"type": "string"}}},
            "IPRSummary": {"type": "object", "required": ["id", "repo", "pull_number", "state",
                                                          "title"],
                           "properties": {
                               "id": {"type": "integer"}, "forge": {"type": "string"},
                               "repo": {"type": "string"}, "pull_number": {"type": "integer"},
                               "title": {"type": "string"}, "author": {"type": "string"},
                               "state": {"enum": STATES}, "open": {"type": "boolean"},
                               "head_sha": {"type": "string"},
                               "updated_at": {"type": ["string", "null"]}}},
            "IPRPage": {"type": "object", "properties": {
                "items": {"type": "array", "items": _ref("IPRSummary")},
                "page": {"type": "integer"}, "per_page": {"type": "integer"},
                "total": {"type": "integer"}}},
            "IPR": {"allOf": [_ref("IPRSummary"), {"type": "object", "properties": {
                "description": {"type": "string"}, "head_ref": {"type": "string"},
                "base_ref": {"type": "string"},
                "projects": {"type": "array", "items": {"type": "object"}},
                "approvals": {"type": "array", "items": {"type": "object"}},
                "blocking": {"type": "array", "items": {"type": "string"}}}}]},
            "CreateIPR": {"type": "object", "required": ["repo", "head", "title"],
                          "properties": {"forge": {"enum": ["github", "gitlab"]},
                                         "repo": {"type": "string"},
                                         "head": {"type": "string"},
                                         "base": {"type": "string", "default": "main"},
                                         "title": {"type": "string"},
                                         "description": {"type": "string"}}},
            "Review": {"type": "object", "required": ["decision"],
                       "properties": {"decision": {"enum": ["approve", "reject"]},
                                      "comment": {"type": "string"}}},
            "Event": {"type": "object", "properties": {
                "id": {"type": "integer"}, "ipr_id": {"type": ["integer", "null"]},
                "repo": {"type": "string"}, "pull_number": {"type": "integer"},
                "actor": {"type": "string"}, "action": {"type": "string"},
                "head_sha": {"type": "string"}, "project": {"type": "string"},
                "at": {"type": "string"}, "detail": {"type": "string"}}},
        },
    },
}
