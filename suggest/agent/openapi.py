"""The API's OpenAPI 3.1 description; tests check every route and status against it."""
from __future__ import annotations

from typing import Any

from kb.content import CHANNEL_ALIASES, CHANNELS, INT_MAX, INT_MIN
from suggest.inquiries import FEEDBACK_ACTIONS, HANDOFF_REASONS
from suggest.results import MAX_K, MAX_QUESTION

_ERROR = {"$ref": "#/components/schemas/Error"}
_INT = {"type": "integer", "minimum": INT_MIN, "maximum": INT_MAX}
_OPTIONAL_INT = {**_INT, "type": ["integer", "null"]}
_ID = {"type": "integer", "minimum": 0, "maximum": INT_MAX}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {400: "Bad JSON or a missing or mistyped field", 401: "No or invalid API key",
            403: "The key lacks the scope", 404: "Not found", 413: "Body too large",
            415: "Body is not application/json", 422: "Valid JSON with invalid values",
            429: "Rate limited; see Retry-After"}
    return {str(s): {"description": text[s], "content": {"application/json": {"schema": _ERROR}}} for s in statuses}


def _contact() -> dict[str, Any]:
    return {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"},
                                             "phone": {"type": "string"}, "on_call": {"type": "boolean"}}}


def _sla() -> dict[str, Any]:
    return {"type": ["object", "null"], "properties": {"first_response_minutes": {"type": "integer"},
                                                       "resolution_minutes": {"type": "integer"}}}


def spec() -> dict[str, Any]:
    """Return the OpenAPI document."""
    suggestion = {
        "type": "object",
        "required": ["entry_id", "version", "question", "answer", "channel", "score", "confidence"],
        "properties": {
            "entry_id": {"type": "integer"}, "version": {"type": "integer"}, "question": {"type": "string"},
            "answer": {"type": "string"}, "channel": {"type": "string"}, "score": {"type": "number"},
            "confidence": {"enum": ["high", "medium", "low"]},
            "probability": {"type": ["number", "null"], "description": "Measured probability that this answer "
                            "is right (null where no confidence model was fitted for the encoder)."},
            "approved_by": {"type": ["string", "null"]}, "approved_at": {"type": ["string", "null"]},
            "review_by": {"type": ["string", "null"]}, "category": {"type": ["string", "null"]},
            "category_name": {"type": "string", "description": "the category's name in the Accept-Language language"},
            "placeholders": {"type": "array", "items": {"type": "string"}},
            "route": {"type": ["object", "null"], "properties": {
                "department": {"type": "string"}, "contacts": {"type": "array", "items": _contact()},
                "sla": _sla()}},
        },
    }
    escalation = {
        "type": ["object", "null"],
        "properties": {"kind": {"type": "string"}, "kinds": {"type": "array", "items": {"type": "string"}},
                       "rule_id": {"type": "integer"},
                       "department": {"type": ["string", "null"]},
                       "contacts": {"type": "array", "items": _contact()},
                       "holding_statement": {"type": "string"}, "sla": _sla()},
    }
    bearer: list[dict[str, list[str]]] = [{"apiKey": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vetted API", "version": "1.0.0",
                 "description": "Approved answers for customer messages, with escalation of red flags."},
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
                "Suggestion": suggestion,
            },
        },
        "paths": {
            "/api/v1/suggest": {"post": {
                "operationId": "suggest",
                "summary": "Suggest approved answers for a customer's message",
                "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["question"],
                    # An optional field may also be null, which means the same as leaving it out.
                    "properties": {
                        # Something besides white space (a NUL byte is dropped before anything else).
                        "question": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION,
                                     "pattern": "[^\\s\\u0000]"},
                        "channel": {"enum": [*CHANNELS, *CHANNEL_ALIASES, None]},
                        "lang": {"type": ["string", "null"], "pattern": "^[A-Za-z]{2,3}(-[A-Za-z]{2,4})?$"},
                        "k": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_K},
                        "include_low": {"type": ["boolean", "null"]},
                    }}}}},
                "responses": {"200": {"description": "Outcome and suggestions", "content": {"application/json": {
                    "schema": {"type": "object",
                               "required": ["outcome", "suggestions", "escalation", "inquiry_id", "lang",
                                            "took_ms"],
                               "properties": {
                                   "outcome": {"enum": ["answer", "no_match", "escalate"]},
                                   "suggestions": {"type": "array",
                                                   "items": {"$ref": "#/components/schemas/Suggestion"}},
                                   "escalation": escalation, "inquiry_id": {"type": "integer"},
                                   "lang": {"type": "string"}, "took_ms": {"type": "number"}}}}},
                    # The inquiry a suggestion answers is what feedback and send-to-pr refer to.
                    "links": {
                        "Feedback": {"operationId": "feedback",
                                     "requestBody": {"inquiry_id": "$response.body#/inquiry_id", "action": "used"}},
                        "SendToPr": {"operationId": "sendToPr",
                                     "requestBody": {"inquiry_id": "$response.body#/inquiry_id"}}}},
                              **_errors(400, 401, 403, 413, 415, 422, 429)},
            }},
            "/api/v1/feedback": {"post": {
                "operationId": "feedback",
                "summary": "Record what the agent did with a suggestion",
                "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["inquiry_id", "action"],
                    "properties": {"inquiry_id": _INT, "entry_id": _OPTIONAL_INT,
                                   "version": _OPTIONAL_INT, "action": {"enum": list(FEEDBACK_ACTIONS)},
                                   "sent_text": {"type": ["string", "null"], "maxLength": 10000}}}}}},
                "responses": {"200": {"description": "Recorded", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"inquiry_id": {"type": "integer"},
                                                     "feedback": {"type": "string"}}}}}},
                              **_errors(400, 401, 403, 404, 413, 415, 422, 429)},
            }},
            "/api/v1/send-to-pr": {"post": {
                "operationId": "sendToPr",
                "summary": "Put a question with no approved answer into PR's queue of missing answers",
                "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["inquiry_id"], "properties": {"inquiry_id": _INT}}}}},
                "responses": {"200": {"description": "Queued", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"inquiry_id": {"type": "integer"},
                                                     "sent_to_pr": {"type": "boolean"}}}}}},
                              **_errors(400, 401, 403, 404, 413, 415, 429)},
            }},
            "/api/v1/handoff": {"post": {
                "summary": "Hand a conversation over to an in-house department (it is owed an answer from then on)",
                "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["inquiry_id", "department", "reason"],
                    "properties": {"inquiry_id": _INT, "department": {"type": "string"},
                                   "reason": {"enum": list(HANDOFF_REASONS)}}}}}},
                "responses": {"200": {"description": "Handed over", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"inquiry_id": {"type": "integer"},
                                                     "handoff": {"type": "string"}}}}}},
                              **_errors(400, 401, 403, 404, 413, 415, 422, 429)},
            }},
            "/api/v1/keys/current": {"get": {
                "summary": "The user and scopes of the presented key (a connection test)",
                "security": bearer,
                "responses": {"200": {"description": "The key", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"key_id": {"type": "integer"}, "user": {"type": "string"},
                                                     "scopes": {"type": "array", "items": {"type": "string"}},
                                                     "name": {"type": "string"}}}}}},
                              **_errors(401, 429)},
            }},
            "/api/v1/entries/{entry_id}": {"get": {
                "summary": "An entry's approved version",
                "security": bearer,
                "parameters": [{"name": "entry_id", "in": "path", "required": True, "schema": _ID}],
                "responses": {"200": {"description": "The approved version", "content": {"application/json": {
                    "schema": {"type": "object"}}}}, **_errors(401, 403, 404, 429)},
            }},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        },
    }
