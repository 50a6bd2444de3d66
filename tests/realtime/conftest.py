"""Websocket helpers: connect a chat session as a user and read its frames."""

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from channels_app.models import ChatUser
from channels_app.realtime.routing import websocket_application
from tests.conftest import user_token

db = database_sync_to_async


class Session:
    """A connected `/ws/v1/chat` client."""

    def __init__(self, communicator: WebsocketCommunicator, started: dict[str, Any]) -> None:
        self.communicator = communicator
        self.started = started

    async def send(self, frame: dict[str, Any]) -> None:
        await self.communicator.send_json_to(frame)

    async def receive(self, timeout: float = 2) -> dict[str, Any]:
        frame: dict[str, Any] = await self.communicator.receive_json_from(timeout=timeout)
        return frame

    async def receive_type(self, type: str, timeout: float = 2) -> dict[str, Any]:
        """The next frame of `type`, skipping others (presence and the like)."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == type:
                return frame

    async def nothing(self, timeout: float = 0.2) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def frames_until(self, type: str, timeout: float = 2) -> list[dict[str, Any]]:
        frames = []
        while True:
            frame = await self.receive(timeout)
            frames.append(frame)
            if frame["type"] == type:
                return frames

    async def close(self) -> None:
        await self.communicator.disconnect()


async def open_socket(
    path: str = "/ws/v1/chat", headers: list[tuple[bytes, bytes]] | None = None
) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(websocket_application, path, headers=headers or [])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def refused(
    path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, dict[str, Any]]:
    """Connect and expect a refusal: (close code, error frame)."""
    communicator = await open_socket(path, headers)
    error = json.loads((await communicator.receive_output(timeout=5))["text"])
    closing = await communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close"
    await communicator.disconnect()
    return closing["code"], error


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Awaitable[Session]]]:
    """`await connect(user)`: a chat session authenticated with a fresh user token."""
    sessions: list[Session] = []

    async def make(user: ChatUser, *, token: str | None = None) -> Session:
        token = token or await db(user_token)(user)
        communicator = await open_socket(f"/ws/v1/chat?token={token}")
        started = await communicator.receive_json_from(timeout=5)
        assert started["type"] == "session.started", started
        session = Session(communicator, started)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        with contextlib.suppress(Exception):
            await session.close()
