"""A real browser: an operator signs in to the admin, opens the report queue and deletes a
reported message while a member's websocket chat session receives `message.deleted` live.

The admin pages are served by pytest-django's `live_server` (WSGI, in this process); the chat
session by uvicorn in a subprocess (the ASGI app with the `/ws/v1/chat` consumer). They share the
PostgreSQL test database (the test is transactional, so the server sees the rows) and the Redis
channel layer, which is how an event published by the admin reaches a socket held by another
process: exactly the production shape. Without PostgreSQL and Redis the test is skipped.
"""

import json
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, expect
from websockets.sync.client import connect as ws_connect

from channels_app.actors import Actor
from channels_app.models import Message, MessageReport
from channels_app.services import applications as application_services
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import moderation
from channels_app.services import users as user_services

from ..servers import chromium_executable, launch_chromium, uvicorn_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
ARTIFACTS = ROOT / "artifacts"
PASSWORD = "operator-browser-password"


def test_database_url() -> str:
    data = connection.settings_dict
    user = quote(data.get("USER") or "", safe="")
    password = quote(data.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return (
        f"postgres://{credentials}{data.get('HOST') or '127.0.0.1'}:"
        f"{data.get('PORT') or '5432'}/{data['NAME']}"
    )


test_database_url.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def chat_server(tmp_path: Path) -> Iterator[int]:
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL and Redis shared with a server process")
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "CHANNEL_LAYER_PREFIX": settings.CHANNEL_LAYER_PREFIX,
        "PYTHONUNBUFFERED": "1",
    }
    with uvicorn_server(env, tmp_path / "uvicorn.log") as base:
        yield int(base.rsplit(":", 1)[1])


@pytest.fixture
def chromium_path() -> str:
    return chromium_executable()


def receive_until(socket_: Any, type_: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {type_} frame within {timeout} s")
        frame: dict[str, Any] = json.loads(socket_.recv(timeout=remaining))
        if frame.get("type") == type_:
            return frame


def test_operator_deletes_a_reported_message_and_members_see_it_live(
    live_server: Any, chat_server: int, chromium_path: str
) -> None:
    application, _ = application_services.create_application(name="Acme Chat")
    app_actor = Actor.for_application(application)
    jane = user_services.create_user(actor=app_actor, name="jane", display_name="Jane")
    john = user_services.create_user(actor=app_actor, name="john", display_name="John")
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="lobby", creator=jane, members=[john]
    )
    # Some history for the dashboard's chart.
    for day in range(12):
        for _ in range(day % 4 + 1):
            old = message_services.send_message(
                actor=Actor.for_user(jane), channel_id=channel.pk, body=f"day {day}"
            )
            Message.objects.filter(pk=old.pk).update(
                created_time=timezone.now() - timedelta(days=day + 1)
            )
    rude = message_services.send_message(
        actor=Actor.for_user(john), channel_id=channel.pk, body="buy cheap pills at spam.example"
    )
    report = moderation.report_message(
        actor=Actor.for_user(jane), message_id=rude.pk, reason="spam"
    )
    operator = get_user_model().objects.create_user(
        username="moderator", password=PASSWORD, is_staff=True
    )
    root = get_user_model().objects.create_superuser(username="root", password=PASSWORD)
    moderation.set_operators(
        actor=Actor.for_operator(application, root), operator_ids=[operator.pk]
    )
    token, _ = user_services.mint_access_token(actor=app_actor, user_id=jane.pk)

    with (
        ws_connect(f"ws://127.0.0.1:{chat_server}/ws/v1/chat?token={token}") as session,
        launch_chromium(chromium_path) as browser,
    ):
        started = receive_until(session, "session.started")
        assert channel.pk in started["channels"]

        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        errors: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        page.on("console", on_console)
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", "moderator")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        expect(page.locator("#content-main.ck-dashboard")).to_be_visible()
        expect(page.locator(".ck-app h2")).to_contain_text("Acme Chat")
        expect(page.locator(".ck-chart rect.ck-bar")).to_have_count(30)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)

        page.click(".ck-attention a")  # "Open reports: 1" leads to the queue
        expect(page.locator("#result_list")).to_contain_text("buy cheap pills")
        page.screenshot(path=str(ARTIFACTS / "admin-report-queue.png"), full_page=True)
        page.check(f"input[name=_selected_action][value='{report.pk}']")
        page.select_option("select[name=action]", "delete_reported_messages")
        page.fill("input[name=reason]", "spam link")
        started_at = time.monotonic()
        page.click("button[name=index]")
        expect(page.locator(".messagelist")).to_contain_text("Deleted 1 reported message(s).")

        deleted = receive_until(session, "message.deleted", timeout=10)
        latency = time.monotonic() - started_at
        assert deleted["messageId"] == rude.pk and deleted["channelId"] == channel.pk
        assert latency < 5, latency
        page.screenshot(path=str(ARTIFACTS / "admin-report-queue-after.png"), full_page=True)
        assert not [error for error in errors if "Content Security Policy" in error], errors
        context.close()

    report.refresh_from_db()
    assert report.status == MessageReport.Status.ACTIONED
    assert not Message.objects.filter(pk=rude.pk).exists()
