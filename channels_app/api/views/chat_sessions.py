"""`/v1/chat-sessions`: the application's active chat sessions (Platform API only)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ... import selectors
from ...models import ChatSession
from ...resources import timestamp, user_properties
from .. import serializers as s
from ..permissions import IsApplication, IsAuthenticatedActor
from .base import ApiViewSet


class ChatSessionResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    protocol = serializers.CharField(help_text="`json` (/ws/v1/chat) or `stomp`.")
    user = s.ChatUserResourceSerializer()
    userAgent = serializers.CharField()
    createdTime = serializers.DateTimeField()
    lastSeenTime = serializers.DateTimeField()

    def to_representation(self, instance: ChatSession) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "protocol": instance.protocol,
            "user": user_properties(instance.user),
            "userAgent": instance.user_agent,
            "createdTime": timestamp(instance.created_time),
            "lastSeenTime": timestamp(instance.last_seen_time),
        }


PAGED_SESSIONS = s.paged("PagedModelChatSessionResource", "sessions", ChatSessionResourceSerializer)


class ChatSessionViewSet(ApiViewSet):
    permission_classes = [IsAuthenticatedActor, IsApplication]

    @extend_schema(operation_id="list_chat_sessions", responses=PAGED_SESSIONS)
    def list(self, request: Request) -> Response:
        return self.page(
            selectors.active_sessions(self.actor).order_by("id"),
            ChatSessionResourceSerializer,
            "sessions",
        )
