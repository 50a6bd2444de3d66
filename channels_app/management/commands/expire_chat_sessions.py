"""`manage.py expire_chat_sessions [--loop]`: end the chat sessions of dead server processes."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from channels_app.services import sessions


class Command(BaseCommand):
    help = "End chat sessions that stopped heartbeating (their server process died)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep running, expiring every CHAT_SESSION_STALE_SECONDS / 3 seconds.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            expired = sessions.expire_stale_sessions()
            self.stdout.write(f"expired {expired} stale chat session(s)")
            if not options["loop"]:
                return
            time.sleep(sessions.heartbeat_interval())
