"""Offline members get notifications; webhooks are signed, retried, and run off the request."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from channels_app import events
from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser, Notification
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import notifications, sessions


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 recording webhook requests; answers `statuses` in turn."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def wait_for(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.requests) >= count, self.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def general(application: Application, jane: ChatUser, john: ChatUser, alex: ChatUser) -> Channel:
    channel, _ = channel_services.create_channel(
        actor=Actor.for_application(application),
        type="PUBLIC",
        name="general",
        creator=jane,
        members=[john, alex],
    )
    return channel


def test_offline_members_get_a_notification_and_online_ones_do_not(
    general: Channel, jane: ChatUser, john: ChatUser, alex: ChatUser, published: Any
) -> None:
    sessions.open_session(user=alex)  # alex is connected
    with published() as capture:
        message = message_services.send_message(
            actor=Actor.for_user(jane), channel_id=general.pk, body="hello all"
        )
    rows = list(Notification.objects.all())
    assert [row.user_id for row in rows] == [john.pk]  # not the sender, not alex (online)
    note = rows[0]
    assert note.channel_id == general.pk and note.message_id == message.pk
    assert note.data["type"] == "USER:SENT:MESSAGE"
    assert note.data["_relays"] == {} and note.data["channelId"] == general.pk
    assert note.data["message"]["id"] == message.pk and note.body == "hello all"
    created = capture.of(events.NotificationCreated)
    assert [(event.user_ids, event.notification["id"]) for event in created] == [
        ((john.pk,), note.pk)
    ]


def test_a_system_message_notifies_every_offline_member(
    application: Application, general: Channel, published: Any
) -> None:
    with published():
        message_services.send_message(
            actor=Actor.for_application(application), channel_id=general.pk, body="maintenance"
        )
    assert Notification.objects.count() == 3
    assert {n.data["type"] for n in Notification.objects.all()} == {"SYSTEM:SENT:MESSAGE"}


def test_notifications_are_listed_in_the_notification_resource_shape(
    general: Channel, jane: ChatUser, john: ChatUser, published: Any, client_for: Any
) -> None:
    with published():
        message_services.send_message(actor=Actor.for_user(jane), channel_id=general.pk, body="x")
    response: Any = client_for(john).get(f"/v1/users/{john.pk}/notifications")
    assert response.status_code == 200
    (item,) = response.json()["_embedded"]["notifications"]
    assert set(item) >= {"id", "title", "body", "data", "muted", "createdTime"}
    assert item["data"]["type"] == "USER:SENT:MESSAGE" and item["muted"] is False
    assert set(item["data"]) >= {"_relays", "channelId", "message"}


def test_a_big_channel_is_notified_in_batches_without_duplicates(
    application: Application,
    general: Channel,
    make_user: Any,
    jane: ChatUser,
    published: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notifications, "NOTIFICATION_BATCH_SIZE", 3)
    app = Actor.for_application(application)
    for _ in range(8):
        channel_services.add_member(actor=app, channel_id=general.pk, user=make_user(application))
    with published():
        message = message_services.send_message(
            actor=Actor.for_user(jane), channel_id=general.pk, body="batched"
        )
    assert Notification.objects.filter(message=message).count() == 10
    # A retried batch creates nothing new.
    assert notifications.notify_offline_batch(message_id=message.pk) is None
    assert Notification.objects.filter(message=message).count() == 10


def test_a_persistence_off_channel_sends_no_notifications(
    general: Channel, jane: ChatUser, published: Any
) -> None:
    Channel.objects.filter(pk=general.pk).update(persistent=False)
    with published():
        message_services.send_message(actor=Actor.for_user(jane), channel_id=general.pk, body="x")
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_webhook_is_posted_signed_with_the_application_secret(
    application: Application, general: Channel, jane: ChatUser, receiver: Receiver
) -> None:
    Application.objects.filter(pk=application.pk).update(webhook_url=receiver.url)
    message_services.send_message(actor=Actor.for_user(jane), channel_id=general.pk, body="ping")
    receiver.wait_for(2)
    secret = Application.objects.get(pk=application.pk).webhook_secret
    users = set()
    for headers, body in receiver.requests:
        assert notifications.verify_signature(body, secret, headers["x-chatkitty-signature"])
        assert not notifications.verify_signature(body, "wrong", headers["x-chatkitty-signature"])
        payload = json.loads(body)
        assert payload["type"] == "notification.created"
        assert payload["applicationId"] == application.pk
        assert payload["notification"]["data"]["message"]["body"] == "ping"
        users.add(payload["user"]["name"])
    assert users == {"john", "alex"}


@pytest.mark.django_db(transaction=True)
def test_a_failing_webhook_is_retried_with_backoff(
    application: Application,
    general: Channel,
    jane: ChatUser,
    receiver: Receiver,
    settings: Any,
) -> None:
    settings.CHAT_WEBHOOK_RETRY_BASE_SECONDS = 0.1
    Application.objects.filter(pk=application.pk).update(webhook_url=receiver.url)
    general.memberships.exclude(user__name__in=["jane", "john"]).delete()
    receiver.statuses = [500, 503]
    started = time.monotonic()
    message_services.send_message(actor=Actor.for_user(jane), channel_id=general.pk, body="retry")
    assert time.monotonic() - started < 1  # the request does not wait for retries
    receiver.wait_for(3)
    attempts = [headers["x-chatkitty-attempt"] for headers, _ in receiver.requests]
    assert attempts == ["1", "2", "3"]


def test_backoff_doubles(settings: Any) -> None:
    settings.CHAT_WEBHOOK_RETRY_BASE_SECONDS = 2
    assert [notifications.retry_delay(a) for a in (2, 3, 4, 5)] == [2, 4, 8, 16]


@pytest.mark.django_db(transaction=True)
def test_with_the_database_backend_the_fan_out_runs_on_the_worker_not_in_the_request(
    application: Application,
    general: Channel,
    jane: ChatUser,
    john: ChatUser,
    receiver: Receiver,
    settings: Any,
) -> None:
    settings.CHAT_WEBHOOK_RETRY_BASE_SECONDS = 0.05
    Application.objects.filter(pk=application.pk).update(webhook_url=receiver.url)
    receiver.statuses = [500]
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        client = APIClient()
        from tests.conftest import user_token

        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(jane)}")
        response: Any = client.post(
            f"/v1/channels/{general.pk}/messages", {"body": "queued"}, format="json"
        )
        assert response.status_code == 200
        assert not Notification.objects.exists()  # nothing done inside the request
        deadline = time.monotonic() + 10
        while len(receiver.requests) < 3 and time.monotonic() < deadline:
            call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
            time.sleep(0.05)
    assert Notification.objects.filter(user=john).count() == 1
    assert len(receiver.requests) == 3  # john and alex, one retried after a 500


def test_with_the_database_backend_the_fan_out_task_commits_with_the_message(
    general: Channel, jane: ChatUser
) -> None:
    """An outbox: the task row is written in the send's transaction, so a send that rolls back
    queues nothing and a committed one cannot lose its notifications to a crash after commit."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    class Abort(Exception):
        pass

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        with pytest.raises(Abort), transaction.atomic():
            message = message_services.send_message(
                actor=Actor.for_user(jane), channel_id=general.pk, body="rolled back"
            )
            queued = DBTaskResult.objects.get()
            assert queued.args_kwargs["kwargs"] == {"message_id": message.pk, "after_user_id": 0}
            raise Abort
        assert not DBTaskResult.objects.exists()
        message = message_services.send_message(
            actor=Actor.for_user(jane), channel_id=general.pk, body="kept"
        )
        assert DBTaskResult.objects.get().args_kwargs["kwargs"]["message_id"] == message.pk
