"""`POST /v1/messages/{id}/reports` (members) and `GET /v1/channels/{id}/reported-messages`
(the application)."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from channels_app.actors import Actor
from channels_app.models import Application, ChatUser, MessageReport
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import moderation

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(app_actor: Actor, jane: ChatUser, john: ChatUser) -> Any:
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PRIVATE", name="room", creator=jane, members=[john]
    )
    return channel


@pytest.fixture
def rude(room: Any, john: ChatUser) -> Any:
    return message_services.send_message(
        actor=Actor.for_user(john), channel_id=room.pk, body="you are all wrong"
    )


def report_url(message_id: Any) -> str:
    return f"/v1/messages/{message_id}/reports"


def test_a_member_reports_a_message_once(
    client_for: Callable[[ChatUser], APIClient], jane: ChatUser, john: ChatUser, rude: Any
) -> None:
    client = client_for(jane)
    response = client.post(report_url(rude.pk), {"reason": "insulting"}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "OPEN" and data["reason"] == "insulting"
    assert data["messageId"] == rude.pk and data["message"]["body"] == "you are all wrong"
    assert data["reporter"]["name"] == "jane" and data["messageAuthor"]["name"] == "john"
    assert data["channelId"] == rude.channel_id and "createdTime" in data
    again = client.post(report_url(rude.pk), {"reason": "still"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"] == "DuplicateResourceError"
    assert MessageReport.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 400), ({"reason": ""}, 400), ({"reason": 5}, 400), ({"reason": "x" * 1001}, 400)],
    ids=["missing", "empty", "not-a-string", "too-long"],
)
def test_a_report_needs_a_reason(
    client_for: Callable[[ChatUser], APIClient],
    jane: ChatUser,
    rude: Any,
    body: dict[str, Any],
    status: int,
) -> None:
    response = client_for(jane).post(report_url(rude.pk), body, format="json")
    assert response.status_code == status
    assert response.json()["error"] == "InvalidInputError"
    assert not MessageReport.objects.exists()


def test_reports_refused(
    client_for: Callable[[ChatUser], APIClient],
    app_client: APIClient,
    other_app_client: APIClient,
    john: ChatUser,
    alex: ChatUser,
    rude: Any,
    application: Application,
    make_user: Callable[..., ChatUser],
    other_application: Application,
) -> None:
    # Not a member of the private channel: the message reads as missing.
    assert (
        client_for(alex).post(report_url(rude.pk), {"reason": "x"}, format="json").status_code
        == 404
    )
    # One's own message.
    own = client_for(john).post(report_url(rude.pk), {"reason": "x"}, format="json")
    assert own.status_code == 400
    # Another application's user, and unknown ids, read like missing.
    stranger = make_user(other_application, "stranger")
    assert (
        client_for(stranger).post(report_url(rude.pk), {"reason": "x"}, format="json").status_code
        == 404
    )
    for bad in ("999999", "abc", "-1"):
        assert (
            client_for(john).post(report_url(bad), {"reason": "x"}, format="json").status_code
            == 404
        )
    # Only users report.
    assert app_client.post(report_url(rude.pk), {"reason": "x"}, format="json").status_code == 400
    assert APIClient().post(report_url(rude.pk), {"reason": "x"}, format="json").status_code == 401
    assert not MessageReport.objects.exists()


def test_the_application_lists_a_channels_reported_messages(
    app_client: APIClient,
    other_app_client: APIClient,
    client_for: Callable[[ChatUser], APIClient],
    room: Any,
    jane: ChatUser,
    john: ChatUser,
    application: Application,
    make_user: Callable[..., ChatUser],
    django_assert_max_num_queries: Any,
) -> None:
    messages = []
    for index in range(5):
        reporter = make_user(application)
        channel_services.add_member(
            actor=Actor.for_application(application), channel_id=room.pk, user=reporter
        )
        message = message_services.send_message(
            actor=Actor.for_user(john), channel_id=room.pk, body=f"bad {index}"
        )
        moderation.report_message(
            actor=Actor.for_user(reporter), message_id=message.pk, reason=f"r{index}"
        )
        messages.append(message)
    moderation.delete_messages(
        actor=Actor.for_application(application), message_ids=[messages[0].pk]
    )
    url = f"/v1/channels/{room.pk}/reported-messages"
    with django_assert_max_num_queries(6):
        response = app_client.get(url, {"size": 3})
    assert response.status_code == 200
    data = response.json()
    assert data["page"] == {"size": 3, "totalElements": 5, "totalPages": 2, "number": 0}
    reports = data["_embedded"]["reports"]
    assert [item["reason"] for item in reports] == ["r4", "r3", "r2"]
    assert "next" in data["_links"]
    deleted = app_client.get(url, {"status": "ACTIONED"}).json()["_embedded"]["reports"]
    assert len(deleted) == 1 and "message" not in deleted[0]
    assert deleted[0]["messageBody"] == "bad 0"
    assert app_client.get(url, {"status": "WHATEVER"}).status_code == 400
    # Users may not list reports; another application sees no such channel.
    assert client_for(jane).get(url).status_code == 403
    assert other_app_client.get(url).status_code == 404
    assert app_client.get("/v1/channels/999999/reported-messages").status_code == 404
