"""`/v1/me`: the current user of a user credential (client API)."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ... import selectors
from ...exceptions import NotFound
from ...models import ChatUser
from .. import serializers as s
from .base import ApiViewSet


class MeViewSet(ApiViewSet):
    def _user(self) -> ChatUser:
        if self.actor.user is None:
            raise NotFound("The current user belongs to a user credential; use /v1/users/{id}.")
        return self.actor.user

    @extend_schema(operation_id="retrieve_current_user", responses=s.ChatUserResourceSerializer)
    def retrieve(self, request: Request) -> Response:
        return self.render(s.ChatUserResourceSerializer, self._user())

    @extend_schema(operation_id="check_current_user_unread", responses=s.UnreadSerializer)
    def unread(self, request: Request) -> Response:
        """Total unread messages across the user's channels."""
        count = selectors.total_unread_count(self._user())
        return Response({"unread": count > 0, "count": count})
