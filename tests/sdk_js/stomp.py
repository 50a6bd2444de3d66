"""A minimal STOMP 1.2 client over Channels' WebsocketCommunicator, speaking as the SDK does."""

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from channels.testing import WebsocketCommunicator

from channels_app.realtime.routing import websocket_application

_UNESCAPE = {"\\c": ":", "\\n": "\n", "\\r": "\r", "\\\\": "\\"}


@dataclass
class ServerFrame:
    command: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def parse_server_frame(text: str) -> ServerFrame:
    head, _, rest = text.partition("\n\n")
    assert rest.endswith("\x00"), f"no NUL terminator: {text!r}"
    lines = head.split("\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if lines[0] != "CONNECTED":
            for escaped, plain in _UNESCAPE.items():
                value = value.replace(escaped, plain)
        headers.setdefault(name, value)
    return ServerFrame(lines[0], headers, rest[:-1])


def frame(command: str, headers: dict[str, str] | None = None, body: str = "") -> str:
    lines = [command, *(f"{name}:{value}" for name, value in (headers or {}).items())]
    return "\n".join(lines) + "\n\n" + body + "\x00"


class StompClient:
    def __init__(self, communicator: WebsocketCommunicator, subprotocol: str | None) -> None:
        self.communicator = communicator
        self.subprotocol = subprotocol
        self.errors_id: str | None = None
        self.topics: dict[str, str] = {}  # destination -> subscription id

    @classmethod
    async def open(cls, api_key: str, *, subprotocols: list[str] | None = None) -> "StompClient":
        communicator = WebsocketCommunicator(
            websocket_application,
            f"/rtm/websocket?api-key={api_key}",
            subprotocols=["v12.stomp"] if subprotocols is None else subprotocols,
        )
        connected, subprotocol = await communicator.connect(timeout=5)
        assert connected
        return cls(communicator, subprotocol)

    async def send_raw(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def send(
        self, command: str, headers: dict[str, str] | None = None, body: str = ""
    ) -> None:
        await self.send_raw(frame(command, headers, body))

    async def receive(self, timeout: float = 3) -> ServerFrame:
        output = await self.communicator.receive_output(timeout=timeout)
        assert output["type"] == "websocket.send", output
        return parse_server_frame(output["text"])

    async def closed(self, timeout: float = 3) -> bool:
        output = await self.communicator.receive_output(timeout=timeout)
        return bool(output["type"] == "websocket.close")

    async def nothing(self, timeout: float = 0.3) -> bool:
        return bool(await self.communicator.receive_nothing(timeout=timeout))

    async def connect(
        self, username: str, auth_params: dict[str, Any] | None = None
    ) -> ServerFrame:
        headers = {
            "StompX-User": username,
            "StompX-User-Agent": "ChatKitty-ChatUI/2.106.2",
            "accept-version": "1.2",
            "heart-beat": "60000,10000",
        }
        if auth_params is not None:
            headers["StompX-Auth-Params"] = base64.b64encode(
                json.dumps(auth_params).encode()
            ).decode()
        await self.send("CONNECT", headers)
        return await self.receive()

    async def relay(self, destination: str, **params: str) -> ServerFrame:
        sub_id = f"subscription-id-{uuid.uuid4()}"
        await self.send("SUBSCRIBE", {**params, "id": sub_id, "destination": destination})
        answer = await self.receive()
        assert (
            answer.headers.get("subscription") == sub_id
            or answer.headers.get("subscription-id") == sub_id
        ), answer
        return answer

    async def subscribe(self, destination: str) -> ServerFrame:
        """A live subscription with a receipt, as the SDK makes them; returns the answer."""
        sub_id = f"subscription-id-{uuid.uuid4()}"
        receipt = f"receipt-{uuid.uuid4()}"
        await self.send(
            "SUBSCRIBE",
            {
                "id": sub_id,
                "destination": destination,
                "receipt": receipt,
                "ack": "client-individual",
            },
        )
        answer = await self.receive()
        if answer.command == "RECEIPT":
            assert answer.headers["receipt-id"] == receipt
            self.topics[destination] = sub_id
        return answer

    async def subscribe_errors(self) -> None:
        self.errors_id = f"subscription-id-{uuid.uuid4()}"
        await self.send("SUBSCRIBE", {"destination": "/user/queue/errors", "id": self.errors_id})

    async def action(
        self, destination: str, body: dict[str, Any], receipt: str | None = None
    ) -> str:
        receipt = receipt or f"receipt-{uuid.uuid4()}"
        text = json.dumps(body)
        await self.send(
            "SEND",
            {
                "destination": destination,
                "content-type": "application/json;charset=UTF-8",
                "receipt": receipt,
                "content-length": str(len(text.encode())),
            },
            text,
        )
        return receipt

    async def start(self, username: str, auth_params: dict[str, Any] | None = None) -> Any:
        """CONNECT, relay the current user, subscribe to the error queue and all user topics."""
        connected = await self.connect(username, auth_params)
        assert connected.command == "CONNECTED", connected
        user = (await self.relay("/application/user.relay")).json()["resource"]
        await self.subscribe_errors()
        for topic in user["_topics"].values():
            answer = await self.subscribe(topic)
            assert answer.command == "RECEIPT", answer
        return user

    async def close(self) -> None:
        await self.communicator.disconnect()
