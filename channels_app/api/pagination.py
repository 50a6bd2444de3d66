"""HAL pages as the contract shapes them.

Offset pages: `{"_embedded": {key: [...]}, "_links": {...}, "page": {size, totalElements,
totalPages, number}}`, zero-based `page`, `size` 1..100 (above 100 is a 400, not a silent clamp).
Cursor pages (messages): newest first, `_links.next` carries `start`, `next`, `relation`, `size`;
`after=<sequence>` lists a channel's messages after a sequence number, oldest first (resync).
"""

import math
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ..exceptions import InvalidInput

DEFAULT_SIZE = 25
INT64_MAX = 2**63 - 1


def int_param(
    request: Request, name: str, default: int | None, *, minimum: int, maximum: int | None = None
) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.lstrip("-").isdigit() or len(raw) > 19:
        raise InvalidInput(f"`{name}` must be an integer.")
    value = int(raw)
    if value > INT64_MAX:
        raise InvalidInput(f"`{name}` must be at most {INT64_MAX}.")
    if value < minimum:
        raise InvalidInput(f"`{name}` must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise InvalidInput(f"`{name}` must be at most {maximum}.")
    return value


def link(href: str) -> dict[str, str]:
    return {"href": href}


class HalPagePagination(BasePagination):
    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None, *, total: int | None = None
    ) -> list[Any]:
        """The page's rows. `total`, when the caller knows it exactly, spares the `COUNT(*)`."""
        self.request = request
        self.embedded_key: str = getattr(view, "embedded_key", "items")
        self.number = int_param(request, "page", 0, minimum=0) or 0
        self.size = (
            int_param(request, "size", DEFAULT_SIZE, minimum=1, maximum=settings.CHAT_MAX_PAGE_SIZE)
            or DEFAULT_SIZE
        )
        self.total = queryset.count() if total is None else total
        offset = self.number * self.size
        if offset >= self.total:
            return []
        if offset and isinstance(queryset, QuerySet) and queryset.query.select_related:
            # A deep page: the page's keys first (an index scan), then only those rows with
            # their related rows. OFFSET over the joins loaded every skipped row's relations
            # (1.2 s for page 3999 of 100,000 channels; see README "Benchmarks").
            on_page = min(self.size, self.total - offset)
            from_end = self.total - offset - on_page
            if from_end < offset and queryset.ordered:
                # In the second half, walk the index from the other end: the last page skips
                # nothing instead of every row before it.
                keys = queryset.reverse().values("pk")[from_end : from_end + on_page]
            else:
                keys = queryset.values("pk")[offset : offset + self.size]
            return list(queryset.filter(pk__in=keys))
        return list(queryset[offset : offset + self.size])

    def get_paginated_response(self, data: Any) -> Response:
        return Response(self.page_body(data))

    def page_body(self, data: Any) -> dict[str, Any]:
        total_pages = math.ceil(self.total / self.size) if self.total else 0
        url = self.request.build_absolute_uri()
        links = {"self": link(url)}
        if self.number + 1 < total_pages:
            links["next"] = link(replace_query_param(url, "page", self.number + 1))
        if self.number > 0:
            links["prev"] = link(replace_query_param(url, "page", self.number - 1))
        return {
            "_embedded": {self.embedded_key: list(data)},
            "_links": links,
            "page": {
                "size": self.size,
                "totalElements": self.total,
                "totalPages": total_pages,
                "number": self.number,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 0, "default": 0},
                "description": "Zero-based page index.",
            },
            {
                "name": "size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
                "description": "Page size, 1 to 100.",
            },
            {
                "name": "sort",
                "in": "query",
                "required": False,
                "schema": {"type": "array", "items": {"type": "string"}},
                "explode": True,
                "description": "`property,asc` or `property,desc`, repeatable.",
            },
        ]


class MessageCursorPagination(BasePagination):
    """Keyset pages over message ids (ids grow with sequence inside a channel)."""

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.embedded_key = getattr(view, "embedded_key", "messages")
        self.size = (
            int_param(request, "size", DEFAULT_SIZE, minimum=1, maximum=settings.CHAT_MAX_PAGE_SIZE)
            or DEFAULT_SIZE
        )
        self.after = int_param(request, "after", None, minimum=0)
        start = int_param(request, "start", None, minimum=0)
        next_cursor = int_param(request, "next", None, minimum=0)
        relation = (request.query_params.get("relation") or "SELF").upper()
        if relation not in ("SELF", "NEXT", "PREVIOUS"):
            raise InvalidInput("`relation` must be SELF, NEXT or PREVIOUS.")
        self.had_cursor = start is not None or next_cursor is not None
        queryset = queryset.order_by()
        if self.after is not None:
            rows = list(
                queryset.filter(sequence__gt=self.after).order_by("sequence")[: self.size + 1]
            )
        elif relation == "NEXT" and next_cursor is not None:
            rows = list(queryset.filter(pk__lt=next_cursor).order_by("-pk")[: self.size + 1])
        elif relation == "PREVIOUS" and start is not None:
            rows = list(queryset.filter(pk__gt=start).order_by("pk")[: self.size + 1])
            self.has_more = len(rows) > self.size
            rows = list(reversed(rows[: self.size]))
            self.rows = rows
            self.newer_exists = self.has_more
            return rows
        elif start is not None:
            rows = list(queryset.filter(pk__lte=start).order_by("-pk")[: self.size + 1])
        else:
            rows = list(queryset.order_by("-pk")[: self.size + 1])
        self.has_more = len(rows) > self.size
        self.rows = rows[: self.size]
        self.newer_exists = self.had_cursor
        return self.rows

    def get_paginated_response(self, data: Any) -> Response:
        url = remove_query_param(self.request.build_absolute_uri(), "page")
        links: dict[str, dict[str, str]] = {"self": link(url)}
        rows = self.rows
        if self.after is not None:
            if self.has_more and rows:
                links["next"] = link(replace_query_param(url, "after", rows[-1].sequence))
        elif rows:
            first, last = rows[0].pk, rows[-1].pk
            base = replace_query_param(url, "size", self.size)
            if self.has_more:
                links["next"] = link(
                    replace_query_param(
                        replace_query_param(
                            replace_query_param(base, "start", first), "next", last
                        ),
                        "relation",
                        "NEXT",
                    )
                )
            if self.newer_exists:
                links["prev"] = link(
                    replace_query_param(
                        remove_query_param(replace_query_param(base, "start", first), "next"),
                        "relation",
                        "PREVIOUS",
                    )
                )
        return Response(
            {
                "_embedded": {self.embedded_key: list(data)},
                "_links": links,
                "page": {"size": self.size},
            }
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 100},
            },
            {
                "name": "start",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "format": "int64", "minimum": 0},
            },
            {
                "name": "next",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "format": "int64", "minimum": 0},
            },
            {
                "name": "relation",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["SELF", "PREVIOUS", "NEXT"]},
            },
        ]


def paginate(view: Any, queryset: QuerySet[Any] | Sequence[Any]) -> list[Any]:
    page = view.paginate_queryset(queryset)
    assert page is not None
    return list(page)
