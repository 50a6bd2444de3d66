"""Fuzzing: schemathesis generates requests from `/v1/schema` for every operation and checks each
response with all of its checks (server errors, status codes, content types, headers, response
schemas, negative data rejected, valid data accepted, auth not ignored, use after free, ...).

It runs the `schemathesis` CLI against uvicorn serving the test database, as the application and
as a user, with a fixed seed and a bounded number of examples per operation (FUZZ_EXAMPLES,
override with SCHEMATHESIS_EXAMPLES). Configuration: tests/security/schemathesis.toml.
PostgreSQL only: the server process must share the test database (an in-memory SQLite one cannot
be shared), and PostgreSQL is what refuses NUL characters the schema rules out.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from channels_app.actors import Actor
from channels_app.models import Application, ChatUser
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from tests.conftest import application_token, user_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

FUZZ_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
CONFIG = Path(__file__).with_name("schemathesis.toml")
CLI = Path(sys.executable).with_name("schemathesis")
UVICORN = Path(sys.executable).with_name("uvicorn")


@pytest.fixture
def server(transactional_db: Any) -> Iterator[str]:
    """uvicorn serving the test database; its base URL."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): the server shares the test database")
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "CHAT_RATE_SEND_PER_USER": "0/1",
        "CHAT_RATE_SEND_PER_APPLICATION": "0/1",
    }
    process = subprocess.Popen(
        [str(UVICORN), "chatkitty_site.asgi:application", "--port", str(port), "--no-access-log",
         "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/v1/schema", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def seeded(application: Application, make_user: Callable[..., ChatUser]) -> ChatUser:
    """A small application, so that generated ids sometimes hit real rows."""
    app = Actor.for_application(application)
    jane, john = make_user(application, "jane"), make_user(application, "john")
    channel, _ = channel_services.create_channel(
        actor=app, type="PUBLIC", name="general", creator=jane, members=[john]
    )
    for n in range(3):
        message_services.send_message(
            actor=Actor.for_user(jane), channel_id=channel.pk, body=f"hello {n}"
        )
    return jane


def fuzz(base: str, token: str, report: Path) -> dict[str, Any]:
    """Run schemathesis; its JSON report."""
    command = [
        str(CLI),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/v1/schema",
        "--checks",
        "all",
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--seed",
        "20240601",
        "--workers",
        "2",
        "--no-shrink",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    data: dict[str, Any] = json.loads(report.read_text())
    data["output"] = result.stdout
    return data


def assert_clean(data: dict[str, Any]) -> None:
    summary = {failure["title"]: failure["count"] for failure in data["failures"]}
    print(  # the figures for docs/reliability-security.md
        f"schemathesis: {data['operations']['tested']} operations, "
        f"{data['test_cases']['generated']} test cases, failures {summary or 0}, "
        f"errors {len(data['errors'])}"
    )
    assert data["operations"]["tested"] == data["operations"]["selected"] > 40
    assert data["test_cases"]["generated"] > 0
    assert not data["failures"] and not data["errors"], data["output"][-6000:]
    assert data["exit_code"] == 0


def test_fuzzing_as_the_application_finds_nothing(
    server: str, seeded: ChatUser, application: Application, tmp_path: Path
) -> None:
    assert_clean(fuzz(server, application_token(application), tmp_path / "app.json"))


def test_fuzzing_as_a_user_finds_nothing(server: str, seeded: ChatUser, tmp_path: Path) -> None:
    assert_clean(fuzz(server, user_token(seeded), tmp_path / "user.json"))
