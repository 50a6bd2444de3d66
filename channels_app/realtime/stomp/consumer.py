"""StompX: ChatKitty's JavaScript SDK protocol, STOMP 1.2 over WebSocket at `/rtm/websocket`.

An adapter beside the JSON protocol (`../consumers.py`), over the same services and domain events:
it authenticates CONNECT (the `api-key` query parameter plus `StompX-User`, and for registered users
`StompX-Auth-Params` carrying `{"accessToken": "ckut_..."}`), opens a ChatSession, answers relays,
performs actions and turns domain events into MESSAGE frames on the SDK's topics. Frames of one
connection are handled in order (Channels dispatches one message at a time), so a RECEIPT always
follows the effects it confirms. Spec: /work/shared/reference/chatkitty-js-sdk-protocol.md;
README section: the README section "ChatKitty JavaScript SDK compatibility".
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from ... import events, selectors
from ...exceptions import ChatError, InvalidInput, NotFound, RateLimited
from ...models import ChatUser
from ...services import sessions
from .. import heartbeat
from ..auth import CLOSE_FORBIDDEN, Credential, headers_of, origin_allowed
from . import destinations as d
from . import frames, relays, translate
from .actions import Outcome, parse_body, perform
from .auth import AccessDenied, authenticate
from .frames import Frame, FrameError
from .subscriptions import Subscriptions

logger = logging.getLogger(__name__)

SUBPROTOCOL = "v12.stomp"
SERVER = "chatkitty-selfhosted"
CONTENT_TYPE = "application/json;charset=UTF-8"
SUPPRESS_SECONDS = 30.0
MAX_SUBSCRIPTIONS = 2_000
RATE_PER_SECOND = 50.0
RATE_BURST = 200.0

# Domain events that only ever land on channel topics: skipped at once when this connection holds
# no live subscription to that channel (most member channels have no open chat session).
CHANNEL_TOPIC_EVENTS = frozenset(
    {
        "message.created",
        "message.updated",
        "message.deleted",
        "member.joined",
        "member.left",
        "member.role_changed",
        "channel.event",
        "participant.presence",
    }
)

# Events addressed to the user's group; every other event is about a channel of theirs.
USER_EVENTS = frozenset(
    {"channel.created", "channel.joined", "channel.left", "invite.received", "notification.created"}
)


class StompConsumer(AsyncWebsocketConsumer):
    protocol = "stomp"

    async def connect(self) -> None:
        self.user: ChatUser | None = None
        self.credential: Credential | None = None
        self.session_id: int | None = None
        self.subscriptions = Subscriptions()
        self.channel_ids: set[int] = set()  # channel groups joined (the user's channels)
        self.suppressed: dict[tuple[str, int], float] = {}
        self.message_counter = 0
        self.tokens = RATE_BURST
        self.refill_time = time.monotonic()
        self.closing = False
        origin = headers_of(self.scope).get("origin")
        if origin is not None and not origin_allowed(origin):
            # Cross-site websocket hijacking: a browser page of another site (or `null`) may not
            # open a session; clients without an Origin (servers, Node) may.
            await self.close(code=CLOSE_FORBIDDEN)
            return
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)

    async def disconnect(self, code: int) -> None:
        if self.user is None:
            return
        for channel_id in list(self.channel_ids):
            await self._leave_group(channel_id)
        await self.channel_layer.group_discard(events.user_group(self.user.pk), self.channel_name)
        if self.session_id is not None:
            heartbeat.unregister(self.session_id)
            session_id, self.session_id = self.session_id, None
            await database_sync_to_async(sessions.close_session)(session_id=session_id)

    # --- frames in ------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:
            return
        data = text_data.encode() if text_data is not None else (bytes_data or b"")
        try:
            parsed = frames.parse(data, max_bytes=settings.CHAT_WS_MAX_FRAME_BYTES)
        except ChatError as error:
            await self._refuse_frame(error)
            return
        for frame in parsed:
            if not await self._handle(frame):
                return

    async def _refuse_frame(self, error: ChatError, frame: Frame | None = None) -> None:
        if self.user is None:
            await self._fatal(error)
            return
        headers = []
        if frame is not None and frame.header("receipt"):
            headers.append(("receipt-id", frame.headers["receipt"]))
        if frame is not None and frame.command == "SUBSCRIBE" and frame.header("id"):
            headers.append(("subscription-id", frame.headers["id"]))
        await self._send_error(error, headers)

    async def _handle(self, frame: Frame) -> bool:
        """Handle one frame; False once the connection is closing."""
        command = frame.command
        if self.user is None:
            if command in ("CONNECT", "STOMP"):
                return await self._connect(frame)
            await self._fatal(AccessDenied("Send CONNECT first."))
            return False
        if not self._take_token():
            await self._refuse_frame(RateLimited("Too many frames; slow down."), frame)
            return True
        try:
            if command == "SUBSCRIBE":
                await self._subscribe(frame)
            elif command == "SEND":
                await self._send_action(frame)
            elif command == "UNSUBSCRIBE":
                self.subscriptions.remove(frame.header("id") or "")
            elif command in ("ACK", "NACK"):
                pass  # nothing is redelivered: acknowledgements have nothing to settle
            elif command == "DISCONNECT":
                await self._receipt(frame)
                self.closing = True
                await self.close()
                return False
            elif command in ("CONNECT", "STOMP"):
                raise FrameError("This connection is already connected.")
            else:
                raise FrameError(f"{command} is not supported (no transactions).")
        except ChatError as error:
            await self._refuse_frame(error, frame)
        except Exception:
            logger.exception("STOMP frame %s failed", command)
            await self._refuse_frame(ChatError("The frame could not be handled."), frame)
        return True

    def _take_token(self) -> bool:
        now = time.monotonic()
        self.tokens = min(RATE_BURST, self.tokens + (now - self.refill_time) * RATE_PER_SECOND)
        self.refill_time = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    # --- CONNECT --------------------------------------------------------------------------------

    async def _connect(self, frame: Frame) -> bool:
        try:
            credential = await database_sync_to_async(authenticate)(self.scope, frame)
        except RateLimited as error:
            # Not AccessDeniedError: the SDK then reconnects by itself 5 s later.
            await self._fatal(error)
            return False
        except ChatError as error:
            await self._fatal(AccessDenied(error.message))
            return False
        except Exception:
            logger.exception("STOMP CONNECT failed")
            await self._fatal(AccessDenied("The session could not be authenticated."))
            return False
        self.credential = credential
        user = self.user = credential.user
        await self.channel_layer.group_add(events.user_group(user.pk), self.channel_name)
        for channel_id in await database_sync_to_async(selectors.joined_channel_ids)(user):
            await self._join_group(channel_id)
        session = await database_sync_to_async(sessions.open_session)(
            user=user,
            protocol=self.protocol,
            channel_name=self.channel_name,
            user_agent=frame.header("StompX-User-Agent")
            or headers_of(self.scope).get("user-agent", ""),
        )
        self.session_id = session.pk
        heartbeat.register(session.pk, expires=credential.expires, on_expired=self._token_expired)
        headers = [
            ("version", "1.2"),
            ("heart-beat", "0,0"),
            ("session", f"{session.pk}-{uuid.uuid4().hex}"),
            ("server", SERVER),
        ]
        await self.send(text_data=frames.render("CONNECTED", headers))
        return True

    async def _fatal(self, error: ChatError) -> None:
        """An ERROR frame (the SDK stops reconnecting on AccessDeniedError), then close."""
        if self.closing:
            return
        self.closing = True
        body = json.dumps(_error_body(error))
        headers = [("message", error.message[:200]), ("content-type", CONTENT_TYPE)]
        await self.send(text_data=frames.render("ERROR", headers, body))
        await self.close()

    async def _token_expired(self) -> None:
        await self._fatal(AccessDenied("The access token has expired."))

    # --- SUBSCRIBE: relays, topics and the error queue ------------------------------------------

    async def _subscribe(self, frame: Frame) -> None:
        sub_id = frame.header("id")
        destination = frame.header("destination")
        if not sub_id or not destination:
            raise FrameError("SUBSCRIBE needs `id` and `destination` headers.")
        if d.is_relay(destination):
            await self._relay(sub_id, destination, frame)
            return
        if sub_id in self.subscriptions:
            raise InvalidInput(f"Subscription {sub_id[:80]!r} already exists.")
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise InvalidInput(f"At most {MAX_SUBSCRIPTIONS} subscriptions per connection.")
        if destination == d.ERRORS_QUEUE:
            self.subscriptions.add(sub_id, destination)
            self.subscriptions.errors_id = sub_id
            await self._receipt(frame)
            return
        topic = d.route_topic(destination)
        if topic is None:
            raise NotFound(f"Unknown destination {destination[:200]!r}.")
        kind, target, _key = topic
        assert self.user is not None
        if kind == "user":
            if target != self.user.pk:
                raise NotFound(f"Unknown destination {destination[:200]!r}.")
            self.subscriptions.add(sub_id, destination)
        else:
            if target not in self.channel_ids:
                # Not (or no longer) a member: the same answer as a missing channel.
                raise NotFound("Channel not found.")
            self.subscriptions.add(sub_id, destination, target)
        await self._receipt(frame)

    async def _relay(self, sub_id: str, destination: str, frame: Frame) -> None:
        route = d.route_relay(destination)
        if route is None:
            raise NotFound(f"Unknown destination {destination[:200]!r}.")
        params = dict(route.query)
        for name, value in frame.headers.items():
            if name not in (
                "id",
                "destination",
                "receipt",
                "ack",
                "content-type",
                "content-length",
            ):
                params[name] = value
        assert self.user is not None
        resource = await database_sync_to_async(relays.answer)(self.user, route, params)
        body = json.dumps({"resource": resource}, separators=(",", ":"))
        await self.send(
            text_data=frames.render(
                "MESSAGE",
                [
                    ("destination", destination),
                    ("subscription", sub_id),
                    ("message-id", self._next_id()),
                    ("content-type", CONTENT_TYPE),
                ],
                body,
            )
        )

    # --- SEND: actions --------------------------------------------------------------------------

    async def _send_action(self, frame: Frame) -> None:
        destination = frame.header("destination")
        if not destination:
            raise FrameError("SEND needs a `destination` header.")
        route = d.route_action(destination)
        if route is None:
            raise NotFound(f"Unknown destination {destination[:200]!r}.")
        body = parse_body(frame.body)
        assert self.user is not None
        outcome: Outcome = await database_sync_to_async(perform)(self.user, route, body)
        now = time.monotonic()
        if len(self.suppressed) > 64:  # copies that never came (the layer is at-most-once)
            self.suppressed = {k: t for k, t in self.suppressed.items() if t >= now}
        for key in outcome.suppress:
            self.suppressed[key] = now + SUPPRESS_SECONDS
        if outcome.joined_channel is not None:
            await self._join_group(outcome.joined_channel)
        if outcome.left_channel is not None:
            await self._leave_group(outcome.left_channel)
        receipt = frame.header("receipt")
        for topic, kind, resource in outcome.resolving:
            await self._deliver(topic, kind, resource, receipt=receipt)
        for topic, kind, resource in outcome.following:
            await self._deliver(topic, kind, resource)
        await self._receipt(frame)

    # --- frames out -----------------------------------------------------------------------------

    def _next_id(self) -> str:
        self.message_counter += 1
        return str(self.message_counter)

    async def _receipt(self, frame: Frame) -> None:
        receipt = frame.header("receipt")
        if receipt:
            await self.send(text_data=frames.render("RECEIPT", [("receipt-id", receipt)]))

    async def _send_error(self, error: ChatError, headers: list[tuple[str, str]]) -> None:
        """An error on `/user/queue/errors`; `subscription-id`/`receipt-id` say what failed."""
        base = [("destination", d.ERRORS_QUEUE)]
        if self.subscriptions.errors_id is not None:
            base.append(("subscription", self.subscriptions.errors_id))
        base += [("message-id", self._next_id()), ("content-type", CONTENT_TYPE)]
        body = json.dumps(_error_body(error))
        await self.send(text_data=frames.render("MESSAGE", base + headers, body))

    async def _deliver(
        self, destination: str, kind: str, resource: dict[str, Any], receipt: str | None = None
    ) -> None:
        sub_ids = self.subscriptions.ids_for(destination)
        if not sub_ids:
            return
        await self._send_body(destination, sub_ids, translate.event_body(kind, resource), receipt)

    async def _send_body(
        self, destination: str, sub_ids: list[str], body: str, receipt: str | None = None
    ) -> None:
        for sub_id in list(sub_ids):
            headers = [
                ("destination", destination),
                ("subscription", sub_id),
                ("message-id", self._next_id()),
                ("content-type", CONTENT_TYPE),
            ]
            if receipt:
                headers.append(("receipt-id", receipt))
            await self.send(text_data=frames.render("MESSAGE", headers, body))

    # --- domain events --------------------------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Forwarding needs no database: skip Channels' `aclose_old_connections()` thread hop.
        if message.get("type") == "chat.event":
            await self.chat_event(message)
            return
        await super().dispatch(message)

    async def chat_event(self, message: dict[str, Any]) -> None:
        user = self.user
        if user is None:
            return
        name: str = message["event"]
        payload: dict[str, Any] = message["payload"]
        if name == "user.deactivated":
            await self._fatal(AccessDenied("This user was deactivated."))
            return
        if name == "sessions.revoked":
            await self._sessions_revoked(payload)
            return
        channel_id = payload.get("channelId")
        if channel_id is None and isinstance(payload.get("channel"), dict):
            channel_id = payload["channel"].get("id")
        if name in CHANNEL_TOPIC_EVENTS and not self.subscriptions.watches_channel(channel_id):
            return
        if name not in USER_EVENTS and channel_id not in self.channel_ids:
            return  # left or removed: nothing more from that channel, even if queued
        if name in translate.SHARED_BODY_EVENTS:
            # Viewer-independent and the hot path of fan-out: render once per process.
            destination = d.channel_topic(payload["channelId"], "messages")
            sub_ids = self.subscriptions.ids_for(destination)
            if sub_ids:
                await self._send_body(destination, sub_ids, translate.shared_body(name, payload))
            return
        deliveries = translate.translate(name, payload, user.pk)
        now = time.monotonic()
        for destination, kind, resource in deliveries:
            key = (kind, resource.get("id", 0))
            expiry = self.suppressed.get(key)
            if expiry is not None:
                del self.suppressed[key]
                if expiry >= now:
                    continue  # already delivered to this connection with the action's receipt
            await self._deliver(destination, kind, resource)
        if name in ("channel.created", "channel.joined"):
            await self._join_group(payload["channel"]["id"])
        elif name in ("channel.left", "channel.deleted") or (
            name == "member.left" and (payload.get("user") or {}).get("id") == user.pk
        ):
            await self._leave_group(payload["channelId"])

    async def _sessions_revoked(self, payload: dict[str, Any]) -> None:
        credential = self.credential
        if credential is None or credential.token_id is None:
            return
        token_id = payload.get("tokenId")
        if token_id is not None and token_id != credential.token_id:
            return
        if not await database_sync_to_async(credential.token_still_valid)():
            await self._fatal(AccessDenied("The access token was revoked."))

    async def _join_group(self, channel_id: int) -> None:
        if channel_id not in self.channel_ids:
            self.channel_ids.add(channel_id)
            await self.channel_layer.group_add(events.channel_group(channel_id), self.channel_name)

    async def _leave_group(self, channel_id: int) -> None:
        self.subscriptions.drop_channel(channel_id)
        if channel_id in self.channel_ids:
            self.channel_ids.discard(channel_id)
            await self.channel_layer.group_discard(
                events.channel_group(channel_id), self.channel_name
            )


def _error_body(error: ChatError) -> dict[str, Any]:
    from django.utils import timezone

    from ...resources import timestamp

    return {**error.as_dict(), "timestamp": timestamp(timezone.now())}
