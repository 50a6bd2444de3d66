"""Message reports: members report a message (client API); the application lists a channel's
reported messages (Platform API). Operators act on them in the admin's report queue."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as S
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ... import resources
from ...access import access_channel
from ...exceptions import InvalidInput
from ...models import MessageReport
from ...services import moderation
from .. import serializers as s
from ..permissions import IsApplication, IsAuthenticatedActor
from .base import ApiViewSet


class CreateReportRequestSerializer(S.Serializer):
    reason = S.CharField(max_length=moderation.MAX_REASON)


class MessageReportResourceSerializer(S.Serializer):
    id = S.IntegerField()
    status = S.ChoiceField(choices=MessageReport.Status.values)
    reason = S.CharField()
    createdTime = S.DateTimeField()
    resolvedTime = S.DateTimeField(required=False)
    channelId = S.IntegerField()
    messageId = S.IntegerField(required=False, help_text="Absent once the message is deleted.")
    messageBody = S.CharField(help_text="The body as reported (kept after deletion).")
    message = s.MessageResourceSerializer(required=False)
    messageAuthor = s.ChatUserResourceSerializer(required=False)
    reporter = s.ChatUserResourceSerializer()
    _links = S.DictField(required=False)

    def to_representation(self, report: MessageReport) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": report.pk,
            "status": report.status,
            "reason": report.reason,
            "createdTime": resources.timestamp(report.created_time),
            "channelId": report.channel_id,
            "messageBody": report.message_body,
            "reporter": resources.user_properties(report.reporter),
        }
        if report.resolved_time is not None:
            data["resolvedTime"] = resources.timestamp(report.resolved_time)
        if report.message_author is not None:
            data["messageAuthor"] = resources.user_properties(report.message_author)
        links: dict[str, Any] = {}
        request = self.context.get("request")
        if report.message_id is not None and report.message is not None:
            data["messageId"] = report.message_id
            data["message"] = resources.message_properties(report.message)
            path = f"/v1/messages/{report.message_id}"
            links["message"] = {"href": request.build_absolute_uri(path) if request else path}
        if links:
            data["_links"] = links
        return data


PAGED_REPORTS = s.paged(
    "PagedModelMessageReportResource", "reports", MessageReportResourceSerializer
)


class ReportViewSet(ApiViewSet):
    def get_permissions(self):  # type: ignore[no-untyped-def]
        if self.action == "reported_messages":
            return [IsAuthenticatedActor(), IsApplication()]
        return super().get_permissions()

    @extend_schema(
        operation_id="report_message",
        request=CreateReportRequestSerializer,
        responses={201: MessageReportResourceSerializer},
    )
    def create(self, request: Request, id: str) -> Response:
        report = moderation.report_message(
            actor=self.actor, message_id=id, reason=self.body().get("reason")
        )
        report = MessageReport.objects.select_related(
            "reporter", "message_author", "message__user"
        ).get(pk=report.pk)
        data = MessageReportResourceSerializer(report, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="retrieve_channel_reported_messages",
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=MessageReport.Status.values,
                description="Only reports in this state (default: all).",
            )
        ],
        responses=PAGED_REPORTS,
    )
    def reported_messages(self, request: Request, id: str) -> Response:
        channel = access_channel(self.actor, id)
        queryset = (
            MessageReport.objects.filter(channel=channel)
            .select_related("reporter", "message_author", "message__user")
            .order_by("-id")
        )
        state = request.query_params.get("status")
        if state is not None:
            if state not in MessageReport.Status.values:
                raise InvalidInput("`status` must be OPEN, DISMISSED or ACTIONED.")
            queryset = queryset.filter(status=state)
        return self.page(queryset, MessageReportResourceSerializer, "reports")
