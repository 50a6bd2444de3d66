"""The floor: the cheapest paginated DRF list over the same channels table.

A bare `ListAPIView`: page-number pagination with a count, a plain `ModelSerializer`, no
authentication, DRF's stock JSON renderer. `GET /v1/channels` does strictly more (a bearer token
lookup, tenant scoping, filters, sorting, HAL links, embedded creator and last message), so its
throughput is compared with this one's in the same run.
"""

from typing import Any

from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from channels_app.models import Channel


class FloorChannelSerializer(serializers.ModelSerializer[Channel]):
    class Meta:
        model = Channel
        fields = "__all__"


class FloorPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "size"
    max_page_size = 100


class FloorChannelList(generics.ListAPIView[Channel]):
    queryset = Channel.objects.order_by("id")
    serializer_class = FloorChannelSerializer
    pagination_class = FloorPagination
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    filter_backends: list[Any] = []
