"""Fixtures for fault and soak runs: a private PostgreSQL and Redis per pytest run, and uvicorn
processes per test, all torn down even when a test fails (see faults.py)."""

from collections.abc import Iterator

import pytest

from .faults import Server, Stack, missing_tools, private_stack


@pytest.fixture(scope="session")
def private_services() -> Iterator[Stack]:
    reason = missing_tools()
    if reason is not None:
        pytest.skip(f"fault injection needs its own services: {reason}")
    with private_stack() as stack:
        yield stack


@pytest.fixture
def stack(private_services: Stack) -> Iterator[Stack]:
    """The private services, running (a failed test may have left one stopped)."""
    if not private_services.postgres.running():
        private_services.postgres.start()
    if private_services.redis.process is None:
        private_services.redis.start()
    try:
        yield private_services
    finally:
        private_services.stop_servers()


@pytest.fixture
def two_servers(stack: Stack) -> list[Server]:
    return [stack.start_server("asgi-a"), stack.start_server("asgi-b")]
