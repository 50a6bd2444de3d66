"""`/v1/users`: the application manages its users; a user may read users and their own data."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ... import selectors
from ...access import access_user
from ...exceptions import InvalidInput, PermissionDenied
from ...models import ChatUser
from ...services import users as user_services
from .. import serializers as s
from ..filters import USER_FILTER_PARAMETERS, UserFilter, apply_sort
from ..pagination import MessageCursorPagination
from .base import ApiViewSet, query_flag
from .channels import CURSOR_MESSAGES, PAGED_CHANNELS, PAGED_USERS, prepare_channels

USER_SORTS = {
    "id": "id",
    "name": "name",
    "displayName": "display_name",
    "createdTime": "created_time",
}


class UserViewSet(ApiViewSet):
    def _self_or_application(self, id: str) -> ChatUser:
        user = access_user(self.actor, id)
        if self.actor.user is not None and self.actor.user.pk != user.pk:
            raise PermissionDenied("A user may only read their own data.")
        return user

    @extend_schema(
        operation_id="retrieve_users", parameters=USER_FILTER_PARAMETERS, responses=PAGED_USERS
    )
    def list(self, request: Request) -> Response:
        queryset = UserFilter(
            request.query_params, queryset=selectors.users_of(self.actor), request=request
        ).qs
        queryset = apply_sort(queryset, request, USER_SORTS, ["id"])
        return self.page(queryset, s.ChatUserResourceSerializer, "users")

    @extend_schema(
        operation_id="check_user_exists",
        parameters=[OpenApiParameter("name", str, required=True)],
        responses={
            200: OpenApiResponse(description="The user exists."),
            404: OpenApiResponse(description="No such user."),
        },
    )
    def exists(self, request: Request) -> Response:
        name = request.query_params.get("name")
        if not name:
            raise InvalidInput("`name` is required.")
        exists = selectors.users_of(self.actor).filter(name=name).exists()
        return Response(status=200 if exists else 404)

    @extend_schema(
        operation_id="create_user",
        request=s.CreateUserRequestSerializer,
        responses=s.ChatUserResourceSerializer,
    )
    def create(self, request: Request) -> Response:
        body = self.body()
        if "name" not in body or "displayName" not in body or "isGuest" not in body:
            raise InvalidInput("`name`, `displayName` and `isGuest` are required.")
        user = user_services.create_user(
            actor=self.actor,
            name=body["name"],
            display_name=body["displayName"],
            is_guest=body["isGuest"],
            properties=body.get("properties"),
        )
        return self.render(s.ChatUserResourceSerializer, user)

    @extend_schema(operation_id="retrieve_user", responses=s.ChatUserResourceSerializer)
    def retrieve(self, request: Request, id: str) -> Response:
        return self.render(s.ChatUserResourceSerializer, access_user(self.actor, id))

    @extend_schema(
        operation_id="update_user",
        request={
            "application/json+merge-patch": s.UserPatchSerializer,
            "application/merge-patch+json": s.UserPatchSerializer,
            "application/json": s.UserPatchSerializer,
        },
        responses=s.ChatUserResourceSerializer,
    )
    def partial_update(self, request: Request, id: str) -> Response:
        user = user_services.update_user(actor=self.actor, user_id=id, patch=self.body())
        return self.render(s.ChatUserResourceSerializer, user)

    @extend_schema(operation_id="delete_user", responses=s.ApplicationResourceSerializer)
    def destroy(self, request: Request, id: str) -> Response:
        user_services.delete_user(actor=self.actor, user_id=id)
        return self.render(s.ApplicationResourceSerializer, self.actor.application)

    @extend_schema(operation_id="retrieve_user_channels", responses=PAGED_CHANNELS)
    def channels(self, request: Request, id: str) -> Response:
        user = self._self_or_application(id)
        queryset = selectors.with_render_relations(selectors.channels_of_user(user)).order_by("id")
        return self.page(
            queryset, s.ChannelResourceSerializer, "channels", prepare=prepare_channels
        )

    @extend_schema(
        operation_id="retrieve_user_messages",
        parameters=[OpenApiParameter("unread", bool)],
        responses=CURSOR_MESSAGES,
    )
    def messages(self, request: Request, id: str) -> Response:
        user = self._self_or_application(id)
        if query_flag(request, "unread"):
            queryset = selectors.unread_messages_of(user)
        else:
            queryset = user.messages.select_related("user")
        return self.cursor_page(queryset, s.MessageResourceSerializer)

    @extend_schema(operation_id="count_user_unread_messages", responses=s.CountSerializer)
    def unread_count(self, request: Request, id: str) -> Response:
        user = self._self_or_application(id)
        return Response({"count": selectors.total_unread_count(user)})

    @extend_schema(
        operation_id="retrieve_user_notifications",
        responses=s.cursor_paged(
            "CursorPagedModelNotificationResource",
            "notifications",
            s.NotificationResourceSerializer,
        ),
    )
    def notifications(self, request: Request, id: str) -> Response:
        user = self._self_or_application(id)
        paginator = MessageCursorPagination()
        self.embedded_key = "notifications"
        rows = paginator.paginate_queryset(selectors.notifications_of(user), request, view=self)
        data = s.NotificationResourceSerializer(rows, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="update_user_display_picture",
        request=s.ExternalFileSerializer,
        responses=s.ChatUserResourceSerializer,
    )
    def display_picture(self, request: Request, id: str) -> Response:
        user = user_services.set_display_picture(actor=self.actor, user_id=id, file=self.body())
        return self.render(s.ChatUserResourceSerializer, user)

    @extend_schema(operation_id="retrieve_user_secret", responses=s.SecretResourceSerializer)
    def get_secret(self, request: Request, id: str, name: str) -> Response:
        secret = user_services.get_secret(actor=self.actor, user_id=id, name=name)
        return Response({"secret": secret})

    @extend_schema(
        operation_id="set_user_secret",
        request=s.SecretResourceSerializer,
        responses=s.ChatUserResourceSerializer,
    )
    def set_secret(self, request: Request, id: str, name: str) -> Response:
        user = user_services.set_secret(
            actor=self.actor, user_id=id, name=name, secret=self.body().get("secret", {})
        )
        return self.render(s.ChatUserResourceSerializer, user)

    @extend_schema(operation_id="remove_user_secret", responses=s.ChatUserResourceSerializer)
    def remove_secret(self, request: Request, id: str, name: str) -> Response:
        user = user_services.remove_secret(actor=self.actor, user_id=id, name=name)
        return self.render(s.ChatUserResourceSerializer, user)

    @extend_schema(
        operation_id="create_user_access_token",
        request=None,
        responses=s.AccessTokenSerializer,
    )
    def create_access_token(self, request: Request, id: str) -> Response:
        token, record = user_services.mint_access_token(actor=self.actor, user_id=id)
        expires_in = int((record.expires - record.created_time).total_seconds())
        return Response({"accessToken": token, "tokenType": "Bearer", "expiresIn": expires_in})

    @extend_schema(
        operation_id="revoke_user_access_tokens",
        request=None,
        parameters=[OpenApiParameter("token", str, description="Revoke only this token.")],
        responses=s.CountSerializer,
    )
    def revoke_access_tokens(self, request: Request, id: str) -> Response:
        token = request.query_params.get("token") or None
        revoked = user_services.revoke_access_tokens(actor=self.actor, user_id=id, token=token)
        return Response({"count": revoked})
