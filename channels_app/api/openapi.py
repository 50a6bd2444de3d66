"""drf-spectacular postprocessing for what it cannot see: `HEAD /v1/users` (it skips HEAD)."""

import threading
from typing import Any, ClassVar

from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response


def document_check_user_exists(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The SDK's `check_user_exists`: 200 when the user exists, 404 when not, never a body."""
    users = result.get("paths", {}).get("/v1/users")
    if users is not None and "head" not in users:
        users["head"] = {
            "operationId": "check_user_exists",
            "description": "Whether a user of this name exists: 200 or 404, with no body.",
            "parameters": [
                {"in": "query", "name": "name", "required": True, "schema": {"type": "string"}}
            ],
            "tags": users.get("get", {}).get("tags", ["users"]),
            "security": users.get("get", {}).get("security", []),
            "responses": {
                "200": {"description": "The user exists."},
                "404": {"description": "No user has this name."},
            },
        }
    return result


PAGE_PARAMETERS = [
    {
        "in": "query",
        "name": "page",
        "required": False,
        "schema": {"type": "integer", "minimum": 0, "default": 0},
        "description": "Zero-based page index.",
    },
    {
        "in": "query",
        "name": "size",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
        "description": "Page size, 1 to 100 (above 100 is a 400).",
    },
    {
        "in": "query",
        "name": "sort",
        "required": False,
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string"}},
        "description": "`property,asc` or `property,desc`, repeatable.",
    },
]
CURSOR_PARAMETERS = [
    {
        "in": "query",
        "name": "size",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
    },
    {
        "in": "query",
        "name": "start",
        "required": False,
        "schema": {"type": "integer", "format": "int64", "minimum": 0},
        "description": "Cursor from `_links`; do not set by hand.",
    },
    {
        "in": "query",
        "name": "next",
        "required": False,
        "schema": {"type": "integer", "format": "int64", "minimum": 0},
        "description": "Cursor from `_links`; do not set by hand.",
    },
    {
        "in": "query",
        "name": "relation",
        "required": False,
        "schema": {"type": "string", "enum": ["SELF", "PREVIOUS", "NEXT"]},
    },
]


def document_page_parameters(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Page or cursor parameters on every operation answering a `PagedModel*` or
    `CursorPagedModel*` (the views are plain ViewSets, so drf-spectacular cannot infer them)."""
    for item in result.get("paths", {}).values():
        operation = item.get("get")
        if not isinstance(operation, dict):
            continue
        content = operation.get("responses", {}).get("200", {}).get("content", {})
        schemas = [media.get("schema", {}) for media in content.values()]
        # `list` actions come wrapped in an array by drf-spectacular: look inside it too.
        refs = [schema.get("$ref") or schema.get("items", {}).get("$ref", "") for schema in schemas]
        model = next((ref.rsplit("/", 1)[-1] for ref in refs if ref), "")
        for media in content.values():
            # A HAL page is one object, not an array of pages.
            if media.get("schema", {}).get("type") == "array" and model.startswith(
                ("PagedModel", "CursorPagedModel")
            ):
                media["schema"] = {"$ref": media["schema"]["items"]["$ref"]}
        if model.startswith("PagedModel"):
            extra = PAGE_PARAMETERS
        elif model.startswith("CursorPagedModel"):
            extra = CURSOR_PARAMETERS
        else:
            continue
        parameters = operation.setdefault("parameters", [])
        present = {(p.get("in"), p.get("name")) for p in parameters}
        parameters.extend(p for p in extra if ("query", p["name"]) not in present)
    return result


class SchemaView(SpectacularAPIView):
    """`/v1/schema`, generated once per process and host. drf-spectacular's first generation
    loads its extensions without a lock (two concurrent first requests once gave a 500), and the
    document never changes while the process runs."""

    _lock = threading.Lock()
    _documents: ClassVar[dict[str, Any]] = {}

    def _get_schema_response(self, request: Request) -> Response:
        key = request.build_absolute_uri("/")
        with self._lock:
            if key not in self._documents:
                self._documents[key] = super()._get_schema_response(request).data
        return Response(
            data=self._documents[key],
            headers={
                "Content-Disposition": f'inline; filename="{self._get_filename(request, None)}"'
            },
        )
