"""Resource serializers: they document the wire shapes for OpenAPI and render already-loaded rows
through `channels_app.resources` (fast, no nulls), adding HAL `_links`."""

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from .. import resources
from ..models import Application, Channel, ChatUser, Message, Notification, Thread

S = serializers


class LinkSerializer(S.Serializer):
    href = S.CharField()


class LinksSerializer(S.Serializer):
    self = LinkSerializer(required=False)


def self_link(context: Mapping[str, Any], path: str) -> dict[str, Any]:
    request = context.get("request")
    href = request.build_absolute_uri(path) if request is not None else path
    return {"self": {"href": href}}


class PresenceSerializer(S.Serializer):
    status = S.CharField()
    online = S.BooleanField()


class ChatUserResourceSerializer(S.Serializer):
    type = S.ChoiceField(choices=["PERSON", "BOT"])
    id = S.IntegerField()
    name = S.CharField()
    displayName = S.CharField()
    displayPictureUrl = S.CharField()
    isGuest = S.BooleanField()
    presence = PresenceSerializer()
    properties = S.DictField()
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: ChatUser) -> dict[str, Any]:
        data = resources.user_properties(instance)
        data["_links"] = self_link(self.context, f"/v1/users/{instance.pk}")
        return data


class MessageResourceSerializer(S.Serializer):
    type = S.ChoiceField(choices=Message.Type.values)
    id = S.IntegerField()
    channelId = S.IntegerField()
    nestedLevel = S.IntegerField()
    properties = S.DictField()
    createdTime = S.DateTimeField()
    sequence = S.IntegerField(required=False, help_text="Per-channel, gap-free sequence number.")
    body = S.CharField(required=False)
    file = S.DictField(required=False)
    user = ChatUserResourceSerializer(required=False)
    groupTag = S.CharField(required=False)
    repliesCount = S.IntegerField(required=False)
    lastEditedTime = S.DateTimeField(required=False)
    threadId = S.IntegerField(required=False)
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: Message) -> dict[str, Any]:
        data = resources.message_properties(instance)
        data["_links"] = self_link(self.context, f"/v1/messages/{instance.pk}")
        return data


class ChannelResourceSerializer(S.Serializer):
    type = S.ChoiceField(choices=Channel.Type.values)
    id = S.IntegerField()
    createdTime = S.DateTimeField()
    properties = S.DictField()
    name = S.CharField(required=False, help_text="PUBLIC and PRIVATE channels.")
    displayName = S.CharField(required=False, help_text="PUBLIC and PRIVATE channels.")
    members = ChatUserResourceSerializer(many=True, required=False, help_text="DIRECT only.")
    creator = ChatUserResourceSerializer(required=False)
    lastReceivedMessage = MessageResourceSerializer(required=False)
    persistent = S.BooleanField(help_text="False: messages are delivered live and not stored.")
    lastSequence = S.IntegerField()
    frozen = S.BooleanField(required=False)
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: Channel) -> dict[str, Any]:
        members = self.context.get("direct_members", {}).get(instance.pk)
        if instance.type == Channel.Type.DIRECT and members is None:
            from ..selectors import direct_members

            members = direct_members([instance]).get(instance.pk, [])
        data = resources.channel_properties(instance, members=members)
        data["_links"] = self_link(self.context, f"/v1/channels/{instance.pk}")
        return data


class ApplicationResourceSerializer(S.Serializer):
    id = S.IntegerField()
    key = S.CharField()
    name = S.CharField()
    properties = S.DictField()
    createdTime = S.DateTimeField()
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: Application) -> dict[str, Any]:
        data = resources.application_properties(instance)
        data["_links"] = self_link(self.context, "/v1/application")
        return data


class ApplicationSettingsSerializer(S.Serializer):
    guestUsers = S.ChoiceField(choices=["DISABLED", "ENABLED"])
    persistenceDefault = S.BooleanField(required=False)
    signupEnabled = S.BooleanField(required=False)
    webhookUrl = S.CharField(required=False, allow_blank=True)
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: Application) -> dict[str, Any]:
        return {
            "guestUsers": "ENABLED" if instance.guest_users_enabled else "DISABLED",
            "persistenceDefault": instance.persistence_default,
            "signupEnabled": instance.signup_enabled,
            "webhookUrl": instance.webhook_url,
            "_links": self_link(self.context, "/v1/application/settings"),
        }


class ReplyThreadResourceSerializer(S.Serializer):
    type = S.ChoiceField(choices=Thread.Type.values)
    id = S.IntegerField()
    properties = S.DictField()
    createdTime = S.DateTimeField()
    channelId = S.IntegerField()
    name = S.CharField(required=False)
    parentMessageId = S.IntegerField(required=False)
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: Thread) -> dict[str, Any]:
        data = resources.thread_properties(instance)
        data["_links"] = self_link(self.context, f"/v1/threads/{instance.pk}")
        return data


class NotificationResourceSerializer(S.Serializer):
    id = S.IntegerField()
    title = S.CharField()
    body = S.CharField()
    # The metaclass pops declared fields off the class, so `data` does not shadow `.data`.
    data = S.DictField()  # type: ignore[assignment]
    muted = S.BooleanField()
    createdTime = S.DateTimeField()
    readTime = S.DateTimeField(required=False)
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: Notification) -> dict[str, Any]:
        data = resources.notification_properties(instance)
        data["_links"] = self_link(self.context, f"/v1/users/{instance.user_id}/notifications")
        return data


class MembershipResourceSerializer(S.Serializer):
    createdTime = S.DateTimeField()
    role = S.CharField()
    user = ChatUserResourceSerializer()
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "createdTime": resources.timestamp(instance.created_time),
            "role": instance.role,
            "user": resources.user_properties(instance.user),
            "_links": self_link(self.context, f"/v1/channels/{instance.channel_id}/memberships"),
        }


class InviteResourceSerializer(S.Serializer):
    createdTime = S.DateTimeField()
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "createdTime": resources.timestamp(instance.created_time),
            "user": resources.user_properties(instance.user),
            "_links": self_link(self.context, f"/v1/channels/{instance.channel_id}/invites"),
        }


class ReadReceiptResourceSerializer(S.Serializer):
    user = ChatUserResourceSerializer()
    createdTime = S.DateTimeField()
    _links = LinksSerializer(required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "user": resources.user_properties(instance.user),
            "createdTime": resources.timestamp(instance.read_time),
            "_links": self_link(self.context, "/v1/messages"),
        }


class GenericEventResourceSerializer(S.Serializer):
    type = S.CharField()
    properties = S.DictField()
    user = ChatUserResourceSerializer(required=False)
    _links = LinksSerializer(required=False)


class SecretResourceSerializer(S.Serializer):
    secret = S.DictField(required=False)


class ApiErrorSerializer(S.Serializer):
    error = S.CharField()
    message = S.CharField()
    timestamp = S.CharField()
    explanation = S.CharField(required=False)
    properties = S.DictField(required=False)
    error_description = S.CharField(required=False)


# --- request bodies (documentation; the services validate strictly) ------------------------------


class UserReferenceSerializer(S.Serializer):
    id = S.IntegerField(required=False)
    username = S.CharField(required=False)


class CreateChannelRequestSerializer(S.Serializer):
    type = S.ChoiceField(choices=Channel.Type.values)
    name = S.CharField(required=False, max_length=100)
    displayName = S.CharField(required=False, max_length=100)
    properties = S.DictField(required=False)
    creator = UserReferenceSerializer(required=False)
    members = UserReferenceSerializer(many=True, required=False)


class ChannelPropertiesPatchSerializer(S.Serializer):
    displayName = S.CharField(required=False, max_length=100)
    properties = S.DictField(required=False)


class CreateChannelInviteSerializer(S.Serializer):
    user = UserReferenceSerializer()


class SendMessageRequestSerializer(S.Serializer):
    type = S.ChoiceField(choices=["TEXT", "FILE"])
    body = S.CharField(required=False)
    file = S.DictField(required=False)
    user = UserReferenceSerializer(required=False)
    groupTag = S.CharField(required=False)
    properties = S.DictField(required=False)
    idempotencyKey = S.CharField(required=False, max_length=100)


class MessagePatchSerializer(S.Serializer):
    body = S.CharField(required=False)
    properties = S.DictField(required=False)


class CreateGenericEventSerializer(S.Serializer):
    type = S.CharField()
    properties = S.DictField()


class CreateUserRequestSerializer(S.Serializer):
    name = S.CharField(max_length=100)
    displayName = S.CharField(max_length=100)
    isGuest = S.BooleanField()
    properties = S.DictField(required=False)


class UserPatchSerializer(S.Serializer):
    displayName = S.CharField(required=False)
    isGuest = S.BooleanField(required=False)
    presence = inline_serializer(
        "PresencePatch", {"status": S.CharField(required=False)}, required=False
    )
    properties = S.DictField(required=False)


class ExternalFileSerializer(S.Serializer):
    url = S.CharField()
    name = S.CharField()
    contentType = S.CharField()
    size = S.IntegerField()


class AccessTokenSerializer(S.Serializer):
    accessToken = S.CharField()
    expiresIn = S.IntegerField()
    tokenType = S.CharField()


class CountSerializer(S.Serializer):
    count = S.IntegerField()


class UnreadSerializer(S.Serializer):
    unread = S.BooleanField()
    count = S.IntegerField()


class PageMetadataSerializer(S.Serializer):
    size = S.IntegerField(help_text="The requested page size.")
    totalElements = S.IntegerField()
    totalPages = S.IntegerField()
    number = S.IntegerField(help_text="Zero-based page index.")

    class Meta:
        ref_name = "PageMetadata"


class CursorPageMetadataSerializer(S.Serializer):
    size = S.IntegerField()

    class Meta:
        ref_name = "CursorPageMetadata"


def paged(name: str, key: str, item: type[S.Serializer]) -> S.Serializer:
    return inline_serializer(
        name,
        {
            "_embedded": inline_serializer(f"{name}Embedded", {key: item(many=True)}),
            "_links": S.DictField(),
            "page": PageMetadataSerializer(),
        },
    )


def cursor_paged(name: str, key: str, item: type[S.Serializer]) -> S.Serializer:
    return inline_serializer(
        name,
        {
            "_embedded": inline_serializer(f"{name}Embedded", {key: item(many=True)}),
            "_links": S.DictField(),
            "page": CursorPageMetadataSerializer(),
        },
    )
