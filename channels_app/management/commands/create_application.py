import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from channels_app.services.applications import create_application


class Command(BaseCommand):
    help = "Create an application (tenant) and print its credentials as one JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--allow-guests", action="store_true", help="Let clients connect as guests."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        application, client_secret = create_application(
            name=options["name"], guest_users_enabled=options["allow_guests"]
        )
        assert application.oauth_client is not None
        self.stdout.write(
            json.dumps(
                {
                    "id": application.pk,
                    "name": application.name,
                    "clientId": application.oauth_client.client_id,
                    "clientSecret": client_secret,
                    "apiKey": application.api_key,
                }
            )
        )
