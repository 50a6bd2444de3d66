"""`/v1/channels`: the Platform API's channel operations and the client operations beside them."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ... import selectors
from ...access import access_channel, access_user, require_member, resolve_user_reference
from ...exceptions import InvalidInput, NotFound
from ...models import Channel, Membership
from ...services import channels as channel_services
from ...services import messages as message_services
from ...services import reads as read_services
from .. import serializers as s
from ..filters import CHANNEL_FILTER_PARAMETERS, ChannelFilter, apply_sort
from ..permissions import IsApplication, IsAuthenticatedActor
from .base import ApiViewSet, query_flag

CHANNEL_SORTS = {"id": "id", "name": "name", "createdTime": "created_time", "type": "type"}
PAGED_CHANNELS = s.paged("PagedModelChannelResource", "channels", s.ChannelResourceSerializer)
PAGED_USERS = s.paged("PagedModelChatUserResource", "users", s.ChatUserResourceSerializer)
CURSOR_MESSAGES = s.cursor_paged(
    "CursorPagedModelMessageResource", "messages", s.MessageResourceSerializer
)


def prepare_channels(rows: list[Channel]) -> dict[str, Any]:
    return {"direct_members": selectors.direct_members(rows)}


class ChannelViewSet(ApiViewSet):
    filterset_class = ChannelFilter

    @extend_schema(
        operation_id="retrieve_channels",
        parameters=[
            *CHANNEL_FILTER_PARAMETERS,
            OpenApiParameter(
                "joined", bool, description="Users: member of (true) or joinable (false)."
            ),
            OpenApiParameter("unread", bool, description="Users: channels with unread messages."),
        ],
        responses=PAGED_CHANNELS,
    )
    def list(self, request: Request) -> Response:
        queryset = selectors.channels_for(
            self.actor, joined=query_flag(request, "joined"), unread=query_flag(request, "unread")
        )
        total = None
        if any(name in request.query_params for name in ChannelFilter.base_filters):
            # Building the filter form costs ~0.5 ms: only when a filter is given.
            queryset = ChannelFilter(request.query_params, queryset=queryset, request=request).qs
        elif self.actor.user is None:
            # Every channel of the application: its counter is the total.
            total = selectors.channel_total(self.actor.application)
        queryset = apply_sort(queryset, request, CHANNEL_SORTS, ["id"])
        return self.page(
            selectors.with_render_relations(queryset),
            s.ChannelResourceSerializer,
            "channels",
            prepare=prepare_channels,
            total=total,
        )

    @extend_schema(
        operation_id="create_channel",
        request=s.CreateChannelRequestSerializer,
        responses=s.ChannelResourceSerializer,
    )
    def create(self, request: Request) -> Response:
        body = self.body()
        kind = body.get("type")
        if kind not in Channel.Type.values:
            raise InvalidInput("`type` must be one of DIRECT, PUBLIC or PRIVATE.")
        # The bad-input list makes a missing name an error (the SDK would let the server
        # pick a UUID): names are how PUBLIC and PRIVATE channels are found again.
        if kind != Channel.Type.DIRECT and body.get("name") is None:
            raise InvalidInput("`name` is required for PUBLIC and PRIVATE channels.")
        creator = None
        if body.get("creator") is not None and self.actor.is_application:
            creator = resolve_user_reference(self.actor, body["creator"])
        channel, _ = channel_services.create_channel(
            actor=self.actor,
            type=kind,
            name=body.get("name"),
            display_name=body.get("displayName"),
            properties=body.get("properties"),
            creator=creator,
            members=channel_services.resolve_members(self.actor, body.get("members")),
        )
        return self.render(s.ChannelResourceSerializer, access_channel(self.actor, channel.pk))

    @extend_schema(operation_id="retrieve_channel", responses=s.ChannelResourceSerializer)
    def retrieve(self, request: Request, id: str) -> Response:
        return self.render(s.ChannelResourceSerializer, access_channel(self.actor, id))

    @extend_schema(
        operation_id="update_channel",
        request={
            "application/json+merge-patch": s.ChannelPropertiesPatchSerializer,
            "application/merge-patch+json": s.ChannelPropertiesPatchSerializer,
            "application/json": s.ChannelPropertiesPatchSerializer,
        },
        responses=s.ChannelResourceSerializer,
    )
    def partial_update(self, request: Request, id: str) -> Response:
        channel = channel_services.update_channel(
            actor=self.actor, channel_id=id, patch=self.body()
        )
        return self.render(s.ChannelResourceSerializer, channel)

    @extend_schema(operation_id="delete_channel", responses=s.ApplicationResourceSerializer)
    def destroy(self, request: Request, id: str) -> Response:
        channel_services.delete_channel(actor=self.actor, channel_id=id)
        return self.render(s.ApplicationResourceSerializer, self.actor.application)

    # --- members and moderators ----------------------------------------------------------------

    @extend_schema(operation_id="retrieve_channel_members", responses=PAGED_USERS)
    def members(self, request: Request, id: str) -> Response:
        channel = self._visible_members_channel(id)
        return self.page(selectors.channel_members(channel), s.ChatUserResourceSerializer, "users")

    @extend_schema(
        operation_id="add_channel_member",
        request=s.UserReferenceSerializer,
        responses=s.ChannelResourceSerializer,
    )
    def add_member(self, request: Request, id: str) -> Response:
        user = resolve_user_reference(self.actor, self.body(), target=True)
        channel = channel_services.add_member(actor=self.actor, channel_id=id, user=user)
        return self.render(s.ChannelResourceSerializer, channel)

    @extend_schema(operation_id="remove_channel_member", responses=s.ChannelResourceSerializer)
    def remove_member(self, request: Request, id: str, user_id: str) -> Response:
        access_channel(self.actor, id)
        user = access_user(self.actor, user_id)
        channel = channel_services.remove_member(actor=self.actor, channel_id=id, user=user)
        return self.render(s.ChannelResourceSerializer, channel)

    @extend_schema(operation_id="list_channel_moderators", responses=PAGED_USERS)
    def moderators(self, request: Request, id: str) -> Response:
        channel = self._visible_members_channel(id)
        return self.page(
            selectors.channel_members(channel, role=Membership.Role.MODERATOR),
            s.ChatUserResourceSerializer,
            "users",
        )

    @extend_schema(
        operation_id="add_channel_moderator",
        request=s.UserReferenceSerializer,
        responses=s.ChatUserResourceSerializer,
    )
    def add_moderator(self, request: Request, id: str) -> Response:
        user = resolve_user_reference(self.actor, self.body(), target=True)
        channel_services.set_member_role(
            actor=self.actor, channel_id=id, user=user, role=Membership.Role.MODERATOR
        )
        return self.render(s.ChatUserResourceSerializer, user)

    @extend_schema(operation_id="remove_channel_moderator", responses=s.ChannelResourceSerializer)
    def remove_moderator(self, request: Request, id: str, user_id: str) -> Response:
        access_channel(self.actor, id)
        user = access_user(self.actor, user_id)
        channel_services.set_member_role(
            actor=self.actor, channel_id=id, user=user, role=Membership.Role.MEMBER
        )
        return self.render(s.ChannelResourceSerializer, access_channel(self.actor, id))

    @extend_schema(
        operation_id="retrieve_channel_memberships",
        responses=s.paged(
            "PagedModelChannelMembershipResource", "memberships", s.MembershipResourceSerializer
        ),
    )
    def memberships(self, request: Request, id: str) -> Response:
        channel = self._visible_members_channel(id)
        return self.page(
            selectors.memberships_of(channel), s.MembershipResourceSerializer, "memberships"
        )

    @extend_schema(operation_id="retrieve_channel_participants", responses=PAGED_USERS)
    def participants(self, request: Request, id: str) -> Response:
        channel = self._visible_members_channel(id)
        return self.page(
            selectors.channel_participants(channel), s.ChatUserResourceSerializer, "users"
        )

    # --- invites, messages, events -------------------------------------------------------------

    @extend_schema(
        operation_id="retrieve_channel_invites",
        responses=s.paged("PagedModelChannelInviteResource", "invites", s.InviteResourceSerializer),
    )
    def invites(self, request: Request, id: str) -> Response:
        channel = access_channel(self.actor, id)
        require_member(self.actor, channel)
        return self.page(
            channel.invites.select_related("user").order_by("id"),
            s.InviteResourceSerializer,
            "invites",
        )

    @extend_schema(
        operation_id="send_channel_invite",
        request=s.CreateChannelInviteSerializer,
        responses=s.InviteResourceSerializer,
    )
    def send_invite(self, request: Request, id: str) -> Response:
        user = resolve_user_reference(self.actor, self.body().get("user"), target=True)
        invite = channel_services.send_invite(actor=self.actor, channel_id=id, user=user)
        return self.render(s.InviteResourceSerializer, invite)

    @extend_schema(
        operation_id="retrieve_channel_messages",
        parameters=[
            OpenApiParameter("username", str, description="Only messages sent by this user."),
            OpenApiParameter("query", str, description="Only messages whose body contains it."),
            OpenApiParameter(
                "after", int, description="Messages after this sequence number, oldest first."
            ),
        ],
        responses=CURSOR_MESSAGES,
    )
    def messages(self, request: Request, id: str) -> Response:
        channel = access_channel(self.actor, id)
        if channel.type != Channel.Type.PUBLIC:
            require_member(self.actor, channel)
        queryset = selectors.messages_in(self.actor, channel)
        queryset = filter_messages(queryset, request)
        return self.cursor_page(queryset, s.MessageResourceSerializer)

    @extend_schema(
        operation_id="send_channel_message",
        request=s.SendMessageRequestSerializer,
        responses=s.MessageResourceSerializer,
    )
    def send_message(self, request: Request, id: str) -> Response:
        body = message_body(self.body())
        user = None
        if body.get("user") is not None and self.actor.is_application:
            user = resolve_user_reference(self.actor, body["user"])
        message = message_services.send_message(
            actor=self.actor,
            channel_id=id,
            body=body.get("body"),
            file=body.get("file") if body["type"] == "FILE" else None,
            properties=body.get("properties"),
            group_tag=body.get("groupTag"),
            user=user,
            idempotency_key=request.headers.get("Idempotency-Key") or body.get("idempotencyKey"),
        )
        return self.render(s.MessageResourceSerializer, message)

    @extend_schema(
        operation_id="send_channel_event",
        request=s.CreateGenericEventSerializer,
        responses=s.GenericEventResourceSerializer,
    )
    def send_event(self, request: Request, id: str) -> Response:
        body = self.body()
        payload = channel_services.send_channel_event(
            actor=self.actor,
            channel_id=id,
            type=body.get("type"),
            properties=body.get("properties"),
        )
        payload.pop("channelId", None)
        return Response(payload)

    # --- client operations ---------------------------------------------------------------------

    @extend_schema(operation_id="join_channel", request=None, responses=s.ChannelResourceSerializer)
    def join(self, request: Request, id: str) -> Response:
        return self.render(
            s.ChannelResourceSerializer,
            channel_services.join_channel(actor=self.actor, channel_id=id),
        )

    @extend_schema(
        operation_id="leave_channel", request=None, responses=s.ChannelResourceSerializer
    )
    def leave(self, request: Request, id: str) -> Response:
        channel_services.leave_channel(actor=self.actor, channel_id=id)
        return self.render(s.ChannelResourceSerializer, access_channel(self.actor, id))

    @extend_schema(operation_id="read_channel", request=None, responses=s.ChannelResourceSerializer)
    def read(self, request: Request, id: str) -> Response:
        read_services.read_channel(actor=self.actor, channel_id=id)
        return self.render(s.ChannelResourceSerializer, access_channel(self.actor, id))

    @extend_schema(operation_id="check_channel_unread", responses=s.UnreadSerializer)
    def unread(self, request: Request, id: str) -> Response:
        channel = access_channel(self.actor, id)
        if self.actor.user is None:
            raise NotFound("Unread state belongs to a user; use /v1/users/{id}/messages.")
        require_member(self.actor, channel)
        count = selectors.unread_count(self.actor.user, channel)
        return Response({"unread": count > 0, "count": count})

    @extend_schema(operation_id="send_channel_keystrokes", request=None, responses={200: None})
    def typing(self, request: Request, id: str) -> Response:
        typing = self.body().get("typing", True)
        channel_services.send_typing(actor=self.actor, channel_id=id, typing=typing is not False)
        return Response({"typing": typing is not False})

    def _visible_members_channel(self, id: str) -> Channel:
        """Members of PUBLIC channels are visible to everyone in the application; those of
        PRIVATE and DIRECT channels only to their members (and the application)."""
        channel = access_channel(self.actor, id)
        if channel.type != Channel.Type.PUBLIC:
            require_member(self.actor, channel)
        return channel


class ApplicationChannelViewSet(ApiViewSet):
    """The product doc's application-scoped form `/v1/applications/{appId}/channels/{id}`."""

    permission_classes = [IsAuthenticatedActor, IsApplication]

    def _check_application(self, app_id: str) -> None:
        if str(self.actor.application.pk) != str(app_id):
            raise NotFound("Channel not found.")

    @extend_schema(
        operation_id="retrieve_application_channel", responses=s.ChannelResourceSerializer
    )
    def retrieve(self, request: Request, app_id: str, id: str) -> Response:
        self._check_application(app_id)
        return self.render(s.ChannelResourceSerializer, access_channel(self.actor, id))

    @extend_schema(
        operation_id="delete_application_channel", responses=s.ApplicationResourceSerializer
    )
    def destroy(self, request: Request, app_id: str, id: str) -> Response:
        self._check_application(app_id)
        channel_services.delete_channel(actor=self.actor, channel_id=id)
        return self.render(s.ApplicationResourceSerializer, self.actor.application)


def filter_messages(queryset: Any, request: Request) -> Any:
    username = request.query_params.get("username")
    if username:
        queryset = queryset.filter(user__name=username)
    query = request.query_params.get("query")
    if query:
        queryset = queryset.filter(body__icontains=query)
    return queryset


def message_body(body: dict[str, Any]) -> dict[str, Any]:
    """`SendChannelMessageRequest`: `type` TEXT (the default) with `body`, or FILE with `file`."""
    kind = body.get("type", "TEXT")
    if kind not in ("TEXT", "FILE"):
        raise InvalidInput("`type` must be TEXT or FILE.")
    if kind == "FILE" and body.get("file") is None:
        raise InvalidInput("A FILE message needs `file`: url, name, contentType and size.")
    return {**body, "type": kind}
