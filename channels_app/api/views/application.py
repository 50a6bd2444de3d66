"""`/v1/application`: the application that owns the token."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from ...exceptions import InvalidInput
from ...services import applications as application_services
from .. import serializers as s
from ..permissions import IsApplication, IsAuthenticatedActor
from .base import ApiViewSet


class ApplicationViewSet(ApiViewSet):
    permission_classes = [IsAuthenticatedActor, IsApplication]

    @extend_schema(
        operation_id="retrieve_authenticated_application",
        responses=s.ApplicationResourceSerializer,
    )
    def retrieve(self, request: Request) -> Response:
        return self.render(s.ApplicationResourceSerializer, self.actor.application)

    @extend_schema(
        operation_id="retrieve_authenticated_application_settings",
        responses=s.ApplicationSettingsSerializer,
    )
    def retrieve_settings(self, request: Request) -> Response:
        # Not `settings`: that name is APIView's api_settings attribute (exception handler etc.).
        return self.render(s.ApplicationSettingsSerializer, self.actor.application)

    @extend_schema(
        operation_id="update_authenticated_application_settings",
        request=s.ApplicationSettingsSerializer,
        responses=s.ApplicationSettingsSerializer,
    )
    def update_settings(self, request: Request) -> Response:
        body = self.body()
        if "guestUsers" not in body:
            raise InvalidInput("`guestUsers` is required: ENABLED or DISABLED.")
        application = application_services.update_settings(
            actor=self.actor,
            guest_users=body.get("guestUsers"),
            persistence_default=body.get("persistenceDefault"),
            signup_enabled=body.get("signupEnabled"),
            webhook_url=body.get("webhookUrl"),
        )
        return self.render(s.ApplicationSettingsSerializer, application)
