"""The chat pages: channel list, create, channel page and its actions.

Every page works without JavaScript (plain forms, POST then redirect); `static/chat.js` adds the
live parts over the websocket. Views fetch through `access_channel` and selectors and change state
only through services; service errors become form errors or a message on the next page.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from .. import selectors
from ..access import access_channel, membership_of, resolve_user_reference
from ..exceptions import ChatError, NotFound
from ..models import Channel, ChatUser, Membership, Message
from ..resources import message_properties
from ..services import channels as channel_services
from ..services import messages as message_services
from ..services import reads as read_services
from .forms import AddMemberForm, ChannelForm, MessageForm, add_chat_error, human_message
from .site import ChatRequest, chat_view

CHANNELS_PER_PAGE = 20
HISTORY_PAGE = 50
MEMBERS_SHOWN = 200
GONE = "That channel does not exist any more, or you cannot see it."


# --- helpers -------------------------------------------------------------------------------------


def channel_title(channel: Channel, members: list[ChatUser], me: ChatUser) -> str:
    """What people call a channel: its display name, or the other people of a DIRECT one."""
    if channel.type != Channel.Type.DIRECT:
        return channel.display_name or channel.name or ""
    others = [member.display_name for member in members if member.pk != me.pk]
    return ", ".join(others) or me.display_name


def page(
    request: ChatRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render with what every signed-in page shows (the header's total unread count)."""
    context.setdefault("total_unread", selectors.total_unread_count(request.chat_user))
    context["me"] = request.chat_user
    return render(request, template, context, status=status)


def gone(request: ChatRequest) -> HttpResponse:
    """A stale form about a channel that is deleted (or was never visible): say so, go home."""
    messages.error(request, GONE)
    return redirect("web:channel-list")


def channel_url(channel_id: int, anchor: str = "") -> str:
    url = reverse("web:channel", args=[channel_id])
    return f"{url}#{anchor}" if anchor else url


def parse_cursor(value: str | None) -> int | None:
    if value and value.isdigit() and len(value) <= 18 and int(value) > 0:
        return int(value)
    return None


def history(channel: Channel, before: int | None) -> tuple[list[Message], bool]:
    """Up to HISTORY_PAGE top-level messages before the `before` sequence (oldest first), and
    whether older ones exist."""
    queryset = Message.objects.filter(channel=channel, thread__isnull=True).select_related("user")
    if before is not None:
        queryset = queryset.filter(sequence__lt=before)
    window = list(queryset.order_by("-sequence")[: HISTORY_PAGE + 1])
    return window[:HISTORY_PAGE][::-1], len(window) > HISTORY_PAGE


@dataclass(frozen=True)
class ChannelRow:
    channel: Channel
    title: str
    unread: int
    preview: str
    preview_author: str


# --- channel list --------------------------------------------------------------------------------


@require_GET
@chat_view
def channel_list(request: ChatRequest) -> HttpResponse:
    """Joined channels (with unread badges) or PUBLIC ones to browse, most recent activity first."""
    tab = "browse" if request.GET.get("tab") == "browse" else "joined"
    queryset = (
        selectors.channels_for(request.actor, joined=tab == "joined")
        .select_related("last_message__user")
        .order_by(F("last_message_id").desc(nulls_last=True), "-id")
    )
    paginator = Paginator(queryset, CHANNELS_PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    channels = list(page_obj.object_list)
    counts = (
        selectors.unread_counts(request.chat_user, [channel.pk for channel in channels])
        if tab == "joined"
        else {}
    )
    members = selectors.direct_members(channels)
    rows = []
    for channel in channels:
        last = channel.last_message
        rows.append(
            ChannelRow(
                channel=channel,
                title=channel_title(channel, members.get(channel.pk, []), request.chat_user),
                unread=counts.get(channel.pk, 0),
                preview=(last.body or (last.file or {}).get("name", "")) if last else "",
                preview_author=last.user.display_name if last and last.user else "",
            )
        )
    return page(
        request,
        "web/channel_list.html",
        {"tab": tab, "rows": rows, "page_obj": page_obj},
    )


@require_GET
@chat_view
def unread(request: ChatRequest) -> JsonResponse:
    """Badges after a reconnect: `?ids=1,2,3` (the channels on the page, at most 100)."""
    ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.isdigit()][:100]
    visible = list(
        selectors.channels_for(request.actor, joined=True)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    counts = selectors.unread_counts(request.chat_user, visible)
    return JsonResponse(
        {
            "total": selectors.total_unread_count(request.chat_user),
            "channels": {str(pk): counts.get(pk, 0) for pk in visible},
        }
    )


# --- create --------------------------------------------------------------------------------------


@chat_view
def channel_create(request: ChatRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["type"]
        try:
            if kind == Channel.Type.DIRECT:
                people = [
                    resolve_user_reference(request.actor, {"username": name})
                    for name in form.member_names()
                    if name != request.chat_user.name
                ]
                if not people:
                    form.add_error("members", "Pick at least one other person.")
                    raise _FormInvalid
                channel, created = channel_services.create_channel(
                    actor=request.actor, type=kind, members=people
                )
            else:
                channel, created = channel_services.create_channel(
                    actor=request.actor,
                    type=kind,
                    name=form.cleaned_data["name"],
                    display_name=form.cleaned_data["display_name"] or None,
                )
        except _FormInvalid:
            pass
        except ChatError as error:
            add_chat_error(
                form,
                error,
                {"name": "name", "displayName": "display_name", "type": "type"},
                default="members" if kind == Channel.Type.DIRECT else None,
            )
        else:
            if not created:
                messages.info(request, "You already have a direct channel with them: here it is.")
            return redirect(channel_url(channel.pk))
    status = 400 if request.method == "POST" else 200
    return page(request, "web/channel_create.html", {"form": form}, status=status)


class _FormInvalid(Exception):
    pass


# --- channel page --------------------------------------------------------------------------------


@require_GET
@chat_view
def channel_detail(request: ChatRequest, channel_id: int) -> HttpResponse:
    try:
        channel = access_channel(request.actor, channel_id)
    except NotFound:
        raise Http404(GONE) from None
    return render_channel(request, channel)


def render_channel(
    request: ChatRequest,
    channel: Channel,
    *,
    message_form: MessageForm | None = None,
    member_form: AddMemberForm | None = None,
    status: int = 200,
) -> HttpResponse:
    me = request.chat_user
    membership = membership_of(me, channel)
    before = parse_cursor(request.GET.get("before"))
    window, has_older = history(channel, before)
    if membership is not None and before is None and status == 200:
        # Viewing the latest messages reads the channel (one upsert).
        read_services.read_channel(actor=request.actor, channel_id=channel.pk)
    memberships = list(selectors.memberships_of(channel)[: MEMBERS_SHOWN + 1])
    members = [m.user for m in memberships]
    is_moderator = membership is not None and membership.role == Membership.Role.MODERATOR
    context = {
        "channel": channel,
        "title": channel_title(channel, members, me),
        "membership": membership,
        "window": window,
        "has_older": has_older,
        "older_cursor": window[0].sequence if window and has_older else None,
        "at_latest": before is None,
        "last_sequence": channel.last_sequence if before is None else 0,
        "memberships": memberships[:MEMBERS_SHOWN],
        "more_members": len(memberships) > MEMBERS_SHOWN,
        "can_join": membership is None and channel.type == Channel.Type.PUBLIC,
        "can_leave": membership is not None and channel.type != Channel.Type.DIRECT,
        "can_add": membership is not None and channel.type != Channel.Type.DIRECT,
        "can_delete": channel.creator_id == me.pk or is_moderator,
        "can_post": membership is not None and not channel.frozen,
        "message_form": message_form or MessageForm(),
        "member_form": member_form or AddMemberForm(),
    }
    return page(request, "web/channel_detail.html", context, status=status)


@require_GET
@chat_view
def channel_history(request: ChatRequest, channel_id: int) -> JsonResponse:
    """Older messages for the page's "load older" link (`?before=<sequence>`), as JSON."""
    try:
        channel = access_channel(request.actor, channel_id)
    except NotFound as error:
        return JsonResponse(error.as_dict(), status=404)
    window, has_older = history(channel, parse_cursor(request.GET.get("before")))
    return JsonResponse(
        {
            "messages": [message_properties(message) for message in window],
            "before": window[0].sequence if window and has_older else None,
        }
    )


@require_POST
@chat_view
def message_create(request: ChatRequest, channel_id: int) -> HttpResponse:
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            message_services.send_message(
                actor=request.actor,
                channel_id=channel_id,
                body=form.cleaned_data["body"],
                idempotency_key=form.cleaned_data["idempotency_key"] or None,
            )
        except NotFound:
            return gone(request)
        except ChatError as error:
            add_chat_error(form, error, {"body": "body"}, default="body")
        else:
            return redirect(channel_url(channel_id, "composer"))
    try:
        channel = access_channel(request.actor, channel_id)
    except NotFound:
        return gone(request)
    return render_channel(request, channel, message_form=form, status=400)


@require_POST
@chat_view
def channel_join(request: ChatRequest, channel_id: int) -> HttpResponse:
    try:
        channel = channel_services.join_channel(actor=request.actor, channel_id=channel_id)
    except NotFound:
        return gone(request)
    except ChatError as error:
        messages.error(request, human_message(error))
    else:
        messages.success(request, f"You joined {channel.display_name or channel.name}.")
    return redirect(channel_url(channel_id))


@require_POST
@chat_view
def channel_leave(request: ChatRequest, channel_id: int) -> HttpResponse:
    try:
        channel = access_channel(request.actor, channel_id)
        channel_services.leave_channel(actor=request.actor, channel_id=channel_id)
    except NotFound:
        return gone(request)
    except ChatError as error:
        messages.error(request, human_message(error))
        return redirect(channel_url(channel_id))
    messages.success(request, f"You left {channel.display_name or channel.name}.")
    return redirect("web:channel-list")


@require_POST
@chat_view
def member_add(request: ChatRequest, channel_id: int) -> HttpResponse:
    try:
        channel = access_channel(request.actor, channel_id)
    except NotFound:
        return gone(request)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        try:
            user = resolve_user_reference(
                request.actor, {"username": form.cleaned_data["username"].strip()}
            )
            if membership_of(user, channel) is not None:
                messages.info(request, f"{user.display_name} is already a member.")
                return redirect(channel_url(channel.pk))
            channel_services.add_member(actor=request.actor, channel_id=channel.pk, user=user)
        except NotFound:
            return gone(request)
        except ChatError as error:
            add_chat_error(form, error, {"username": "username"}, default="username")
        else:
            messages.success(request, f"Added {user.display_name}.")
            return redirect(channel_url(channel.pk))
    return render_channel(request, channel, member_form=form, status=400)


@chat_view
def channel_delete(request: ChatRequest, channel_id: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes (creator or moderator)."""
    try:
        channel = access_channel(request.actor, channel_id)
    except NotFound:
        if request.method == "POST":
            return gone(request)
        raise Http404(GONE) from None
    if request.method == "POST":
        try:
            channel_services.delete_channel(actor=request.actor, channel_id=channel.pk)
        except NotFound:
            return gone(request)
        except ChatError as error:
            messages.error(request, human_message(error))
            return redirect(channel_url(channel.pk))
        messages.success(request, "The channel is deleted.")
        return redirect("web:channel-list")
    members = selectors.direct_members([channel]).get(channel.pk, [])
    return page(
        request,
        "web/channel_delete.html",
        {"channel": channel, "title": channel_title(channel, members, request.chat_user)},
    )
