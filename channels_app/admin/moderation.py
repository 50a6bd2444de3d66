"""The report queue and the audit log."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from ..actors import Actor
from ..models import AuditLogEntry, MessageReport
from ..services import moderation
from .channels import ChannelParamFilter
from .messages import excerpt
from .tenancy import ApplicationFilter, TenantAdmin


class ReportStatusFilter(admin.SimpleListFilter):
    """Open reports unless asked otherwise: the queue is what still needs a decision."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*MessageReport.Status.choices, ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        value = self.value() or MessageReport.Status.OPEN
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or MessageReport.Status.OPEN
        if value in MessageReport.Status.values:
            return queryset.filter(status=value)
        return queryset


@admin.register(MessageReport)
class MessageReportAdmin(TenantAdmin):
    list_display = (
        "id",
        "reported_message",
        "message_author",
        "reason",
        "reporter",
        "channel",
        "created_time",
        "status",
    )
    list_display_links = ("id",)
    list_select_related = ("channel", "message_author", "reporter")
    list_filter = (ReportStatusFilter, ChannelParamFilter, ApplicationFilter)
    search_fields = ("message_author__name__exact", "reporter__name__exact")
    search_help_text = "A report id, or the exact username of the author or the reporter."
    date_hierarchy = "created_time"
    ordering = ("-id",)
    fields = (
        "status",
        "application",
        "channel",
        "message",
        "message_author",
        "message_body",
        "reporter",
        "reason",
        "created_time",
        "resolved_time",
    )
    readonly_fields = fields
    actions = ("delete_reported_messages", "dismiss")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and self.has_tenant_access(request)

    @admin.display(description="Message")
    def reported_message(self, report: MessageReport) -> str:
        text = excerpt(report.message_body, 120)
        if report.message_id is None:
            return format_html("<del>{}</del> (deleted)", text)
        url = reverse("admin:channels_app_message_change", args=[report.message_id])
        return format_html('<a href="{}">{}</a>', url, text)

    @admin.action(description="Delete the reported messages", permissions=["change"])
    def delete_reported_messages(
        self, request: HttpRequest, queryset: QuerySet[MessageReport]
    ) -> None:
        def call(actor: Actor, rows: list[MessageReport], reason: str) -> int:
            return moderation.action_reports(
                actor=actor, report_ids=[row.pk for row in rows], reason=reason
            )

        self.run_action(request, queryset, call, "Deleted {count} reported message(s).")

    @admin.action(description="Dismiss the reports", permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[MessageReport]) -> None:
        def call(actor: Actor, rows: list[MessageReport], reason: str) -> int:
            return moderation.dismiss_reports(
                actor=actor, report_ids=[row.pk for row in rows], reason=reason
            )

        self.run_action(request, queryset, call, "Dismissed {count} report(s).")


class AuditActionFilter(admin.SimpleListFilter):
    """The known actions, not a DISTINCT over the log."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name.replace("_", " ")) for name in moderation.AUDIT_ACTIONS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(TenantAdmin):
    """Append-only: nobody, superusers included, adds, edits or deletes entries here."""

    list_display = (
        "created_time",
        "actor_label",
        "action",
        "target_type",
        "target_ids",
        "reason",
        "application",
    )
    list_display_links = ("created_time",)
    list_select_related = ("application",)
    list_filter = (AuditActionFilter, ApplicationFilter)
    search_fields = ("actor_label__exact",)
    search_help_text = "An exact actor, e.g. operator:alice or user:jane, or an entry id."
    date_hierarchy = "created_time"
    ordering = ("-id",)
    fields = (
        "created_time",
        "application",
        "actor_label",
        "actor_operator",
        "actor_user",
        "action",
        "target_type",
        "target_ids",
        "reason",
        "details",
    )
    readonly_fields = fields
    actions = ()

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
