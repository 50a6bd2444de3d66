from typing import Any, cast

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.viewsets import ViewSet

from ...actors import Actor
from ...exceptions import InvalidInput
from ..pagination import HalPagePagination, MessageCursorPagination
from ..renderers import ApiJSONRenderer, HalJSONRenderer


class ApiViewSet(ViewSet):
    """Views are adapters: parse input, call a service or selector, render the result."""

    embedded_key = "items"
    # `application/json` first (what the SDK sends); HAL clients may ask for `application/hal+json`.
    renderer_classes = [ApiJSONRenderer, HalJSONRenderer]

    @property
    def actor(self) -> Actor:
        return cast(Actor, self.request.user)

    def body(self) -> dict[str, Any]:
        data = self.request.data
        if not isinstance(data, dict):
            raise InvalidInput("The request body must be a JSON object.")
        return data

    def render(self, serializer: type[Serializer], instance: Any, **context: Any) -> Response:
        return Response(serializer(instance, context={"request": self.request, **context}).data)

    def page(
        self,
        queryset: QuerySet[Any],
        serializer: type[Serializer],
        key: str,
        *,
        prepare: Any = None,
        total: int | None = None,
    ) -> Response:
        """An offset HAL page; `prepare(rows)` may batch-load context for the page's rows, and an
        exact `total` known beforehand spares counting the queryset."""
        paginator = HalPagePagination()
        self.embedded_key = key
        rows = paginator.paginate_queryset(queryset, self.request, view=self, total=total)
        context: dict[str, Any] = {"request": self.request}
        if prepare is not None:
            context.update(prepare(rows))
        data = serializer(rows, many=True, context=context).data
        return paginator.get_paginated_response(data)

    def cursor_page(self, queryset: QuerySet[Any], serializer: type[Serializer]) -> Response:
        paginator = MessageCursorPagination()
        self.embedded_key = "messages"
        rows = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer(rows, many=True, context={"request": self.request}).data
        return paginator.get_paginated_response(data)


def query_flag(request: Request, name: str) -> bool | None:
    from ..filters import parse_bool

    return parse_bool(request.query_params.get(name), name)
