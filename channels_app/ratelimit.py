"""Fixed-window rate limits on message sends and connects, per user and per application.

Counters live in the cache (Redis when `REDIS_URL` is set, so every process shares them; process
memory otherwise). `cache.incr` is atomic, so concurrent callers never exceed the limit.
Limits are `"<count>/<seconds>"` strings from the environment; `0` disables one.
"""

import logging
import time
from dataclasses import dataclass
from functools import cache as once

from django.conf import settings
from django.core.cache import BaseCache, caches

from .actors import Actor
from .exceptions import UNAVAILABLE_ERRORS, RateLimited

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Limit":
        count, _, seconds = text.partition("/")
        return cls(int(count), int(seconds or 1))


def limit_for(name: str) -> Limit:
    return Limit.parse(settings.CHAT_RATE_LIMITS[name])


@once
def counters() -> BaseCache:
    """One cache client per process. `django.core.cache.cache` is per request context under
    ASGI, so it opened a new Redis connection for every send (~12% of a send's time in a
    profile; README "Benchmarks"). The client's connection pool is thread-safe."""
    return caches.create_connection("default")


def hit(name: str, key: object) -> None:
    """Count one event against `name` for `key`; raise RateLimited past the limit."""
    limit = limit_for(name)
    if limit.count <= 0:
        return
    cache = counters()
    window = int(time.time() // limit.seconds)
    cache_key = f"rl:{name}:{key}:{window}"
    try:
        cache.add(cache_key, 0, timeout=limit.seconds + 1)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr: start the window again
            cache.add(cache_key, 1, timeout=limit.seconds + 1)
            count = 1
    except UNAVAILABLE_ERRORS as error:
        # Fail open: a chat that stops taking messages because its counter store restarts is
        # worse than a few seconds without limits (sends still need PostgreSQL).
        logger.warning("rate limit %s not enforced, counters unavailable: %s", name, error)
        return
    if count > limit.count:
        retry = limit.seconds - (time.time() % limit.seconds)
        raise RateLimited(
            f"Rate limit {limit.count} per {limit.seconds} s exceeded ({name}).",
            properties={"retryAfterSeconds": round(retry, 1)},
        )


def check_send(actor: Actor) -> None:
    """Before a message send: the sender's limit (user or application) and the application's."""
    if actor.user is not None:
        hit("send_user", actor.user.pk)
    hit("send_application", actor.application.pk)


def check_connect(actor: Actor) -> None:
    """Before accepting a websocket session."""
    if actor.user is not None:
        hit("connect_user", actor.user.pk)
    hit("connect_application", actor.application.pk)
