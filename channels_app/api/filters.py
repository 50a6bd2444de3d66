"""django-filter FilterSets per resource, plus the contract's `sort=property,asc|desc`."""

import json
from typing import Any

import django_filters as filters
from django.db.models import Exists, OuterRef, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from ..exceptions import InvalidInput
from ..models import Channel, ChatUser, Membership


def parse_bool(raw: str | None, name: str) -> bool | None:
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise InvalidInput(f"`{name}` must be true or false.")


class StrictFilterSet(filters.FilterSet):
    """Invalid filter values are a 400 in the ApiError shape, never ignored."""

    @property
    def qs(self) -> QuerySet[Any]:
        if not self.is_bound:
            return super().qs
        if not self.form.is_valid():
            errors = {key: [str(e) for e in value] for key, value in self.form.errors.items()}
            raise InvalidInput("Invalid filter.", properties={"errors": errors})
        return super().qs


class ChannelFilter(StrictFilterSet):
    type = filters.ChoiceFilter(choices=Channel.Type.choices)
    name = filters.CharFilter(field_name="name")
    members = filters.CharFilter(method="filter_members")
    startTime = filters.IsoDateTimeFilter(field_name="created_time", lookup_expr="gte")
    endTime = filters.IsoDateTimeFilter(field_name="created_time", lookup_expr="lte")
    properties = filters.CharFilter(method="filter_properties")

    class Meta:
        model = Channel
        fields: list[str] = []

    def filter_members(
        self, queryset: QuerySet[Channel], name: str, value: str
    ) -> QuerySet[Channel]:
        # Repeated `members=jane&members=john`: channels having every one of them.
        usernames = self.data.getlist("members") if hasattr(self.data, "getlist") else [value]
        for username in usernames:
            queryset = queryset.filter(
                Exists(Membership.objects.filter(channel=OuterRef("pk"), user__name=username))
            )
        return queryset

    def filter_properties(
        self, queryset: QuerySet[Channel], name: str, value: str
    ) -> QuerySet[Channel]:
        return filter_json_properties(queryset, value)


class UserFilter(StrictFilterSet):
    name = filters.CharFilter(field_name="name")

    class Meta:
        model = ChatUser
        fields: list[str] = []


def filter_json_properties(queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
    """`properties={"team":"red"}`: rows whose properties hold each given key and value."""
    try:
        wanted = json.loads(value)
    except ValueError:
        raise InvalidInput("`properties` must be a JSON object.") from None
    if not isinstance(wanted, dict):
        raise InvalidInput("`properties` must be a JSON object.")
    for key, item in wanted.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidInput("`properties` keys must be simple identifiers.")
        queryset = queryset.filter(**{f"properties__{key}": item})
    return queryset


def apply_sort(
    queryset: QuerySet[Any], request: Request, allowed: dict[str, str], default: list[str]
) -> QuerySet[Any]:
    """`sort=name,asc&sort=createdTime,desc` over the allowed contract names; id breaks ties."""
    order: list[str] = []
    for raw in request.query_params.getlist("sort"):
        prop, _, direction = raw.partition(",")
        direction = (direction or "asc").lower()
        if prop not in allowed or direction not in ("asc", "desc"):
            raise InvalidInput(
                f"`sort` must be one of {sorted(allowed)} with asc or desc.",
            )
        order.append(("-" if direction == "desc" else "") + allowed[prop])
    if not order:
        return queryset.order_by(*default)
    if not any(field.lstrip("-") == "id" for field in order):
        order.append("id")
    return queryset.order_by(*order)


# OpenAPI: drf-spectacular documents FilterSets only on generic views, so spell them out.
CHANNEL_FILTER_PARAMETERS = [
    OpenApiParameter("type", str, enum=Channel.Type.values, description="Channel type."),
    OpenApiParameter(
        "members",
        {"type": "array", "items": {"type": "string"}},
        explode=True,
        description="Usernames, repeated: channels having every one of them as members.",
    ),
    OpenApiParameter("startTime", OpenApiTypes.DATETIME, description="Created at or after."),
    OpenApiParameter("endTime", OpenApiTypes.DATETIME, description="Created at or before."),
    OpenApiParameter(
        "properties", str, description='Custom properties to match, a JSON object: {"team":"red"}.'
    ),
    OpenApiParameter("name", str, description="Exact channel name."),
]
USER_FILTER_PARAMETERS = [OpenApiParameter("name", str, description="Exact username.")]
