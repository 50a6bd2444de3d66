import threading
import uuid
from typing import Any

import pytest
from django.db import connection, connections

from channels_app import ratelimit
from channels_app.actors import Actor
from channels_app.exceptions import RateLimited
from channels_app.models import Message
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services


def test_sends_past_the_user_limit_are_refused_with_429(
    settings: Any, app_actor: Actor, jane: Any
) -> None:
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "send_user": "3/60"}
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name=f"rl-{uuid.uuid4()}", creator=jane
    )
    actor = Actor.for_user(jane)
    for index in range(3):
        message_services.send_message(actor=actor, channel_id=channel.pk, body=f"m{index}")
    with pytest.raises(RateLimited) as error:
        message_services.send_message(actor=actor, channel_id=channel.pk, body="one too many")
    assert error.value.status == 429
    assert Message.objects.filter(channel=channel).count() == 3


def test_concurrent_hits_never_exceed_the_limit(settings: Any) -> None:
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "connect_user": "25/60"}
    key = uuid.uuid4().hex
    accepted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            try:
                ratelimit.hit("connect_user", key)
            except RateLimited:
                continue
            with lock:
                accepted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    limit = ratelimit.limit_for("connect_user").count
    assert len(accepted) / limit <= 1.0
    assert len(accepted) == limit  # 160 attempts, exactly the limit accepted


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_with_one_idempotency_key_make_one_message(
    application: Any, make_user: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (in-memory SQLite locks whole tables)")
    user = make_user(application)
    channel, _ = channel_services.create_channel(
        actor=Actor.for_application(application), type="PUBLIC", name="idem", creator=user
    )
    results: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            message = message_services.send_message(
                actor=Actor.for_user(user),
                channel_id=channel.pk,
                body="once",
                idempotency_key="same-key",
            )
            results.append(message.pk)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert Message.objects.filter(channel=channel).count() == 1


def test_limits_fail_open_while_the_counter_store_is_down(
    settings: Any, monkeypatch: Any, app_actor: Actor, jane: Any
) -> None:
    from django.core.cache.backends.redis import RedisCache

    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "send_user": "1/60"}
    # A real Redis client pointed at a port where nothing listens: every call is refused.
    unreachable = RedisCache("redis://127.0.0.1:1/0", {})
    monkeypatch.setattr(ratelimit, "counters", lambda: unreachable)
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name=f"open-{uuid.uuid4()}", creator=jane
    )
    for index in range(3):
        message_services.send_message(
            actor=Actor.for_user(jane), channel_id=channel.pk, body=f"m{index}"
        )
    assert Message.objects.filter(channel=channel).count() == 3
