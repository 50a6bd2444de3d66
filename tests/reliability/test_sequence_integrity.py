"""Issue 7 #8: 8 concurrent writers x 250 messages into one channel on PostgreSQL:
0 gaps, 0 duplicates, strict order for every reader."""

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections

from channels_app.actors import Actor
from channels_app.models import Message
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services

WRITERS = 8
PER_WRITER = 250


@pytest.mark.django_db(transaction=True)
def test_eight_writers_leave_no_gap_and_no_duplicate(application: Any, make_user: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks: set DATABASE_URL (CI does)")
    users = [make_user(application) for _ in range(WRITERS)]
    channel, _ = channel_services.create_channel(
        actor=Actor.for_application(application), type="PUBLIC", name="busy", members=users
    )
    errors: list[BaseException] = []
    readers_seen: list[list[int]] = []
    done = threading.Event()

    def writer(user: Any) -> None:
        try:
            for index in range(PER_WRITER):
                message_services.send_message(
                    actor=Actor.for_user(user), channel_id=channel.pk, body=f"{user.pk}:{index}"
                )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    def reader() -> None:
        # A reader polling while writers run must only ever see a gap-free prefix, in order.
        try:
            while not done.is_set():
                seen = list(
                    Message.objects.filter(channel=channel)
                    .order_by("id")
                    .values_list("sequence", flat=True)
                )
                readers_seen.append(seen)
                time.sleep(0.05)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(user,)) for user in users]
    polling = threading.Thread(target=reader)
    started = time.perf_counter()
    polling.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    polling.join()
    elapsed = time.perf_counter() - started

    assert errors == []
    sequences = list(
        Message.objects.filter(channel=channel).order_by("id").values_list("sequence", flat=True)
    )
    total = WRITERS * PER_WRITER
    gaps = total - len(set(sequences))
    duplicates = len(sequences) - len(set(sequences))
    assert sequences == list(range(1, total + 1)), "ids and sequences must grow together"
    for seen in readers_seen:
        assert seen == list(range(1, len(seen) + 1))
    print(
        f"\nsequence integrity: {total} messages by {WRITERS} writers in {elapsed:.1f} s; "
        f"gaps={gaps} duplicates={duplicates} reader snapshots={len(readers_seen)} all in order"
    )
