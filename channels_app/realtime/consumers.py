"""The JSON chat-session protocol at `/ws/v1/chat` (spec: PROTOCOL.md beside this file).

An adapter: it authenticates the handshake, opens a ChatSession, joins the user's group and one
group per subscribed channel, turns client frames into service calls and domain events into
frames. Event delivery (`chat.event`) never touches the database and skips Channels' per-message
`aclose_old_connections()` thread hop (ARCHITECTURE.md, "Measured on this stack").
"""

import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from .. import events, selectors
from ..actors import Actor
from ..exceptions import UNAVAILABLE_ERRORS, ChatError, InvalidInput, Unavailable
from ..resources import user_properties
from ..services import sessions
from . import heartbeat
from .auth import (
    CLOSE_FORBIDDEN,
    CLOSE_RATE_LIMITED,
    CLOSE_UNAUTHENTICATED,
    Credential,
    Refused,
    authenticate,
    headers_of,
)
from .operations import (
    JSON,
    clean_channel_id,
    clean_ref,
    clean_sequence,
    missed_messages,
    read,
    send,
    subscribable_channel,
    typing,
)

logger = logging.getLogger(__name__)

# Events addressed to the user (their `chat.u.<id>` group); every other event is channel-level.
USER_EVENTS = {
    "channel.created",
    "channel.joined",
    "channel.left",
    "invite.received",
    "notification.created",
    "user.deactivated",
    "sessions.revoked",
}
REPLAY_BATCH = 200
REPLAY_MAX = 1000  # per channel and frame; past it `more: true` says to page with REST `after=`
RATE_PER_SECOND = 50.0
RATE_BURST = 200.0
RATE_CLOSE_AFTER = 500  # refused frames in a row before the socket is closed with 4429
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455: the database or Redis is unavailable at the handshake


class ChatConsumer(AsyncJsonWebsocketConsumer):
    protocol = "json"

    async def connect(self) -> None:
        self.credential: Credential | None = None
        self.session_id: int | None = None
        self.channel_ids: set[int] = set()
        self.last_sequences: dict[int, int] = {}
        self.tokens = RATE_BURST
        self.refill_time = time.monotonic()
        self.refused_in_a_row = 0
        try:
            credential = await database_sync_to_async(authenticate)(self.scope)
        except Refused as refusal:
            await self.accept()
            await self.send_json(
                {"type": "error", "error": refusal.error, "message": refusal.message}
            )
            await self.close(code=refusal.code)
            return
        except UNAVAILABLE_ERRORS as error:
            logger.warning("chat session refused, a backing service is unavailable: %s", error)
            await self.accept()
            await self.send_json({"type": "error", **Unavailable().as_dict()})
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        self.credential = credential
        self.user = credential.user
        self.actor = Actor.for_user(credential.user)
        await self.channel_layer.group_add(events.user_group(self.user.pk), self.channel_name)
        for channel_id in await database_sync_to_async(selectors.joined_channel_ids)(self.user):
            await self._join_group(channel_id)
        user_agent = headers_of(self.scope).get("user-agent", "")
        session = await database_sync_to_async(sessions.open_session)(
            user=self.user,
            protocol=self.protocol,
            channel_name=self.channel_name,
            user_agent=user_agent,
        )
        self.session_id = session.pk
        heartbeat.register(session.pk, expires=credential.expires, on_expired=self._token_expired)
        await self.accept()
        await self.send_json(
            {
                "type": "session.started",
                "sessionId": session.pk,
                "user": user_properties(self.user),
                "channels": sorted(self.channel_ids),
            }
        )

    async def disconnect(self, code: int) -> None:
        if self.credential is None:
            return
        for channel_id in list(self.channel_ids):
            await self._leave_group(channel_id)
        await self.channel_layer.group_discard(events.user_group(self.user.pk), self.channel_name)
        if self.session_id is not None:
            heartbeat.unregister(self.session_id)
            session_id, self.session_id = self.session_id, None
            await database_sync_to_async(sessions.close_session)(session_id=session_id)

    # --- client frames --------------------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if self.credential is None:
            return
        if not self._take_token():
            await self.send_error("RateLimitedError", "Too many frames; slow down.")
            if self.refused_in_a_row >= RATE_CLOSE_AFTER:
                await self.close(code=CLOSE_RATE_LIMITED)
            return
        if text_data is None:
            await self.send_error(
                "InvalidInputError", "Binary frames are not supported; send JSON."
            )
            return
        limit = settings.CHAT_WS_MAX_FRAME_BYTES
        if len(text_data) > limit or len(text_data.encode()) > limit:
            await self.send_error("PayloadTooLargeError", f"Frames are limited to {limit} bytes.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_error("MalformedRequestError", "The frame is not valid JSON.")
            return
        ref = None
        try:
            if not isinstance(frame, dict):
                raise InvalidInput("A frame must be a JSON object with a `type`.")
            ref = clean_ref(frame.get("ref"))
            handler = self.HANDLERS.get(frame.get("type"))  # type: ignore[arg-type]
            if handler is None:
                raise InvalidInput(f"Unknown frame type {frame.get('type')!r}.")
            await handler(self, frame, ref)
        except ChatError as error:
            await self.send_json({"type": "error", **error.as_dict(), **_ref(ref)})
        except UNAVAILABLE_ERRORS as error:
            # Not done (or, if the commit itself failed, unknown): retry, sends with the
            # same idempotency key.
            logger.warning("chat frame refused, a backing service is unavailable: %s", error)
            await self.send_json({"type": "error", **Unavailable().as_dict(), **_ref(ref)})
        except Exception:
            logger.exception("chat frame failed")
            await self.send_error("InternalServerError", "The frame could not be handled.", ref)

    def _take_token(self) -> bool:
        now = time.monotonic()
        self.tokens = min(RATE_BURST, self.tokens + (now - self.refill_time) * RATE_PER_SECOND)
        self.refill_time = now
        if self.tokens < 1:
            self.refused_in_a_row += 1
            return False
        self.tokens -= 1
        self.refused_in_a_row = 0
        return True

    async def send_error(self, error: str, message: str, ref: str | None = None) -> None:
        await self.send_json({"type": "error", "error": error, "message": message, **_ref(ref)})

    async def on_ping(self, frame: JSON, ref: str | None) -> None:
        await self.send_json({"type": "pong", **_ref(ref)})

    async def on_subscribe(self, frame: JSON, ref: str | None) -> None:
        channel_id = clean_channel_id(frame.get("channelId"))
        after = clean_sequence(frame.get("lastSequence"), "lastSequence")
        channel_pk = await database_sync_to_async(subscribable_channel)(self.actor, channel_id)
        await self._join_group(channel_pk)
        more = False
        if after is not None:
            more = await self._replay(channel_pk, after)
        answer: JSON = {
            "type": "subscribed",
            "channelId": channel_pk,
            "lastSequence": self.last_sequences.get(channel_pk, after or 0),
        }
        if more:
            answer["more"] = True
        await self.send_json({**answer, **_ref(ref)})

    async def on_unsubscribe(self, frame: JSON, ref: str | None) -> None:
        channel_id = clean_channel_id(frame.get("channelId"))
        await self._leave_group(channel_id)
        await self.send_json({"type": "unsubscribed", "channelId": channel_id, **_ref(ref)})

    async def on_resume(self, frame: JSON, ref: str | None) -> None:
        wanted = frame.get("channels")
        if not isinstance(wanted, dict) or len(wanted) > 1000:
            raise InvalidInput("`channels` must be an object of channel id to last sequence.")
        cleaned = {
            clean_channel_id(key): clean_sequence(value, "lastSequence") or 0
            for key, value in wanted.items()
        }
        resumed: JSON = {}
        more: list[int] = []
        for channel_id, after in sorted(cleaned.items()):
            try:
                channel_pk = await database_sync_to_async(subscribable_channel)(
                    self.actor, channel_id
                )
            except ChatError as error:
                data = error.as_dict()
                data["properties"] = {"channelId": channel_id}
                await self.send_json({"type": "error", **data, **_ref(ref)})
                continue
            await self._join_group(channel_pk)
            if await self._replay(channel_pk, after):
                more.append(channel_pk)
            resumed[str(channel_pk)] = self.last_sequences.get(channel_pk, after)
        answer: JSON = {"type": "resumed", "channels": resumed}
        if more:
            answer["more"] = more
        await self.send_json({**answer, **_ref(ref)})

    async def on_message_send(self, frame: JSON, ref: str | None) -> None:
        channel_id = clean_channel_id(frame.get("channelId"))
        message = await database_sync_to_async(send)(self.actor, channel_id, frame)
        await self.send_json({"type": "message.sent", "message": message, **_ref(ref)})

    async def on_typing(self, frame: JSON, ref: str | None) -> None:
        channel_id = clean_channel_id(frame.get("channelId"))
        value = frame.get("typing", True)
        if not isinstance(value, bool):
            raise InvalidInput("`typing` must be true or false.")
        await database_sync_to_async(typing)(self.actor, channel_id, value)

    async def on_read(self, frame: JSON, ref: str | None) -> None:
        channel_id = clean_channel_id(frame.get("channelId"))
        await database_sync_to_async(read)(self.actor, channel_id)

    HANDLERS = {
        "ping": on_ping,
        "subscribe": on_subscribe,
        "unsubscribe": on_unsubscribe,
        "resume": on_resume,
        "message.send": on_message_send,
        "typing": on_typing,
        "read": on_read,
    }

    async def _replay(self, channel_id: int, after: int) -> bool:
        """Send the persisted messages after `after`, oldest first. Live events queue behind this
        handler and `chat_event` drops the sequences already sent, so nothing repeats. Returns
        whether more than REPLAY_MAX were missed."""
        sent = 0
        cursor = max(after, 0)
        while sent < REPLAY_MAX:
            limit = min(REPLAY_BATCH, REPLAY_MAX - sent)
            frames = await database_sync_to_async(missed_messages)(channel_id, cursor, limit)
            for frame in frames:
                await self.send_json(frame)
                cursor = frame["sequence"]
            sent += len(frames)
            if len(frames) < limit:
                self.last_sequences[channel_id] = max(
                    self.last_sequences.get(channel_id, 0), cursor
                )
                return False
        self.last_sequences[channel_id] = max(self.last_sequences.get(channel_id, 0), cursor)
        return bool(await database_sync_to_async(missed_messages)(channel_id, cursor, 1))

    async def _join_group(self, channel_id: int) -> None:
        if channel_id not in self.channel_ids:
            self.channel_ids.add(channel_id)
            await self.channel_layer.group_add(events.channel_group(channel_id), self.channel_name)

    async def _leave_group(self, channel_id: int) -> None:
        if channel_id in self.channel_ids:
            # Dropped from the local set first: events already queued for it are not delivered.
            self.channel_ids.discard(channel_id)
            self.last_sequences.pop(channel_id, None)
            await self.channel_layer.group_discard(
                events.channel_group(channel_id), self.channel_name
            )

    async def _token_expired(self) -> None:
        await self.send_error("UnauthorizedError", "The access token has expired.")
        await self.close(code=CLOSE_UNAUTHENTICATED)

    # --- domain events --------------------------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Forwarding needs no database: skip Channels' `aclose_old_connections()` thread hop.
        if message.get("type") == "chat.event":
            await self.chat_event(message)
            return
        await super().dispatch(message)

    async def chat_event(self, message: dict[str, Any]) -> None:
        if self.credential is None:
            return
        name: str = message["event"]
        payload: JSON = message["payload"]
        if name in USER_EVENTS:
            await self._user_event(name, payload, message)
            return
        channel_id = payload.get("channelId")
        if channel_id is None and isinstance(payload.get("channel"), dict):
            channel_id = payload["channel"].get("id")
        if channel_id not in self.channel_ids:
            return  # unsubscribed, left or removed: stop at once, even for queued events
        if name == "message.created":
            sequence = payload.get("sequence") or 0
            if sequence:
                if sequence <= self.last_sequences.get(channel_id, 0):
                    return  # already replayed
                self.last_sequences[channel_id] = sequence
        elif name == "typing" and (payload.get("user") or {}).get("id") == self.user.pk:
            return
        await self._forward(name, payload, message)
        if name == "channel.deleted" or (
            name == "member.left" and (payload.get("user") or {}).get("id") == self.user.pk
        ):
            await self._leave_group(channel_id)

    async def _user_event(self, name: str, payload: JSON, message: dict[str, Any]) -> None:
        if name == "user.deactivated":
            await self.send_error("AccessDeniedError", "This user was deactivated.")
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if name == "sessions.revoked":
            credential = self.credential
            assert credential is not None
            if credential.token_id is None and credential.session_key is None:
                return
            token_id = payload.get("tokenId")
            if token_id is not None and token_id != credential.token_id:
                return
            if not await database_sync_to_async(credential.token_still_valid)():
                await self.send_error(
                    "UnauthorizedError",
                    "The web session ended."
                    if credential.session_key
                    else "The access token was revoked.",
                )
                await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self._forward(name, payload, message)
        if name in ("channel.created", "channel.joined"):
            await self._join_group(payload["channel"]["id"])
        elif name == "channel.left":
            await self._leave_group(payload["channelId"])

    async def _forward(self, name: str, payload: JSON, message: dict[str, Any]) -> None:
        text = message.get("frame")
        if not isinstance(text, str):
            text = events.json_frame(name, payload)
        await self.send(text_data=text)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return json.dumps(content, separators=(",", ":"))


def _ref(ref: str | None) -> JSON:
    return {"ref": ref} if ref is not None else {}
