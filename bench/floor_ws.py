"""The websocket fan-out floor: a bare Channels consumer relaying the same frames through the same
channel layer, with no authentication, session, persistence or rules.

A client connects to `/ws/floor`, is added to one group, and every `message.send` frame it sends is
relayed to the group as a `message.created` frame shaped like the real one (so clients parse the
same bytes). Like the real consumer, forwarding skips Channels' per-message
`aclose_old_connections()` thread hop.
"""

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

GROUP = "floor.fanout"


class FloorConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "session.started", "channels": [0]}))

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            return
        frame = json.loads(text_data)
        if frame.get("type") != "message.send":
            return
        self.sequence = getattr(self, "sequence", 0) + 1
        message = {
            "type": "TEXT",
            "channelId": frame.get("channelId"),
            "body": frame.get("body", ""),
            "properties": frame.get("properties", {}),
            "sequence": self.sequence,
        }
        created = {
            "channelId": frame.get("channelId"),
            "sequence": self.sequence,
            "message": message,
        }
        await self.channel_layer.group_send(
            GROUP, {"type": "chat.event", "event": "message.created", "payload": created}
        )

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") == "chat.event":
            await self.send(text_data=json.dumps({"type": message["event"], **message["payload"]}))
            return
        await super().dispatch(message)
