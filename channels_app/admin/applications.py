"""Applications: created by superusers (the client secret is shown once), settings and webhook
edited through the application service, credentials rotated by action."""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ..models import Application
from ..services import applications as application_services
from ..services import moderation
from .forms import ServiceModelForm
from .tenancy import TenantAdmin, operator_actor


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


class ApplicationAddForm(ServiceModelForm):
    class Meta:
        model = Application
        fields = ["name", "guest_users_enabled"]

    def apply(self) -> Model:
        application, client_secret = application_services.create_application(
            name=self.cleaned_data["name"],
            guest_users_enabled=self.cleaned_data["guest_users_enabled"],
        )
        application.new_client_secret = client_secret  # type: ignore[attr-defined]
        return application


class ApplicationChangeForm(ServiceModelForm):
    class Meta:
        model = Application
        fields = [
            "persistence_default",
            "guest_users_enabled",
            "signup_enabled",
            "webhook_url",
            "operators",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "operators" in self.fields:
            self.fields["operators"].queryset = get_user_model().objects.filter(  # type: ignore[attr-defined]
                is_staff=True, is_active=True
            )

    def apply(self) -> Model:
        application = self.admin_object
        assert isinstance(application, Application)
        data = self.cleaned_data
        actor = self.actor(application)
        application_services.update_settings(
            actor=actor,
            guest_users="ENABLED" if data["guest_users_enabled"] else "DISABLED",
            persistence_default=data["persistence_default"],
            signup_enabled=data["signup_enabled"],
            webhook_url=data["webhook_url"] or "",
        )
        if "operators" in data:
            moderation.set_operators(actor=actor, operator_ids=[u.pk for u in data["operators"]])
        return Application.objects.get(pk=application.pk)


@admin.register(Application)
class ApplicationAdmin(TenantAdmin):
    tenant_field = "id"
    can_change = True
    form = ApplicationChangeForm
    add_form = ApplicationAddForm
    add_fieldsets = ((None, {"fields": ("name", "guest_users_enabled")}),)
    list_display = (
        "id",
        "name",
        "guest_users_enabled",
        "signup_enabled",
        "persistence_default",
        "webhook_url",
        "created_time",
    )
    list_display_links = ("id", "name")
    search_fields = ("name",)
    ordering = ("id",)
    filter_horizontal = ("operators",)
    readonly_fields = ("name", "client_id", "api_key", "webhook_secret_hint", "created_time")
    actions = ("rotate_client_secret", "rotate_api_key", "rotate_webhook_secret")

    def scope(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        from .tenancy import operated_application_ids

        ids = operated_application_ids(request)
        return queryset if ids is None else queryset.filter(pk__in=ids)

    def tenant_id_of(self, obj: Model) -> int:
        return int(obj.pk)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return bool(request.user.is_superuser)

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        settings = ["persistence_default", "guest_users_enabled", "signup_enabled"]
        fieldsets: list[Any] = [
            (None, {"fields": ["name", "created_time"]}),
            (
                "Credentials",
                {
                    "fields": ["client_id", "api_key", "webhook_secret_hint"],
                    "description": "Secrets are shown once, when created or rotated (see the "
                    "actions on the application list).",
                },
            ),
            ("Settings", {"fields": settings}),
            ("Webhook", {"fields": ["webhook_url"]}),
        ]
        if request.user.is_superuser:
            fieldsets.append(("Operators", {"fields": ["operators"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return () if obj is None else self.readonly_fields

    @admin.display(description="OAuth client id")
    def client_id(self, application: Application) -> str:
        return application.oauth_client.client_id if application.oauth_client else "-"

    @admin.display(description="Webhook secret")
    def webhook_secret_hint(self, application: Application) -> str:
        return f"…{application.webhook_secret[-4:]}"

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        """The client secret is only known now (its hash is stored): show it this once."""
        secret = getattr(obj, "new_client_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self.credentials_page(
            request,
            "Application created",
            [
                (
                    obj,
                    [
                        ("OAuth client id", obj.oauth_client.client_id),
                        ("OAuth client secret", secret),
                        ("API key", obj.api_key),
                        ("Webhook secret", obj.webhook_secret),
                    ],
                )
            ],
        )

    def credentials_page(
        self, request: HttpRequest, title: str, rows: list[tuple[Application, list[Any]]]
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "rows": rows,
        }
        response = TemplateResponse(request, "admin/channels_app/credentials.html", context)
        return no_store(response)

    def _rotate(
        self, request: HttpRequest, queryset: QuerySet[Application], which: str, label: str
    ) -> HttpResponse:
        rows = []
        for application in queryset:
            value = moderation.rotate_credential(
                actor=operator_actor(request, application), which=which
            )
            rows.append((application, [(label, value)]))
        return self.credentials_page(request, f"New {label.lower()}", rows)

    @admin.action(description="Rotate the OAuth client secret", permissions=["change"])
    def rotate_client_secret(
        self, request: HttpRequest, queryset: QuerySet[Application]
    ) -> HttpResponse:
        return self._rotate(request, queryset, "client_secret", "OAuth client secret")

    @admin.action(description="Rotate the API key", permissions=["change"])
    def rotate_api_key(self, request: HttpRequest, queryset: QuerySet[Application]) -> HttpResponse:
        return self._rotate(request, queryset, "api_key", "API key")

    @admin.action(description="Rotate the webhook secret", permissions=["change"])
    def rotate_webhook_secret(
        self, request: HttpRequest, queryset: QuerySet[Application]
    ) -> HttpResponse:
        return self._rotate(request, queryset, "webhook_secret", "Webhook secret")
