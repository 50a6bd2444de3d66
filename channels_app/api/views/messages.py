"""`/v1/messages` and `/v1/threads`."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ... import selectors
from ...access import access_message, access_thread, resolve_user_reference
from ...models import Channel
from ...services import messages as message_services
from .. import serializers as s
from ..permissions import IsApplication, IsAuthenticatedActor
from .base import ApiViewSet
from .channels import CURSOR_MESSAGES, filter_messages, message_body


class MessageViewSet(ApiViewSet):
    def get_permissions(self):  # type: ignore[no-untyped-def]
        if self.action in ("list", "destroy_all"):
            return [IsAuthenticatedActor(), IsApplication()]
        return super().get_permissions()

    @extend_schema(
        operation_id="retrieve_messages",
        parameters=[OpenApiParameter("username", str), OpenApiParameter("query", str)],
        responses=CURSOR_MESSAGES,
    )
    def list(self, request: Request) -> Response:
        queryset = filter_messages(selectors.application_messages(self.actor), request)
        return self.cursor_page(queryset, s.MessageResourceSerializer)

    @extend_schema(operation_id="delete_messages", responses=s.ApplicationResourceSerializer)
    def destroy_all(self, request: Request) -> Response:
        message_services.delete_all_messages(actor=self.actor)
        return self.render(s.ApplicationResourceSerializer, self.actor.application)

    @extend_schema(operation_id="retrieve_message", responses=s.MessageResourceSerializer)
    def retrieve(self, request: Request, id: str) -> Response:
        return self.render(s.MessageResourceSerializer, access_message(self.actor, id))

    @extend_schema(
        operation_id="update_message",
        request={
            "application/json+merge-patch": s.MessagePatchSerializer,
            "application/merge-patch+json": s.MessagePatchSerializer,
            "application/json": s.MessagePatchSerializer,
        },
        responses=s.MessageResourceSerializer,
    )
    def partial_update(self, request: Request, id: str) -> Response:
        message = message_services.update_message(
            actor=self.actor, message_id=id, patch=self.body()
        )
        return self.render(s.MessageResourceSerializer, message)

    @extend_schema(
        operation_id="open_message_reply_thread",
        request=None,
        responses=s.ReplyThreadResourceSerializer,
        description="The thread of replies to this message (created on first use); send replies "
        "with POST /v1/threads/{id}/messages and list them with GET /v1/threads/{id}/messages.",
    )
    def reply_thread(self, request: Request, id: str) -> Response:
        thread = message_services.open_reply_thread(actor=self.actor, message_id=id)
        return self.render(s.ReplyThreadResourceSerializer, thread)

    @extend_schema(operation_id="delete_message", responses=s.ReplyThreadResourceSerializer)
    def destroy(self, request: Request, id: str) -> Response:
        thread = message_services.delete_message(actor=self.actor, message_id=id)
        return self.render(s.ReplyThreadResourceSerializer, thread)

    @extend_schema(
        operation_id="retrieve_message_read_receipts",
        responses=s.paged(
            "PagedModelMessageReadReceiptResource", "receipts", s.ReadReceiptResourceSerializer
        ),
    )
    def read_receipts(self, request: Request, id: str) -> Response:
        message = access_message(self.actor, id)
        return self.page(
            selectors.read_receipts_for(message), s.ReadReceiptResourceSerializer, "receipts"
        )


class ThreadViewSet(ApiViewSet):
    @extend_schema(operation_id="retrieve_thread", responses=s.ReplyThreadResourceSerializer)
    def retrieve(self, request: Request, id: str) -> Response:
        return self.render(s.ReplyThreadResourceSerializer, access_thread(self.actor, id))

    @extend_schema(operation_id="retrieve_thread_messages", responses=CURSOR_MESSAGES)
    def messages(self, request: Request, id: str) -> Response:
        thread = access_thread(self.actor, id)
        queryset = selectors.messages_in(self.actor, thread.channel)
        if thread.type == "MAIN":
            queryset = queryset.filter(thread__isnull=True)
        else:
            queryset = queryset.filter(thread=thread)
        return self.cursor_page(queryset, s.MessageResourceSerializer)

    @extend_schema(
        operation_id="send_thread_message",
        request=s.SendMessageRequestSerializer,
        responses=s.MessageResourceSerializer,
    )
    def send_message(self, request: Request, id: str) -> Response:
        body = message_body(self.body())
        user = None
        if body.get("user") is not None and self.actor.is_application:
            user = resolve_user_reference(self.actor, body["user"])
        message = message_services.send_thread_message(
            actor=self.actor,
            thread_id=id,
            body=body.get("body"),
            file=body.get("file") if body["type"] == "FILE" else None,
            properties=body.get("properties"),
            group_tag=body.get("groupTag"),
            user=user,
            idempotency_key=request.headers.get("Idempotency-Key") or body.get("idempotencyKey"),
        )
        return self.render(s.MessageResourceSerializer, message)


__all__ = ["Channel", "MessageViewSet", "ThreadViewSet"]
