"""Create, once, a demo application, an operator login and a few people to chat with."""

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from channels_app.actors import Actor
from channels_app.models import Application
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services.accounts import create_account
from channels_app.services.applications import create_application, rotate_client_secret

DEMO_NAME = "Demo"
DEMO_PEOPLE = [("jane", "Jane Doe"), ("john", "John Roe"), ("alex", "Alex Poe")]


class Command(BaseCommand):
    help = "Prepare the demo application and admin (idempotent) and print the credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--credentials-file", default=str(settings.BASE_DIR / "var" / "demo.json")
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["credentials_file"])
        application = Application.objects.filter(name=DEMO_NAME).order_by("id").first()
        stored: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        if application is None:
            application, client_secret = create_application(name=DEMO_NAME)
            actor = Actor.for_application(application)
            people = [
                create_account(
                    application=application,
                    username=name,
                    display_name=display,
                    password="demo-password",
                )
                for name, display in DEMO_PEOPLE
            ]
            channel, _ = channel_services.create_channel(
                actor=actor,
                type="PUBLIC",
                name="general",
                display_name="General",
                creator=people[0],
                members=people,
            )
            message_services.send_message(
                actor=Actor.for_user(people[0]),
                channel_id=channel.pk,
                body="Welcome to your self-hosted chat!",
            )
            stored = {}
        elif stored.get("applicationId") == application.pk:
            client_secret = stored["clientSecret"]
        else:
            client_secret = rotate_client_secret(application=application)

        User = get_user_model()
        admin_password = stored.get("adminPassword") or secrets.token_urlsafe(12)
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            User.objects.create_superuser("admin", "admin@example.com", admin_password)
        elif not stored.get("adminPassword"):
            admin.set_password(admin_password)
            admin.save(update_fields=["password"])
        assert application.oauth_client is not None
        stored = {
            "applicationId": application.pk,
            "clientId": application.oauth_client.client_id,
            "clientSecret": client_secret,
            "apiKey": application.api_key,
            "adminUser": "admin",
            "adminPassword": admin_password,
            "people": {name: "demo-password" for name, _ in DEMO_PEOPLE},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
        self.stdout.write(json.dumps(stored, indent=2))
