"""Fetch-and-authorize helpers: one call finds a row *and* checks the actor may see it.

Missing, another application's and invisible rows all raise the same `NotFound`, so an id never
reveals whether it exists elsewhere.
"""

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from .actors import Actor
from .exceptions import InvalidInput, NotFound, PermissionDenied, not_found
from .models import Channel, ChatUser, Membership, Message, Thread


def channel_queryset() -> QuerySet[Channel]:
    return Channel.objects.select_related("creator", "last_message__user")


def visible_channels(actor: Actor) -> QuerySet[Channel]:
    """Channels the actor may see: all of the application's for the application itself; PUBLIC
    ones and those they are a member of for a user."""
    queryset = Channel.objects.filter(application=actor.application)
    if actor.user is None:
        return queryset
    member = Membership.objects.filter(channel=OuterRef("pk"), user=actor.user)
    return queryset.filter(Q(type=Channel.Type.PUBLIC) | Q(Exists(member)))


def access_channel(actor: Actor, channel_id: Any, *, lock: bool = False) -> Channel:
    """The channel if the actor may see it. With `lock`, the row is locked (select_for_update):
    call inside a transaction."""
    queryset = visible_channels(actor)
    if lock:
        return _one_channel(queryset.select_for_update(of=("self",)), channel_id)
    return _one_channel(queryset.select_related("creator", "last_message__user"), channel_id)


def lock_channel_for(actor: Actor, channel_id: Any, user: ChatUser) -> tuple[Channel, bool]:
    """`access_channel(lock=True)` and whether `user` is a member of the channel, in one query
    (a send's first statement: one round trip fewer under the row lock)."""
    member = Exists(Membership.objects.filter(channel=OuterRef("pk"), user=user))
    queryset = visible_channels(actor).annotate(has_member=member)
    channel = _one_channel(queryset.select_for_update(of=("self",)), channel_id)
    return channel, channel.has_member


def _one_channel[Row](queryset: QuerySet[Any, Row], channel_id: Any) -> Row:
    """The channel `channel_id` names in `queryset`, or the same NotFound for every miss."""
    try:
        return queryset.get(pk=parse_id(channel_id, "Channel"))
    except Channel.DoesNotExist:
        raise not_found("Channel") from None


def access_user(actor: Actor, user_id: Any) -> ChatUser:
    """Any user of the actor's application (user lists are public within an application)."""
    user_pk = parse_id(user_id, "User")
    try:
        return ChatUser.objects.get(application=actor.application, pk=user_pk)
    except ChatUser.DoesNotExist:
        raise not_found("User") from None


def access_message(actor: Actor, message_id: Any) -> Message:
    """The message if the actor may see its channel."""
    message_pk = parse_id(message_id, "Message")
    try:
        message = Message.objects.select_related("user", "channel").get(
            application=actor.application, pk=message_pk
        )
    except Message.DoesNotExist:
        raise not_found("Message") from None
    if (
        actor.user is not None
        and message.channel.type != Channel.Type.PUBLIC
        and not Membership.objects.filter(channel_id=message.channel_id, user=actor.user).exists()
    ):
        raise not_found("Message")
    return message


def access_thread(actor: Actor, thread_id: Any) -> Thread:
    thread_pk = parse_id(thread_id, "Thread")
    try:
        thread = Thread.objects.select_related("channel").get(
            channel__application=actor.application, pk=thread_pk
        )
    except Thread.DoesNotExist:
        raise not_found("Thread") from None
    if (
        actor.user is not None
        and thread.channel.type != Channel.Type.PUBLIC
        and not Membership.objects.filter(channel_id=thread.channel_id, user=actor.user).exists()
    ):
        raise not_found("Thread")
    return thread


def membership_of(user: ChatUser | None, channel: Channel) -> Membership | None:
    if user is None:
        return None
    return Membership.objects.filter(channel=channel, user=user).first()


def require_member(actor: Actor, channel: Channel) -> Membership | None:
    """The actor's membership; the application itself passes with None."""
    if actor.user is None:
        return None
    membership = membership_of(actor.user, channel)
    if membership is None:
        raise PermissionDenied("Only members of this channel may do this.")
    return membership


def resolve_user_reference(actor: Actor, reference: Any, *, target: bool = False) -> ChatUser:
    """A `{"id": n}` or `{"username": s}` reference. Unknown users are a 400 inside a body and a
    404 when the user is the target of the call (`target=True`)."""
    if not isinstance(reference, dict):
        raise InvalidInput("A user reference must be an object with `id` or `username`.")
    has_id = reference.get("id") is not None
    has_name = reference.get("username") is not None
    if has_id == has_name:
        raise InvalidInput("A user reference needs exactly one of `id` or `username`.")
    lookup: dict[str, Any] = {"application": actor.application}
    if has_id:
        user_id = reference["id"]
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise InvalidInput("A user reference `id` must be an integer.")
        lookup["pk"] = user_id
    else:
        username = reference["username"]
        if not isinstance(username, str):
            raise InvalidInput("A user reference `username` must be a string.")
        lookup["name"] = username
    try:
        return ChatUser.objects.get(**lookup)
    except ChatUser.DoesNotExist:
        label = reference.get("username") or reference.get("id")
        if target:
            raise NotFound(f"User {label} not found.") from None
        raise InvalidInput(f"User {label} not found.") from None


def parse_id(value: Any, resource: str) -> int:
    """Path ids are int64; anything else reads like a missing row."""
    if isinstance(value, bool):
        raise not_found(resource)
    if isinstance(value, int):
        pk = value
    else:
        text = str(value)
        # ASCII only: str.isdigit() also accepts "²" and "U+FF11", which int() rejects or reads.
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise not_found(resource)
        pk = int(text)
    if pk <= 0:
        raise not_found(resource)
    return pk
