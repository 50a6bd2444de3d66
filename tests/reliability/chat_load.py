"""Chat clients for fault and soak runs: real websockets against `/ws/v1/chat` on uvicorn.

A `ChatClient` behaves as a careful client of PROTOCOL.md should:
- it delivers each channel's `message.created` frames in sequence order and counts, never hides,
  a frame whose sequence it already delivered (a duplicate);
- on (re)connect it sends `resume` with the last sequence it delivered per channel; a frame that
  skips a sequence (an event the at-most-once channel layer lost) starts a resync:
  `subscribe` with `lastSequence`. While a resync is in flight, live frames of that channel are
  left to the replay, which covers everything committed before it, so it delivers each once;
- when its server goes away it reconnects, to the next server in its list if that one refuses.

Sending: `message.send` with an idempotency key and a `ref`; a send counts as acknowledged only
on `message.sent`. An error frame, a timeout or a lost connection retries the same key.
"""

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

ACK_TIMEOUT = 10.0


@dataclass
class Ack:
    key: str
    channel_id: int
    message_id: int
    sequence: int
    acked_at: float  # time.monotonic()
    sent_at: float  # the first attempt


@dataclass
class ChannelState:
    delivered: list[int] = field(default_factory=list)
    delivered_at: dict[int, float] = field(default_factory=dict)
    resyncing: bool = False

    @property
    def last(self) -> int:
        return self.delivered[-1] if self.delivered else 0


class ChatClient:
    def __init__(self, name: str, token: str, urls: list[str], channel_ids: list[int]) -> None:
        self.name = name
        self.token = token
        self.urls = urls
        self.url_index = 0
        self.channels = {channel_id: ChannelState() for channel_id in channel_ids}
        self.connection: ClientConnection | None = None
        self.ready = asyncio.Event()
        self.stopping = False
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.acks: list[Ack] = []
        self.connects = 0
        self.connect_failures: Counter[str] = Counter()
        self.disconnects: list[str] = []
        self.duplicates: list[tuple[int, int]] = []
        self.gaps = 0  # out-of-order live frames that started a resync
        self.resyncs = 0
        self.errors: list[dict[str, Any]] = []  # error frames (send errors included)
        self.send_failures: Counter[str] = Counter()
        self.frames = 0
        self.task: asyncio.Task[None] | None = None

    # --- connection -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.urls[self.url_index]

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"client-{self.name}")

    async def stop(self) -> None:
        self.stopping = True
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _run(self) -> None:
        backoff = 0.1
        while not self.stopping:
            try:
                async with connect(
                    self.url,
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    open_timeout=10,
                    ping_interval=None,
                    max_size=2**20,
                    max_queue=None,
                ) as connection:
                    self.connection = connection
                    self.connects += 1
                    backoff = 0.1
                    await self._read(connection)  # returns when the server closed cleanly
                    if not self.stopping:
                        self.disconnects.append(f"{connection.close_code}")
            except (OSError, InvalidHandshake, TimeoutError) as error:
                # Refused or failed handshake: this server is down, try the next one.
                self.connect_failures[_describe(error)] += 1
                self.url_index = (self.url_index + 1) % len(self.urls)
            except ConnectionClosed as closed:
                self.disconnects.append(f"{closed.rcvd.code if closed.rcvd else 'abnormal'}")
            finally:
                self.connection = None
                self.ready.clear()
                for future in self.pending.values():
                    if not future.done():
                        future.set_exception(ConnectionError("connection lost"))
                self.pending.clear()
            if not self.stopping:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        connection = self.connection
        if connection is None:
            raise ConnectionError("not connected")
        await connection.send(json.dumps(frame))

    async def _read(self, connection: ClientConnection) -> None:
        async for text in connection:
            self.frames += 1
            frame = json.loads(text)
            kind = frame.get("type")
            if kind == "session.started":
                await self._resume()
                self.ready.set()
            elif kind == "message.created":
                await self._on_message(frame)
            elif kind == "resumed":
                for channel_id in frame["channels"]:
                    self._resynced(int(channel_id))
                for channel_id in frame.get("more") or []:
                    await self._resync(int(channel_id))
            elif kind == "subscribed":
                self._resynced(int(frame["channelId"]))
                if frame.get("more"):
                    await self._resync(int(frame["channelId"]))
            elif kind in ("message.sent", "error"):
                if kind == "error":
                    self.errors.append(frame)
                future = self.pending.pop(frame.get("ref") or "", None)
                if future is not None and not future.done():
                    future.set_result(frame)

    # --- ordered delivery and resync ------------------------------------------------------------

    async def _resume(self) -> None:
        for state in self.channels.values():
            state.resyncing = True
        self.resyncs += 1
        await self._send_frame(
            {
                "type": "resume",
                "channels": {str(key): state.last for key, state in self.channels.items()},
            }
        )

    async def _resync(self, channel_id: int) -> None:
        state = self.channels[channel_id]
        state.resyncing = True
        self.resyncs += 1
        await self._send_frame(
            {"type": "subscribe", "channelId": channel_id, "lastSequence": state.last}
        )

    def _resynced(self, channel_id: int) -> None:
        if channel_id in self.channels:
            self.channels[channel_id].resyncing = False

    async def _on_message(self, frame: dict[str, Any]) -> None:
        state = self.channels.get(frame["channelId"])
        sequence = frame.get("sequence") or 0
        if state is None or not sequence:
            return
        if sequence <= state.last:
            self.duplicates.append((frame["channelId"], sequence))
            return
        if state.resyncing and not frame.get("replayed"):
            return  # the replay in flight covers it (it was committed before the replay ran)
        if sequence == state.last + 1:
            state.delivered.append(sequence)
            state.delivered_at[sequence] = time.monotonic()
            return
        if not state.resyncing:
            self.gaps += 1
            await self._resync(frame["channelId"])

    async def final_resync(self, timeout: float = 20) -> None:
        """Ask every channel for what was missed (a message whose live event was lost and that
        no later frame revealed) and wait for the answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.is_set():
                try:
                    for channel_id in self.channels:
                        await self._resync(channel_id)
                    break
                except (ConnectionError, ConnectionClosed):
                    pass
            await asyncio.sleep(0.1)
        while time.monotonic() < deadline:
            if self.ready.is_set() and not any(s.resyncing for s in self.channels.values()):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{self.name}: resync did not finish within {timeout} s")

    # --- sending --------------------------------------------------------------------------------

    async def send_acknowledged(self, channel_id: int, key: str, body: str) -> Ack:
        """Send until acknowledged, always with the same idempotency key."""
        attempt = 0
        sent_at = time.monotonic()
        while True:
            attempt += 1
            ref = f"{key}#{attempt}"
            try:
                await asyncio.wait_for(self.ready.wait(), timeout=ACK_TIMEOUT)
                future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                self.pending[ref] = future
                await self._send_frame(
                    {
                        "type": "message.send",
                        "channelId": channel_id,
                        "body": body,
                        "idempotencyKey": key,
                        "ref": ref,
                    }
                )
                answer = await asyncio.wait_for(future, timeout=ACK_TIMEOUT)
            except (TimeoutError, ConnectionError, ConnectionClosed) as error:
                self.pending.pop(ref, None)
                self.send_failures[type(error).__name__] += 1
                await asyncio.sleep(0.05)
                continue
            if answer["type"] == "message.sent":
                message = answer["message"]
                ack = Ack(
                    key,
                    channel_id,
                    message["id"],
                    message["sequence"],
                    acked_at=time.monotonic(),
                    sent_at=sent_at,
                )
                self.acks.append(ack)
                return ack
            self.send_failures[answer.get("error", "error")] += 1
            await asyncio.sleep(0.2)

    async def send_loop(
        self,
        channel_id: int,
        interval: float,
        until: asyncio.Event,
        *,
        start_delay: float = 0,
        read_every: int = 0,
    ) -> None:
        """Acknowledged sends every `interval` seconds until `until` is set; every `read_every`
        sends, a `read` frame too (a read receipt: a write and a `channel.read` fan-out)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), timeout=start_delay)
        index = 0
        while not until.is_set():
            index += 1
            await self.send_acknowledged(
                channel_id, f"{self.name}-{index}", f"{self.name} #{index}"
            )
            if read_every and index % read_every == 0:
                with contextlib.suppress(ConnectionError, ConnectionClosed):
                    await self._send_frame({"type": "read", "channelId": channel_id})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), timeout=interval)


def _describe(error: BaseException) -> str:
    if isinstance(error, InvalidStatus):
        return f"HTTP {error.response.status_code}"
    return type(error).__name__


# --- figures --------------------------------------------------------------------------------------


@dataclass
class Figures:
    acknowledged: int
    persisted: int
    delivered_after_resync: int  # (client, message) pairs delivered, after the final resync
    expected_deliveries: int  # clients x persisted messages of their channels
    lost: int  # acknowledged messages missing from the database or from any member client
    duplicates: int  # frames for a sequence a client had already delivered
    duplicate_keys: int  # idempotency keys stored more than once
    gaps_resynced: int
    reconnects: int
    recovery_seconds: float | None = None

    def line(self, scenario: str) -> str:
        recovery = "-" if self.recovery_seconds is None else f"{self.recovery_seconds:.2f}"
        return (
            f"[{scenario}] acknowledged={self.acknowledged} persisted={self.persisted} "
            f"delivered_after_resync={self.delivered_after_resync}/{self.expected_deliveries} "
            f"lost={self.lost} duplicates={self.duplicates} "
            f"duplicate_keys={self.duplicate_keys} gaps_resynced={self.gaps_resynced} "
            f"reconnects={self.reconnects} recovery_s={recovery}"
        )


def figures(
    clients: list["ChatClient"],
    stored: dict[int, list[tuple[int, int, int | None, str | None]]],
) -> Figures:
    """Compare every client's delivered sequences and every acknowledgement with the database
    (`stored`: channel id -> (id, sequence, user id, idempotency key) in sequence order)."""
    acks = [ack for client in clients for ack in client.acks]
    stored_ids = {row[0] for rows in stored.values() for row in rows}
    # An acknowledgement is kept if the database holds that message at that sequence.
    by_sequence = {
        channel_id: {row[1]: row[0] for row in rows} for channel_id, rows in stored.items()
    }
    delivered = expected = 0
    everyone_has: dict[int, set[int]] = {}  # channel -> sequences every member client delivered
    for client in clients:
        for channel_id, state in client.channels.items():
            sequences = set(by_sequence.get(channel_id, {}))
            mine = set(state.delivered)
            expected += len(sequences)
            delivered += len(mine & sequences)
            everyone_has[channel_id] = everyone_has.get(channel_id, mine) & mine
    lost = sum(
        1
        for ack in acks
        if by_sequence.get(ack.channel_id, {}).get(ack.sequence) != ack.message_id
        or ack.sequence not in everyone_has.get(ack.channel_id, set())
    )
    keys = Counter(
        (channel_id, row[2], row[3])
        for channel_id, rows in stored.items()
        for row in rows
        if row[3]
    )
    return Figures(
        acknowledged=len(acks),
        persisted=len(stored_ids),
        delivered_after_resync=delivered,
        expected_deliveries=expected,
        lost=lost,
        duplicates=sum(len(client.duplicates) for client in clients),
        duplicate_keys=sum(count - 1 for count in keys.values() if count > 1),
        gaps_resynced=sum(client.gaps for client in clients),
        reconnects=sum(max(client.connects - 1, 0) for client in clients),
    )


def recovery_seconds(clients: list["ChatClient"], restored_at: float) -> float | None:
    """From `restored_at` (the fault over: a process killed, a service back) until every client
    has delivered the first message acknowledged after it."""
    after = [ack for client in clients for ack in client.acks if ack.acked_at >= restored_at]
    if not after:
        return None
    first = min(after, key=lambda ack: ack.acked_at)
    times = []
    for client in clients:
        state = client.channels.get(first.channel_id)
        if state is None:
            continue
        at = state.delivered_at.get(first.sequence)
        if at is None:
            return None
        times.append(at)
    return max(max(times), first.acked_at) - restored_at
