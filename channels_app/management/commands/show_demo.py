import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Print the demo credentials and the URLs to open."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args: Any, **options: Any) -> None:
        data = json.loads((settings.BASE_DIR / "var" / "demo.json").read_text())
        base = f"http://{options['host']}:{options['port']}"
        lines = [
            "",
            "ChatKitty-compatible chat server",
            f"  Web chat        {base}/            (people: jane, john, alex / demo-password)",
            f"  Admin           {base}/admin/      ({data['adminUser']} / {data['adminPassword']})",
            f"  API docs        {base}/v1/docs",
            f"  OpenAPI schema  {base}/v1/schema",
            f"  Websocket       ws://{options['host']}:{options['port']}/ws/v1/chat",
            "",
            f"  Application id  {data['applicationId']}",
            f"  Client id       {data['clientId']}",
            f"  Client secret   {data['clientSecret']}",
            f"  API key         {data['apiKey']}",
            "",
            "  Token:  curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials "
            f"{base}/oauth/token",
            "",
        ]
        self.stdout.write("\n".join(lines))
