"""Chat users: create and edit through the user services; deactivate and reactivate."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from ..actors import Actor
from ..models import ChatUser, UserAccessToken
from ..services import accounts, moderation
from ..services import users as user_services
from .forms import ServiceModelForm, merge_patch_from
from .tenancy import ApplicationFilter, TenantAdmin


class ChatUserAddForm(ServiceModelForm):
    web_password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Optional: also create a web chat login (username = the user's name) with "
        "this password.",
    )

    class Meta:
        model = ChatUser
        fields = ["application", "name", "display_name", "is_guest", "properties"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["display_name"].required = False

    def apply(self) -> Model:
        data = self.cleaned_data
        if data.get("web_password"):
            # The operator creates a web account: the same service as sign-up and the command.
            return accounts.create_account(
                application=data["application"],
                username=data["name"],
                password=data["web_password"],
                display_name=data["display_name"] or None,
            )
        return user_services.create_user(
            actor=self.actor(data["application"]),
            name=data["name"],
            display_name=data["display_name"] or None,
            is_guest=data["is_guest"],
            properties=data["properties"],
        )


class ChatUserChangeForm(ServiceModelForm):
    class Meta:
        model = ChatUser
        fields = ["display_name", "is_guest", "properties"]

    def apply(self) -> Model:
        user = self.admin_object
        assert isinstance(user, ChatUser)
        data = self.cleaned_data
        return user_services.update_user(
            actor=self.actor(user.application),
            user_id=user.pk,
            patch={
                "displayName": data["display_name"],
                "isGuest": data["is_guest"],
                "properties": merge_patch_from(user.properties, data["properties"]),
            },
        )


@admin.register(ChatUser)
class ChatUserAdmin(TenantAdmin):
    can_add = True
    can_change = True
    form = ChatUserChangeForm
    add_form = ChatUserAddForm
    add_fieldsets = ((None, {"fields": [*ChatUserAddForm.Meta.fields, "web_password"]}),)
    list_display = (
        "id",
        "name",
        "display_name",
        "application",
        "kind",
        "is_guest",
        "is_online",
        "is_active",
        "created_time",
    )
    list_display_links = ("id", "name")
    list_select_related = ("application",)
    list_filter = (ApplicationFilter, "is_active", "is_online", "is_guest", "kind")
    search_fields = ("name__startswith",)
    search_help_text = "A username (or its beginning), or a user id."
    ordering = ("-id",)
    readonly_fields = (
        "application",
        "name",
        "kind",
        "is_online",
        "presence_status",
        "is_active",
        "created_time",
        "account",
        "display_picture_url",
    )
    fieldsets = (
        (None, {"fields": ("application", "name", "display_name", "is_guest", "properties")}),
        (
            "State",
            {
                "fields": (
                    "is_active",
                    "is_online",
                    "presence_status",
                    "kind",
                    "created_time",
                    "account",
                    "display_picture_url",
                )
            },
        ),
    )
    actions = ("deactivate", "reactivate")

    @admin.action(description="Deactivate: revoke tokens, close sessions", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ChatUser]) -> None:
        def call(actor: Actor, rows: list[ChatUser], reason: str) -> int:
            for user in rows:
                moderation.deactivate_user(actor=actor, user_id=user.pk, reason=reason)
            return len(rows)

        self.run_action(request, queryset, call, "Deactivated {count} user(s).")

    @admin.action(description="Reactivate", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[ChatUser]) -> None:
        def call(actor: Actor, rows: list[ChatUser], reason: str) -> int:
            for user in rows:
                moderation.reactivate_user(actor=actor, user_id=user.pk, reason=reason)
            return len(rows)

        self.run_action(request, queryset, call, "Reactivated {count} user(s).")


@admin.register(UserAccessToken)
class UserAccessTokenAdmin(TenantAdmin):
    """Read-only: tokens are minted by the application's backend; deactivating revokes them."""

    tenant_field = "user__application"
    list_display = ("id", "user", "created_time", "expires", "revoked_time")
    list_select_related = ("user",)
    list_filter = (ApplicationFilter, ("revoked_time", admin.EmptyFieldListFilter))
    search_fields = ("user__name__exact",)
    ordering = ("-id",)
    fields = ("user", "created_time", "expires", "revoked_time")
    readonly_fields = fields
