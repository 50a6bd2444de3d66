"""`/v1/messages`, `/v1/threads` and `/v1/application` (contract sections 2.4 to 2.6)."""

from typing import Any

from rest_framework.test import APIClient

from channels_app.models import Application, Message
from tests.api.conftest import World, assert_api_error, assert_page, assert_wire, snapshot


def test_application_messages_with_filters(world: World, app_client: APIClient) -> None:
    body = app_client.get("/v1/messages").json()
    assert_wire(body)
    assert len(body["_embedded"]["messages"]) == 4 and body["page"] == {"size": 25}
    by_john = app_client.get("/v1/messages?username=john").json()["_embedded"]["messages"]
    assert {m["body"] for m in by_john} == {"hello general", "hello secret", "hello jane"}
    found = app_client.get("/v1/messages?query=JANE").json()["_embedded"]["messages"]
    assert [m["body"] for m in found] == ["hello jane"]


def test_retrieve_message_shapes(world: World, app_client: APIClient) -> None:
    text = app_client.get(f"/v1/messages/{world.general_message.pk}").json()
    system = app_client.get(f"/v1/messages/{world.system_message.pk}").json()
    for body in (text, system):
        assert_wire(body)
        assert {"type", "id", "channelId", "nestedLevel", "properties", "createdTime", "body"} <= (
            set(body)
        )
    assert text["type"] == "TEXT" and text["user"]["name"] == "john"
    assert system["type"] == "SYSTEM_TEXT" and "user" not in system


def test_edit_message(world: World, app_client: APIClient, client_for: Any) -> None:
    url = f"/v1/messages/{world.general_message.pk}"
    body = (
        client_for(world.john)
        .patch(
            url,
            '{"body": "edited", "properties": {"e": true}}',
            content_type="application/json+merge-patch",
        )
        .json()
    )
    assert body["body"] == "edited" and body["properties"] == {"e": True}
    assert body["lastEditedTime"].endswith("Z")
    assert_api_error(client_for(world.jane).patch(url, {"body": "x"}, format="json"), 403)


def test_delete_message_answers_its_thread(world: World, app_client: APIClient) -> None:
    response = app_client.delete(f"/v1/messages/{world.general_message.pk}")
    assert response.status_code == 200
    body = response.json()
    assert_wire(body)
    assert body["type"] == "MAIN" and body["id"] == world.main_thread.pk
    assert {"type", "id", "properties", "createdTime"} <= set(body)
    assert_api_error(app_client.get(f"/v1/messages/{world.general_message.pk}"), 404)


def test_who_may_delete_a_message(world: World, client_for: Any) -> None:
    bob = client_for(world.bob)
    before = snapshot()
    assert_api_error(bob.delete(f"/v1/messages/{world.general_message.pk}"), 403)
    assert snapshot() == before
    assert client_for(world.mia).delete(f"/v1/messages/{world.general_message.pk}").status_code == (
        200
    )
    assert client_for(world.john).delete(f"/v1/messages/{world.secret_message.pk}").status_code == (
        200
    )


def test_delete_all_messages(world: World, app_client: APIClient) -> None:
    response = app_client.delete("/v1/messages")
    assert response.status_code == 200 and response.json()["id"] == world.application.pk
    assert not Message.objects.filter(application=world.application).exists()
    channel = app_client.get(f"/v1/channels/{world.general.pk}").json()
    assert "lastReceivedMessage" not in channel


def test_read_receipts(world: World, app_client: APIClient, client_for: Any) -> None:
    url = f"/v1/messages/{world.general_message.pk}/read-receipts"
    assert assert_page(app_client.get(url).json(), "receipts", size=25, number=0, total=0) == []
    client_for(world.jane).post(f"/v1/channels/{world.general.pk}/read")
    items = assert_page(app_client.get(url).json(), "receipts", size=25, number=0, total=1)
    assert items[0]["user"]["name"] == "jane" and items[0]["createdTime"].endswith("Z")


def test_threads(world: World, app_client: APIClient) -> None:
    url = f"/v1/threads/{world.main_thread.pk}"
    thread = app_client.get(url).json()
    assert thread["type"] == "MAIN" and thread["properties"] == {}
    sent = app_client.post(
        f"{url}/messages",
        {"type": "TEXT", "body": "re", "user": {"username": "john"}},
        format="json",
    ).json()
    assert sent["type"] == "TEXT" and sent["channelId"] == world.general.pk
    listed = app_client.get(f"{url}/messages").json()
    assert listed["_embedded"]["messages"][0]["id"] == sent["id"]


def test_user_tokens_cannot_use_application_operations(world: World, client_for: Any) -> None:
    john = client_for(world.john)
    before = snapshot()
    for response in (
        john.get("/v1/messages"),
        john.delete("/v1/messages"),
        john.get("/v1/application"),
        john.get("/v1/application/settings"),
        john.put("/v1/application/settings", {"guestUsers": "ENABLED"}, format="json"),
    ):
        assert_api_error(response, 403, "AccessDeniedError")
    assert snapshot() == before


def test_application_and_settings(world: World, app_client: APIClient) -> None:
    body = app_client.get("/v1/application").json()
    assert_wire(body)
    assert body["id"] == world.application.pk and body["key"] == world.application.api_key
    assert app_client.get("/v1/application/settings").json()["guestUsers"] == "DISABLED"
    updated = app_client.put("/v1/application/settings", {"guestUsers": "ENABLED"}, format="json")
    assert updated.json()["guestUsers"] == "ENABLED"
    assert Application.objects.get(pk=world.application.pk).guest_users_enabled
    before = snapshot()
    for bad in ({}, {"guestUsers": "enabled"}, {"guestUsers": True}):
        assert_api_error(app_client.put("/v1/application/settings", bad, format="json"), 400)
    assert snapshot() == before
