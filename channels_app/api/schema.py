"""drf-spectacular postprocessing: describe what the API answers on the wire (found by fuzzing
the schema with schemathesis, tests/security/test_schemathesis.py).

- Path ids are int64 (the contract, section 1), except the secrets' `{name}`.
- Every operation documents the ApiError answers of the contract (400, 401, 403, 404) and the
  ones this server adds (405 is left to the `Allow` header; 409 conflicts, 413 too large,
  415 media type, 429 rate limits, 503 database unavailable).
- Every success is 200 (the contract has no 201 or 204): DELETE answers 200 with a body.
- HAL pages are one object, not an array of pages (drf-spectacular wraps `list` actions).
- A user reference in a request is a oneOf `{"id": int64}` | `{"username": string}` (section 3.2):
  exactly one key, which the server requires.
- Request bodies say what the server accepts: no `_links`; merge-patch fields may be `null`
  (RFC 7386: ignored, or for `properties` cleared), as may any optional field; `webhookUrl`
  is empty or http(s), at most 200 characters.
- Strings in requests hold no NUL character (PostgreSQL stores none: 400); names, display
  names and usernames no control character.
- `sort` lists the values the sorted lists accept.
- An empty date-time, integer or boolean query parameter (`?startTime=`, `?size=`, `?unread=`)
  counts as absent, as the filters and paginators read it; integers are int64.
"""

import copy
from typing import Any

ID_PARAMETERS = {"id", "user_id", "app_id"}
ERROR_STATUSES = {
    "400": "Invalid input (ApiError).",
    "401": "Missing, invalid, expired or revoked credentials (ApiError with error_description).",
    "403": "The credentials may not do this (ApiError).",
    "404": "Not found, or not visible to these credentials (ApiError).",
    "409": "Conflicts with existing data (ApiError).",
    "413": "The request body is too large (ApiError).",
    "415": "Unsupported request media type (ApiError).",
    "429": "Rate limited (ApiError, Retry-After).",
    "503": "The database is unavailable; retry (ApiError, Retry-After).",
}
API_ERROR = {
    "type": "object",
    "description": "The error shape of every failure (contract section 3.9).",
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "timestamp": {"type": "string"},
        "explanation": {"type": "string"},
        "properties": {"type": "object", "additionalProperties": {}},
        "error_description": {"type": "string", "description": "401 only."},
    },
    "required": ["error", "message", "timestamp"],
}
USER_REFERENCE = {
    "oneOf": [
        {
            "type": "object",
            "title": "ChatUserIdReference",
            "properties": {"id": {"type": "integer", "format": "int64"}},
            "required": ["id"],
        },
        {
            "type": "object",
            "title": "ChatUserUsernameReference",
            "properties": {"username": {"type": "string", "minLength": 1}},
            "required": ["username"],
        },
    ]
}
DEFAULTED = {
    "SendMessageRequestRequest": ["type"],  # TEXT
    "CreateGenericEventRequest": ["properties"],  # {}
    "CreateUserRequestRequest": ["displayName"],  # the name
}
NO_NUL = "^[^\\u0000]*$"
NO_CONTROL = "^[^\\u0000-\\u001f\\u007f]*$"  # validation.clean_name
STORABLE_VALUE = {
    "description": "Any JSON value without NUL characters (PostgreSQL jsonb stores none).",
    "nullable": True,
    "anyOf": [
        {"type": "string", "pattern": NO_NUL},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array", "items": {"$ref": "#/components/schemas/StorableValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/StorableValue"}},
    ],
}
NAME_FIELDS = {"name", "displayName", "username"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def describe_wire(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["ApiError"] = API_ERROR
    components["StorableValue"] = STORABLE_VALUE
    if "UserReferenceRequest" in components:
        components["UserReferenceRequest"] = USER_REFERENCE
    for name, component in components.items():
        fields = component.get("properties", {})
        if not name.endswith("Request"):
            continue
        fields.pop("_links", None)
        required = set(component.get("required", []))
        for field_name, field in fields.items():
            if field_name not in required:
                field["nullable"] = True  # an optional field sent as `null` counts as absent
            if name == "PresencePatchRequest":
                field.pop("minLength", None)  # an empty status is a status
    for name, fields in DEFAULTED.items():  # required by the contract, defaulted by the server
        component = components.get(name, {})
        kept = [f for f in component.get("required", []) if f not in fields]
        component.pop("required", None)
        if kept:
            component["required"] = kept
        for field in fields:
            component.get("properties", {}).get(field, {})["nullable"] = True
    settings = components.get("ApplicationSettingsRequest", {}).get("properties", {})
    for field in settings.values():
        field["nullable"] = True  # PUT reads `null` as "leave unchanged"
    if "webhookUrl" in settings:
        settings["webhookUrl"].update(
            {"pattern": "^(https?://.*)?$", "maxLength": 200, "nullable": True}
        )
    for name, component in components.items():
        if name.endswith("Request") and name != "CreateGenericEventRequest":  # events: not stored
            _no_nul(component)
    error_ref = {"$ref": "#/components/schemas/ApiError"}
    sorts = _sorts()
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            # Operations may share parameter objects: edit copies.
            operation["parameters"] = copy.deepcopy(operation.get("parameters", []))
            for parameter in operation["parameters"]:
                if parameter.get("in") == "path" and parameter.get("name") in ID_PARAMETERS:
                    parameter["schema"] = {"type": "integer", "format": "int64"}
                schema = parameter.setdefault("schema", {})
                _no_nul(schema)
                if parameter.get("name") == "sort" and path in sorts:
                    schema["items"] = {"type": "string", "enum": sorts[path]}
                if parameter.get("required") and schema.get("type") == "string":
                    schema["minLength"] = 1  # an empty required parameter counts as missing
                if parameter.get("in") == "query" and schema.get("type") == "integer":
                    schema.setdefault("maximum", 2**63 - 1)  # int64, as the paginators read it
                if parameter.get("in") == "query" and (
                    schema.get("format") == "date-time"
                    or schema.get("type") in ("integer", "boolean")
                ):
                    parameter["allowEmptyValue"] = True
            responses = operation.setdefault("responses", {})
            for code in ("201", "204"):
                if code in responses and "200" not in responses:
                    responses["200"] = responses.pop(code)
                    responses["200"]["description"] = ""
            success = responses.get("200", {})
            for media in success.get("content", {}).values():
                schema = media.get("schema", {})
                ref = schema.get("items", {}).get("$ref", "")
                if schema.get("type") == "array" and ref.rsplit("/", 1)[-1].startswith(
                    ("PagedModel", "CursorPagedModel")
                ):
                    media["schema"] = {"$ref": ref}
            for code, description in ERROR_STATUSES.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": error_ref}},
                    },
                )
    return result


def _no_nul(schema: Any) -> None:
    """Free strings of a request schema: no NUL character; names no control character."""
    if isinstance(schema, dict):
        for key, field in schema.get("properties", {}).items():
            if key in NAME_FIELDS and isinstance(field, dict) and field.get("type") == "string":
                field.setdefault("pattern", NO_CONTROL)
        if schema.get("type") == "string" and not {"enum", "format", "pattern"} & schema.keys():
            schema["pattern"] = NO_NUL
        if schema.get("type") == "object" and schema.get("additionalProperties") in ({}, True):
            schema["additionalProperties"] = {"$ref": "#/components/schemas/StorableValue"}
            return
        for value in schema.values():
            _no_nul(value)
    elif isinstance(schema, list):
        for value in schema:
            _no_nul(value)


def _sorts() -> dict[str, list[str]]:
    """`sort` values of the lists that sort: `property`, `property,asc`, `property,desc`."""
    from .views.channels import CHANNEL_SORTS
    from .views.users import USER_SORTS

    def values(allowed: dict[str, str]) -> list[str]:
        return [value for name in allowed for value in (name, f"{name},asc", f"{name},desc")]

    return {"/v1/channels": values(CHANNEL_SORTS), "/v1/users": values(USER_SORTS)}
