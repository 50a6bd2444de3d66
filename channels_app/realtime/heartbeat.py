"""One heartbeat loop per server process for all of its chat sessions.

Every `heartbeat_interval()` seconds the loop marks this process's open sessions alive with one
UPDATE, expires other processes' stale sessions (a crashed process's), and closes sessions whose
user token has expired. It starts with the first session of the process, expiring stale sessions
right away (the startup expiry), and stops with the last, so an idle process holds no task and a
thousand idle sockets cost one query per interval instead of a thousand.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.utils import timezone

from ..services import sessions

logger = logging.getLogger(__name__)


@dataclass
class Registered:
    session_id: int
    expires: object  # datetime | None: the token's expiry, None for cookie and guest sessions
    on_expired: Callable[[], Awaitable[None]]


_sessions: dict[int, Registered] = {}
_task: asyncio.Task[None] | None = None


def register(
    session_id: int, *, expires: object, on_expired: Callable[[], Awaitable[None]]
) -> None:
    global _task
    _sessions[session_id] = Registered(session_id, expires, on_expired)
    loop = asyncio.get_running_loop()
    if _task is None or _task.done() or _task.get_loop() is not loop:
        _task = loop.create_task(_run(), name="chat-session-heartbeat")


def unregister(session_id: int) -> None:
    global _task
    _sessions.pop(session_id, None)
    if not _sessions and _task is not None and not _task.done():
        with contextlib.suppress(RuntimeError):
            _task.cancel()
        _task = None


def active_session_ids() -> list[int]:
    return list(_sessions)


async def _run() -> None:
    first = True
    while _sessions:
        try:
            if first:
                await database_sync_to_async(sessions.expire_stale_sessions)()
                first = False
            else:
                await asyncio.sleep(sessions.heartbeat_interval())
                await database_sync_to_async(sessions.heartbeat)(session_ids=list(_sessions))
                await database_sync_to_async(sessions.expire_stale_sessions)()
            now = timezone.now()
            for entry in list(_sessions.values()):
                if entry.expires is not None and entry.expires <= now:  # type: ignore[operator]
                    await entry.on_expired()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be briefly away: try again next beat
            logger.exception("chat session heartbeat failed")
            await asyncio.sleep(1)
