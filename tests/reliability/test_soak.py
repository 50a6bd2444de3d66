"""Issue 7 #10: the soak (`make reliability`; excluded from the normal run by `-m "not soak"`).

200 websocket clients (SOAK_CLIENTS) chat for 10 minutes (SOAK_SECONDS) through two uvicorn
processes sharing a private PostgreSQL and Redis (faults.py): channels of 10 members, each client
sending an acknowledged message every 10 s (SOAK_SEND_INTERVAL: 20 messages and
200 deliveries a second in all) and a read receipt every 5th.
Asserts: 100% of persisted messages delivered to every member after the final resync, 0 lost,
0 duplicates, server memory (RSS from /proc) growth under 10% after warm-up, 0 errors (error
frames, failed or retried sends, dropped sockets, server tracebacks). Prints the figures (`-s`).
"""

import asyncio
import contextlib
import os
import random
import resource
import statistics
import time
from collections import Counter

import pytest

from .chat_load import ChatClient, figures
from .faults import Server, Stack

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
SOAK_CLIENTS = int(os.environ.get("SOAK_CLIENTS", "200"))
SEND_INTERVAL = float(os.environ.get("SOAK_SEND_INTERVAL", "10"))
MEMBERS_PER_CHANNEL = 10
# Memory is compared from the end of the warm-up (a fifth of the run, at most 2 minutes) on.
WARMUP_SECONDS = float(os.environ.get("SOAK_WARMUP_SECONDS", str(min(120.0, SOAK_SECONDS / 5))))
SAMPLE_EVERY = 2.0
MEMORY_GROWTH_LIMIT = 0.10

pytestmark = [
    pytest.mark.soak,
    pytest.mark.processes,
    pytest.mark.timeout(int(SOAK_SECONDS) + 600),
]


async def sample_memory(
    servers: list[Server], samples: list[tuple[float, list[int]]], until: asyncio.Event
) -> None:
    while not until.is_set():
        samples.append((time.monotonic(), [server.rss_bytes() for server in servers]))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(until.wait(), timeout=SAMPLE_EVERY)


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def memory_growth(
    samples: list[tuple[float, list[int]]], started: float
) -> list[tuple[float, float, float]]:
    """Per server: (RSS at the end of the warm-up, RSS at the end, growth), each RSS the mean of
    a few samples so one allocation burst does not decide it."""
    after = [rss for at, rss in samples if at - started >= WARMUP_SECONDS]
    assert len(after) >= 6, "too few memory samples after the warm-up: run longer"
    window = max(3, min(15, len(after) // 5))
    result = []
    for index in range(len(after[0])):
        baseline = statistics.mean(rss[index] for rss in after[:window])
        final = statistics.mean(rss[index] for rss in after[-window:])
        result.append((baseline, final, final / baseline - 1))
    return result


async def test_soak_200_clients_deliver_everything_in_flat_memory_without_errors(
    stack: Stack, two_servers: list[Server]
) -> None:
    channels = max(1, SOAK_CLIENTS // MEMBERS_PER_CHANNEL)
    seeded = await asyncio.to_thread(stack.seed, users=SOAK_CLIENTS, channels=channels)
    urls = [server.ws_url for server in two_servers]
    clients = []
    for position, user in enumerate(seeded["users"]):
        index = position % len(urls)
        clients.append(
            ChatClient(
                f"s{index}-c{position}",
                user["token"],
                urls[index:] + urls[:index],
                [user["channelId"]],
            )
        )
    for client in clients:
        client.start()
    stop = asyncio.Event()
    samples: list[tuple[float, list[int]]] = []
    tasks = []
    try:
        await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), timeout=120)
        started = time.monotonic()
        cpu_before = [server.cpu_seconds() for server in two_servers]
        client_cpu_before = process_cpu_seconds()
        rng = random.Random(7)
        for client, user in zip(clients, seeded["users"], strict=True):
            tasks.append(
                asyncio.create_task(
                    client.send_loop(
                        user["channelId"],
                        SEND_INTERVAL,
                        stop,
                        start_delay=rng.uniform(0, SEND_INTERVAL),
                        read_every=5,
                    )
                )
            )
        sampler = asyncio.create_task(sample_memory(two_servers, samples, stop))
        await asyncio.sleep(SOAK_SECONDS)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, sampler), timeout=60)
        elapsed = time.monotonic() - started
        server_cpu = [
            (server.cpu_seconds() - before) / elapsed
            for server, before in zip(two_servers, cpu_before, strict=True)
        ]
        client_cpu = (process_cpu_seconds() - client_cpu_before) / elapsed
        await asyncio.gather(*(client.final_resync(timeout=60) for client in clients))

        stored = {
            channel["id"]: await asyncio.to_thread(stack.messages, channel["id"])
            for channel in seeded["channels"]
        }
        result = figures(clients, stored)
        growth = memory_growth(samples, started)
        acks = [ack for client in clients for ack in client.acks]
        round_trips = sorted(ack.acked_at - ack.sent_at for ack in acks)
        error_frames = Counter(
            error.get("error", "?") for client in clients for error in client.errors
        )
        send_failures: Counter[str] = Counter()
        for client in clients:
            send_failures.update(client.send_failures)
        dropped = sum(
            len(client.disconnects) + sum(client.connect_failures.values()) + client.connects - 1
            for client in clients
        )
        server_errors = [line for server in two_servers for line in server.errors_logged()]
        delivered_pct = 100 * result.delivered_after_resync / max(result.expected_deliveries, 1)

        print(
            f"\n[soak] clients={len(clients)} channels={channels} seconds={elapsed:.0f} "
            f"warmup_s={WARMUP_SECONDS:.0f} messages/s={result.acknowledged / elapsed:.1f}"
        )
        print("[soak] " + result.line("soak").removeprefix("[soak] "))
        print(f"[soak] delivered_after_resync={delivered_pct:.3f}%")
        print(
            f"[soak] ack round trip p50={1000 * statistics.median(round_trips):.1f} ms "
            f"p99={1000 * round_trips[int(0.99 * (len(round_trips) - 1))]:.1f} ms"
        )
        step = max(1, len(samples) // 10)
        trend = ", ".join(
            f"{at - started:.0f}s:" + "/".join(f"{rss / 2**20:.0f}" for rss in values)
            for at, values in samples[::step]
        )
        print(f"[soak] RSS MiB over time (server 0/1): {trend}")
        for index, (baseline, final, change) in enumerate(growth):
            print(
                f"[soak] server {index} RSS after warm-up {baseline / 2**20:.1f} MiB, "
                f"at the end {final / 2**20:.1f} MiB, growth {100 * change:+.1f}%"
            )
        print(
            "[soak] CPU share (cores): servers "
            + ", ".join(f"{share:.2f}" for share in server_cpu)
            + f"; clients (this process) {client_cpu:.2f}; load average {os.getloadavg()[0]:.1f}"
        )
        print(
            f"[soak] errors: error_frames={dict(error_frames)} send_failures={dict(send_failures)} "
            f"dropped_sockets={dropped} server_errors={len(server_errors)}"
        )

        assert result.acknowledged > 0
        assert result.delivered_after_resync == result.expected_deliveries
        assert result.lost == 0
        assert result.duplicates == 0
        assert result.duplicate_keys == 0
        assert all(change < MEMORY_GROWTH_LIMIT for _, _, change in growth), growth
        assert error_frames == Counter()
        assert send_failures == Counter()
        assert dropped == 0
        assert server_errors == []
        assert all(
            server.process is not None and server.process.poll() is None for server in two_servers
        )
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(client.stop() for client in clients))
