import getpass
import json
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_app.exceptions import ChatError
from channels_app.models import Application
from channels_app.services.accounts import create_account
from channels_app.web.site import site_application


class Command(BaseCommand):
    help = (
        "Create a web chat account: a chat user and the login linked to it. The password comes"
        " from --password-env NAME, else standard input when it is not a terminal, else a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--display-name", default=None)
        parser.add_argument(
            "--application",
            type=int,
            default=None,
            help="Application id (default: the web pages' application, see WEB_APPLICATION_ID).",
        )
        parser.add_argument(
            "--password-env",
            default=None,
            help="Read the password from this environment variable.",
        )
        parser.add_argument(
            "--link-existing",
            action="store_true",
            help="Give the login to an existing chat user of that name that has none yet.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["application"] is not None:
            application = Application.objects.filter(pk=options["application"]).first()
        else:
            application = site_application()
        if application is None:
            raise CommandError(
                "No such application: create one with `manage.py create_application`."
            )
        password = self._password(options["password_env"])
        try:
            user = create_account(
                application=application,
                username=options["username"],
                password=password,
                display_name=options["display_name"],
                link_existing=options["link_existing"],
            )
        except ChatError as error:
            raise CommandError(error.message.replace("`", "")) from None
        self.stdout.write(
            json.dumps(
                {
                    "id": user.pk,
                    "name": user.name,
                    "displayName": user.display_name,
                    "applicationId": application.pk,
                }
            )
        )

    def _password(self, env_name: str | None) -> str:
        if env_name:
            value = os.environ.get(env_name)
            if not value:
                raise CommandError(f"The environment variable {env_name} is empty or unset.")
            return value
        if not sys.stdin.isatty():
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return first
