"""Fuzzing: schemathesis generates requests from `/v1/schema` for every operation and checks each
response with all of its checks (server errors, status codes, content types, headers, response
schemas, negative data rejected, valid data accepted, auth not ignored, use after free, ...).

It runs the `schemathesis` CLI against pytest-django's live server, as the application and as a
user, with a fixed seed and a bounded number of examples per operation (FUZZ_EXAMPLES, override
with SCHEMATHESIS_EXAMPLES). Configuration: tests/security/schemathesis.toml.
"""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from channels_app.actors import Actor
from channels_app.models import Application, ChatUser
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from tests.conftest import application_token, user_token

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
CONFIG = Path(__file__).with_name("schemathesis.toml")
CLI = Path(sys.executable).with_name("schemathesis")


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


def fuzz(live_server: Any, token: str, report: Path) -> dict[str, Any]:
    """Run schemathesis; its JSON report."""
    command = [
        str(CLI),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_server.url}/v1/schema",
        "--checks",
        "all",
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--seed",
        "20240601",
        "--workers",
        "1",
        "--max-time",
        "150",
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
    live_server: Any, seeded: ChatUser, application: Application, tmp_path: Path
) -> None:
    assert_clean(fuzz(live_server, application_token(application), tmp_path / "app.json"))


def test_fuzzing_as_a_user_finds_nothing(
    live_server: Any, seeded: ChatUser, tmp_path: Path
) -> None:
    assert_clean(fuzz(live_server, user_token(seeded), tmp_path / "user.json"))
