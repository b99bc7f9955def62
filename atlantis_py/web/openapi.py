"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Objects are closed (`additionalProperties: false`) and every field is required,
so a field the API starts returning without documenting it here fails the
schema test (tests/e2e/test_api_schema.py) instead of going unnoticed.
"""

from __future__ import annotations

from typing import Any

from atlantis_py import __version__
from atlantis_py.domain.drift import DRIFT_STATES
from atlantis_py.domain.forge import ReviewState
from atlantis_py.domain.records import IPRState
from atlantis_py.domain.results import RunStatus
from atlantis_py.flows.lifecycle import MAX_ID, MAX_PAGE

STATES = [s.value for s in IPRState]
REPO_PATTERN = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$"
MAX_BODY_TEXT = "1 MiB"

ERRORS = {
    400: "The body is not a JSON object (malformed, or nested too deeply)",
    401: "Missing or invalid bearer token",
    403: "The token's role or user may not do this, or the repo is not allowed",
    404: "No IPR with this id (ids are whole numbers from 1)",
    409: "The IPR's state does not allow this",
    413: f"The request body is larger than {MAX_BODY_TEXT}",
    422: "Invalid field or query values, or the forge refused them "
         "(no such repository or branch)",
    502: "The forge failed or could not be reached",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": ERRORS[c],
                     "content": {"application/json": {"schema": _ref("Error")}}}
            for c in codes}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A closed object; all properties required unless `required` says otherwise."""
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": list(properties) if required is None else required}


def _body(name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
COUNT = {"type": ["integer", "null"], "minimum": 0}
TIME = {"type": ["string", "null"], "description": "ISO 8601, UTC"}
IPR_ID = {"name": "id", "in": "path", "required": True,
          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}

SUMMARY_FIELDS: dict[str, Any] = {
    "id": INTEGER, "forge": {"enum": ["github", "gitlab", "local"]}, "repo": STRING,
    "pull_number": INTEGER, "title": STRING, "author": STRING, "state": {"enum": STATES},
    "open": {"type": "boolean"}, "head_sha": STRING, "updated_at": TIME,
}
IPR_FIELDS: dict[str, Any] = {
    **SUMMARY_FIELDS,
    "description": STRING, "head_ref": STRING, "base_ref": STRING,
    "projects": {"type": "array", "items": _ref("Project")},
    "approvals": {"type": "array", "items": _ref("Approval")},
    "blocking": {"type": "array", "items": STRING,
                 "description": "Why it cannot be deployed now; empty when it can"},
    "created_at": TIME,
    "policies": {"type": "array", "items": _ref("PolicyCheck"),
                 "description": "Each policy set's verdict on each project's current plan "
                                "(--policies); empty when the server checks no policies"},
}

SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": STRING}),
    "IPRSummary": _object(SUMMARY_FIELDS),
    "IPRPage": _object({"items": {"type": "array", "items": _ref("IPRSummary")},
                        "page": INTEGER, "per_page": INTEGER, "total": INTEGER}),
    "IPR": _object(IPR_FIELDS),
    "Project": _object({
        "project": STRING, "dir": STRING, "workspace": STRING, "environment": STRING,
        "plan_status": {"enum": [s.value for s in RunStatus]},
        "summary": {"type": "string", "description": "The plan's one-line summary or error"},
        "head_sha": STRING, "add": COUNT, "change": COUNT, "destroy": COUNT,
        "applied": {"type": "boolean"}}),
    "Approval": _object({
        "user": STRING, "state": {"enum": [s.value for s in ReviewState]},
        "commit_sha": STRING, "counted": {"type": "boolean"},
        "reason": {"type": "string", "description": "Why it does not count; empty if it does"}}),
    "PolicyCheck": _object({
        "project": STRING, "policy_set": STRING, "passed": {"type": "boolean"},
        "denies": {"type": "array", "items": STRING},
        "warnings": {"type": "array", "items": STRING},
        "error": {"type": "string", "description": "Why the set could not be evaluated "
                                                   "(it then fails); empty if it was"},
        "approved_by": {"type": "array", "items": STRING,
                        "description": "Owners who approved the failing set on the head "
                                       "commit (`atlantis approve_policies`)"},
        "owners": {"type": "array", "items": STRING,
                   "description": "Users and teams who may approve the set"},
        "blocking": {"type": "boolean",
                     "description": "The set failed, is not approved and its project's "
                                    "plan is not applied: it holds the apply"}}),
    "Deployment": _object({"ipr": INTEGER, "job": INTEGER, "status": {"const": "queued"}}),
    "Event": _object({
        "id": INTEGER, "ipr_id": {"type": ["integer", "null"]}, "repo": STRING,
        "pull_number": INTEGER, "actor": STRING, "action": STRING, "head_sha": STRING,
        "project": STRING, "at": STRING, "detail": STRING}),
    "EventList": _object({"items": {"type": "array", "items": _ref("Event")}}),
    "Comment": _object({"author": STRING, "body": STRING, "at": STRING}),
    "CommentList": _object({"items": {"type": "array", "items": _ref("Comment")}}),
    "NewComment": {"type": "object", "required": ["body"],
                   "properties": {"body": {"type": "string", "minLength": 1,
                                           "maxLength": 65536}},
                   "example": {"body": "atlantis plan -p dev"}},
    "CommentPosted": _object({
        "ipr": INTEGER,
        "status": {"enum": ["queued", "posted"],
                   "description": "queued: an atlantis command, answered on the IPR; "
                                  "posted: a plain comment"}}),
    "CreateIPR": {
        "type": "object", "required": ["repo", "head", "title"],
        "properties": {
            "forge": {"enum": ["github", "gitlab", "local"],
                      "description": "default: the server's only forge, else github"},
            "repo": {"type": "string", "pattern": REPO_PATTERN, "maxLength": 512,
                     "description": "GitHub: owner/name; GitLab: group/subgroup…/name. "
                                    "Letters, digits, '.', '-', '_'; no '.' or '..'"},
            "head": STRING, "base": {"type": "string", "default": "main"}, "title": STRING,
            "description": STRING},
        "example": {"repo": "acme/infra", "head": "feature/api", "base": "main",
                    "title": "Add api resource", "description": "made by a tool"}},
    "Review": {"type": "object", "required": ["decision"],
               "properties": {"decision": {"enum": ["approve", "reject"]}, "comment": STRING},
               "example": {"decision": "approve", "comment": "LGTM"}},
    "Cancel": {"type": "object", "properties": {"reason": STRING},
               "example": {"reason": "obsolete"}},
    "Drift": _object({
        "forge": STRING, "repo": STRING,
        "project": {"type": "string", "description": "Empty when the repository as a whole "
                                                      "could not be checked"},
        "dir": STRING, "workspace": STRING, "environment": STRING,
        "state": {"enum": list(DRIFT_STATES)}, "head_sha": STRING,
        "add": INTEGER, "change": INTEGER, "destroy": INTEGER,
        "resources": {"type": "array", "items": _ref("DriftResource")},
        "detail": {"type": "string", "description": "The error, or why it was skipped"},
        "trigger": {"enum": ["schedule", "manual", "apply"]},
        "checked_at": TIME}),
    "DriftResource": _object({"address": STRING,
                              "actions": {"type": "array", "items": STRING}}),
    "DriftList": _object({"items": {"type": "array", "items": _ref("Drift")}}),
    "DriftRun": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "repo": {"type": "string", "pattern": REPO_PATTERN, "maxLength": 512,
                     "description": "default: every repository the server has seen"},
            "project": {"type": "string", "description": "one project of `repo`"},
            "at": {"type": "string",
                   "description": "ISO 8601 time, not later than the server's clock: queue "
                                  "the scheduled checks that were due then (once per slot) "
                                  "instead of checking now"}},
        "example": {"repo": "acme/infra"}},
    "DriftQueued": _object({
        "queued": {"type": "array", "items": _object({
            "job": INTEGER, "forge": STRING, "repo": STRING, "environment": STRING,
            "project": STRING, "slot": STRING})},
        "problems": {"type": "array", "items": STRING,
                     "description": "Repositories whose schedules could not be read"}}),
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "atlantis-py", "version": __version__,
             "description": "Infrastructure Pull Requests: plan, review, deploy. "
                            f"Every error is JSON {{\"error\": …}}; bodies are at most "
                            f"{MAX_BODY_TEXT}."},
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/ipr": {
            "get": {
                "summary": "List IPRs, newest first",
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"enum": STATES}},
                    {"name": "repo", "in": "query",
                     "schema": {"type": "string", "pattern": REPO_PATTERN}},
                    {"name": "page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                "default": 1}},
                    {"name": "per_page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200,
                                "default": 50}},
                ],
                "responses": {"200": _json(_ref("IPRPage"), "A page of IPRs"),
                              **_errors(401, 413, 422)},
            },
            "post": {
                "summary": "Open a pull request and plan it like any other",
                "requestBody": _body("CreateIPR"),
                "responses": {"201": _json(_ref("IPR"), "The new IPR"),
                              **_errors(400, 401, 403, 413, 422, 502)},
            },
        },
        "/api/v1/ipr/{id}": {
            "get": {"summary": "One IPR: projects, plan summaries, approvals, state",
                    "parameters": [IPR_ID],
                    "responses": {"200": _json(_ref("IPR"), "The IPR"),
                                  **_errors(401, 404, 413, 502)}},
        },
        "/api/v1/ipr/{id}/review": {
            "post": {
                "summary": "Approve or reject as the token's user",
                "parameters": [IPR_ID],
                "requestBody": _body("Review"),
                "responses": {"200": _json(_ref("IPR"), "The IPR after the review"),
                              **_errors(400, 401, 403, 404, 409, 413, 422, 502)},
            },
        },
        "/api/v1/ipr/{id}/deploy": {
            "post": {
                "summary": "Apply the approved plans (only when APPROVED and in the window); "
                           "asked again while queued or APPLYING, answers with the same job",
                "parameters": [IPR_ID],
                "responses": {"202": _json(_ref("Deployment"),
                                           "Deployment queued, or the job already queued "
                                           "or applying it"),
                              **_errors(401, 403, 404, 409, 413, 502)},
            },
        },
        "/api/v1/ipr/{id}/cancel": {
            "post": {
                "summary": "Cancel the IPR and release its locks (refused while APPLYING)",
                "parameters": [IPR_ID],
                "requestBody": _body("Cancel", required=False),
                "responses": {"200": _json(_ref("IPR"), "The cancelled IPR"),
                              **_errors(400, 401, 403, 404, 409, 413, 422, 502)},
            },
        },
        "/api/v1/ipr/{id}/events": {
            "get": {
                "summary": "The audit trail, oldest first (format=jsonl for JSON lines)",
                "parameters": [IPR_ID, {"name": "format", "in": "query",
                                        "schema": {"enum": ["json", "jsonl"]}}],
                "responses": {"200": {"description": "Events", "content": {
                    "application/json": {"schema": _ref("EventList")},
                    "application/x-ndjson": {"schema": STRING}}},
                    **_errors(401, 404, 413, 422)},
            },
        },
        "/api/v1/drift": {
            "get": {
                "summary": "The latest drift check of each project",
                "parameters": [{"name": "repo", "in": "query",
                                "schema": {"type": "string", "pattern": REPO_PATTERN}}],
                "responses": {"200": _json(_ref("DriftList"), "Latest results"),
                              **_errors(401, 413, 422)},
            },
        },
        "/api/v1/drift/run": {
            "post": {
                "summary": "Check for drift now (or queue the slots due at `at`)",
                "requestBody": _body("DriftRun", required=False),
                "responses": {"202": _json(_ref("DriftQueued"), "Checks queued"),
                              **_errors(400, 401, 403, 404, 413, 422, 502)},
            },
        },
        "/api/v1/ipr/{id}/comments": {
            "get": {
                "summary": "The pull request's comments, oldest first, where the server keeps "
                           "them (--local-repos); 422 for a GitHub or GitLab IPR",
                "parameters": [IPR_ID],
                "responses": {"200": _json(_ref("CommentList"), "Comments"),
                              **_errors(401, 404, 413, 422, 502)},
            },
            "post": {
                "summary": "Comment as the token's user (--local-repos): an `atlantis …` "
                           "command runs as a forge's comment webhook would run it and is "
                           "answered on the IPR; 422 for a GitHub or GitLab IPR",
                "parameters": [IPR_ID],
                "requestBody": _body("NewComment"),
                "responses": {"201": _json(_ref("CommentPosted"), "The comment was added"),
                              **_errors(400, 401, 403, 404, 413, 422, 502)},
            },
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "atlantis-py token create"}},
        "schemas": SCHEMAS,
    },
}
