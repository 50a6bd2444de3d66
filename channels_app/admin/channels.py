"""Channels and their members: created, edited and moderated through the channel services."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from ..access import access_channel
from ..actors import Actor
from ..exceptions import InvalidInput
from ..models import (
    Channel,
    ChannelBan,
    ChannelInvite,
    ChatUser,
    Membership,
    ReadReceipt,
    Thread,
)
from ..services import channels as channel_services
from ..services import moderation
from .forms import ServiceModelForm, merge_patch_from, user_autocomplete_multiple
from .tenancy import COUNT_CAP, ApplicationFilter, TenantAdmin, operated_application_ids

MEMBERS_PREVIEW = 20


def _scoped_users(form: ServiceModelForm) -> QuerySet[ChatUser]:
    ids = operated_application_ids(form.request)
    users = ChatUser.objects.all()
    return users if ids is None else users.filter(application_id__in=ids)


class ChannelAddForm(ServiceModelForm):
    members = forms.ModelMultipleChoiceField(
        queryset=ChatUser.objects.none(),
        required=False,
        widget=user_autocomplete_multiple(admin.site),
        help_text="DIRECT channels: 2 to 10 members, the creator included.",
    )

    class Meta:
        model = Channel
        fields = ["application", "type", "name", "display_name", "creator", "properties"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = _scoped_users(self)  # type: ignore[attr-defined]
        self.fields["name"].help_text = "PUBLIC and PRIVATE channels; unique in the application."

    def apply(self) -> Model:
        data = self.cleaned_data
        kind = data["type"]
        if kind == Channel.Type.DIRECT and (data["name"] or data["display_name"]):
            raise InvalidInput("DIRECT channels have no name.")
        channel, created = channel_services.create_channel(
            actor=self.actor(data["application"]),
            type=kind,
            name=data["name"] or None,
            display_name=data["display_name"] or None,
            properties=data["properties"],
            creator=data["creator"],
            members=list(data["members"]),
        )
        if not created:
            raise InvalidInput(
                f"A DIRECT channel with these members already exists (#{channel.pk})."
            )
        return channel


class ChannelChangeForm(ServiceModelForm):
    add_members = forms.ModelMultipleChoiceField(
        queryset=ChatUser.objects.none(),
        required=False,
        widget=user_autocomplete_multiple(admin.site),
        help_text="Added through the same rules as the API (never to a DIRECT channel, never a "
        "banned user).",
    )

    class Meta:
        model = Channel
        fields = ["display_name", "properties"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["add_members"].queryset = _scoped_users(self)  # type: ignore[attr-defined]

    def apply(self) -> Model:
        channel = self.admin_object
        assert isinstance(channel, Channel)
        actor = self.actor(channel.application)
        data = self.cleaned_data
        patch: dict[str, Any] = {}
        if data["display_name"] and data["display_name"] != channel.display_name:
            patch["displayName"] = data["display_name"]
        if data["properties"] != channel.properties:
            patch["properties"] = merge_patch_from(channel.properties, data["properties"])
        if patch:
            channel_services.update_channel(actor=actor, channel_id=channel.pk, patch=patch)
        for user in data["add_members"]:
            channel_services.add_member(actor=actor, channel_id=channel.pk, user=user)
        return access_channel(actor, channel.pk)


def _per_channel(
    modeladmin: TenantAdmin, request: HttpRequest, queryset: QuerySet[Channel], frozen: bool
) -> None:
    def call(actor: Actor, rows: list[Channel], reason: str) -> int:
        for channel in rows:
            moderation.set_channel_frozen(
                actor=actor, channel_id=channel.pk, frozen=frozen, reason=reason
            )
        return len(rows)

    modeladmin.run_action(
        request, queryset, call, ("Froze" if frozen else "Unfroze") + " {count} channel(s)."
    )


@admin.register(Channel)
class ChannelAdmin(TenantAdmin):
    can_add = True
    can_change = True
    form = ChannelChangeForm
    add_form = ChannelAddForm
    add_fieldsets = (
        (
            None,
            {
                "fields": (
                    "application",
                    "type",
                    "name",
                    "display_name",
                    "creator",
                    "members",
                    "properties",
                )
            },
        ),
    )
    list_display = (
        "id",
        "__str__",
        "display_name",
        "type",
        "application",
        "frozen",
        "persistent",
        "last_sequence",
        "created_time",
    )
    list_display_links = ("id", "__str__")
    list_select_related = ("application",)
    list_filter = (ApplicationFilter, "type", "frozen", ("created_time", DateFieldListFilter))
    search_fields = ("name__startswith",)
    search_help_text = "A channel name (or its beginning), or a channel id."
    ordering = ("-id",)
    autocomplete_fields = ("creator",)
    readonly_fields = (
        "application",
        "type",
        "name",
        "creator",
        "frozen",
        "persistent",
        "last_sequence",
        "created_time",
        "members_preview",
    )
    fieldsets = (
        (None, {"fields": ("application", "type", "name", "display_name", "properties")}),
        ("State", {"fields": ("frozen", "persistent", "last_sequence", "creator", "created_time")}),
        ("Members", {"fields": ("members_preview", "add_members")}),
    )
    actions = ("freeze", "unfreeze", "delete_channels")

    @admin.display(description="Members")
    def members_preview(self, channel: Channel) -> str:
        """The first members (moderators first) and a link to all of them: never every row."""
        rows = list(
            Membership.objects.filter(channel=channel)
            .select_related("user")
            .order_by("-role", "id")[: MEMBERS_PREVIEW + 1]
        )
        more = len(rows) > MEMBERS_PREVIEW
        total = (
            Membership.objects.filter(channel=channel).values("pk")[: COUNT_CAP + 1].count()
            if more
            else len(rows)
        )
        listing = reverse("admin:channels_app_membership_changelist")
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> {}</li>',
            (
                (
                    reverse("admin:channels_app_chatuser_change", args=[m.user_id]),
                    m.user.name,
                    "(moderator)" if m.role == Membership.Role.MODERATOR else "",
                )
                for m in rows[:MEMBERS_PREVIEW]
            ),
        )
        label = f"more than {COUNT_CAP:,}" if total > COUNT_CAP else f"{total:,}"
        return format_html(
            '<ul class="ck-members">{}</ul><a href="{}?channel={}">All {} members</a>',
            items,
            listing,
            channel.pk,
            label,
        )

    @admin.action(description="Freeze (no new messages)", permissions=["change"])
    def freeze(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        _per_channel(self, request, queryset, True)

    @admin.action(description="Unfreeze", permissions=["change"])
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        _per_channel(self, request, queryset, False)

    @admin.action(description="Delete channels (and their messages)", permissions=["change"])
    def delete_channels(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        def call(actor: Actor, rows: list[Channel], reason: str) -> int:
            return moderation.delete_channels(
                actor=actor, channel_ids=[row.pk for row in rows], reason=reason
            )

        self.run_action(request, queryset, call, "Deleted {count} channel(s).")


class ChannelParamFilter(admin.SimpleListFilter):
    """`?channel=<id>` (the channel page links here); no choices listed: there may be millions."""

    title = "channel"
    parameter_name = "channel"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        return [(value, f"#{value}")] if value and value.isdigit() else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(channel_id=int(value))
        return queryset


class MembershipAddForm(ServiceModelForm):
    class Meta:
        model = Membership
        fields = ["channel", "user", "role"]

    def apply(self) -> Model:
        data = self.cleaned_data
        channel: Channel = data["channel"]
        actor = self.actor(channel.application)
        channel_services.add_member(actor=actor, channel_id=channel.pk, user=data["user"])
        if data["role"] == Membership.Role.MODERATOR:
            return channel_services.set_member_role(
                actor=actor, channel_id=channel.pk, user=data["user"], role=data["role"]
            )
        return Membership.objects.get(channel=channel, user=data["user"])


class MembershipChangeForm(ServiceModelForm):
    class Meta:
        model = Membership
        fields = ["role"]

    def apply(self) -> Model:
        membership = self.admin_object
        assert isinstance(membership, Membership)
        return channel_services.set_member_role(
            actor=self.actor(membership.channel.application),
            channel_id=membership.channel_id,
            user=membership.user,
            role=self.cleaned_data["role"],
        )


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    tenant_field = "channel__application"
    can_add = True
    can_change = True
    form = MembershipChangeForm
    add_form = MembershipAddForm
    add_fieldsets = ((None, {"fields": ("channel", "user", "role")}),)
    list_display = ("id", "channel", "user", "role", "created_time")
    list_select_related = ("channel", "user")
    list_filter = (ChannelParamFilter, ApplicationFilter, "role")
    search_fields = ("user__name__exact", "channel__name__exact")
    search_help_text = "An exact username or channel name, or a membership id."
    ordering = ("-id",)
    autocomplete_fields = ("channel", "user")
    readonly_fields = ("channel", "user", "created_time")
    fields = ("channel", "user", "role", "created_time")
    actions = ("remove", "promote", "demote", "ban")

    @admin.action(description="Remove from the channel", permissions=["change"])
    def remove(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        def call(actor: Actor, rows: list[Membership], reason: str) -> int:
            return moderation.remove_members(actor=actor, memberships=rows, reason=reason)

        self.run_action(request, queryset, call, "Removed {count} member(s).")

    @admin.action(description="Promote to moderator", permissions=["change"])
    def promote(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        def call(actor: Actor, rows: list[Membership], reason: str) -> int:
            return moderation.set_roles(
                actor=actor, memberships=rows, role=Membership.Role.MODERATOR, reason=reason
            )

        self.run_action(request, queryset, call, "Promoted {count} member(s).")

    @admin.action(description="Demote to member", permissions=["change"])
    def demote(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        def call(actor: Actor, rows: list[Membership], reason: str) -> int:
            return moderation.set_roles(
                actor=actor, memberships=rows, role=Membership.Role.MEMBER, reason=reason
            )

        self.run_action(request, queryset, call, "Demoted {count} moderator(s).")

    @admin.action(description="Ban from the channel (removes them)", permissions=["change"])
    def ban(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        def call(actor: Actor, rows: list[Membership], reason: str) -> int:
            return moderation.ban_members(actor=actor, memberships=rows, reason=reason)

        self.run_action(request, queryset, call, "Banned {count} member(s).")


class ChannelBanAddForm(ServiceModelForm):
    class Meta:
        model = ChannelBan
        fields = ["channel", "user", "reason"]

    def apply(self) -> Model:
        data = self.cleaned_data
        channel: Channel = data["channel"]
        return moderation.ban_user(
            actor=self.actor(channel.application),
            channel_id=channel.pk,
            user=data["user"],
            reason=data["reason"],
        )


@admin.register(ChannelBan)
class ChannelBanAdmin(TenantAdmin):
    tenant_field = "channel__application"
    can_add = True
    add_form = ChannelBanAddForm
    add_fieldsets = ((None, {"fields": ("channel", "user", "reason")}),)
    list_display = ("id", "channel", "user", "reason", "created_time")
    list_select_related = ("channel", "user")
    list_filter = (ChannelParamFilter, ApplicationFilter)
    search_fields = ("user__name__exact", "channel__name__exact")
    ordering = ("-id",)
    autocomplete_fields = ("channel", "user")
    fields = ("channel", "user", "reason", "created_time")
    readonly_fields = fields
    actions = ("unban",)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Bans are lifted, not edited; the unban action needs this permission.
        return obj is None and self.has_tenant_access(request)

    @admin.action(description="Unban (they may join again)", permissions=["change"])
    def unban(self, request: HttpRequest, queryset: QuerySet[ChannelBan]) -> None:
        def call(actor: Actor, rows: list[ChannelBan], reason: str) -> int:
            return sum(
                moderation.unban_user(
                    actor=actor, channel_id=ban.channel_id, user=ban.user, reason=reason
                )
                for ban in rows
            )

        self.run_action(request, queryset, call, "Lifted {count} ban(s).")


@admin.register(ChannelInvite)
class ChannelInviteAdmin(TenantAdmin):
    tenant_field = "channel__application"
    list_display = ("id", "channel", "user", "invited_by", "created_time")
    list_select_related = ("channel", "user", "invited_by")
    list_filter = (ChannelParamFilter, ApplicationFilter)
    search_fields = ("user__name__exact", "channel__name__exact")
    ordering = ("-id",)
    fields = ("channel", "user", "invited_by", "created_time")
    readonly_fields = fields


@admin.register(ReadReceipt)
class ReadReceiptAdmin(TenantAdmin):
    tenant_field = "channel__application"
    list_display = ("id", "channel", "user", "last_read_sequence", "read_time")
    list_select_related = ("channel", "user")
    list_filter = (ChannelParamFilter, ApplicationFilter)
    search_fields = ("user__name__exact", "channel__name__exact")
    ordering = ("-id",)
    fields = ("channel", "user", "last_read_sequence", "read_time")
    readonly_fields = fields


@admin.register(Thread)
class ThreadAdmin(TenantAdmin):
    tenant_field = "channel__application"
    list_display = ("id", "channel", "type", "parent_message", "name", "created_time")
    list_select_related = ("channel", "parent_message")
    list_filter = (ChannelParamFilter, ApplicationFilter, "type")
    search_fields = ("channel__name__exact",)
    ordering = ("-id",)
    fields = ("channel", "type", "parent_message", "name", "properties", "created_time")
    readonly_fields = fields
