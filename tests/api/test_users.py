"""`/v1/users` (contract section 2.3, 3.3)."""

from typing import Any

from rest_framework.test import APIClient

from channels_app.models import ChatUser
from tests.api.conftest import World, assert_api_error, assert_page, assert_wire, snapshot

USER_KEYS = {
    "type",
    "id",
    "name",
    "displayName",
    "displayPictureUrl",
    "isGuest",
    "presence",
    "properties",
    "_links",
}


def test_create_user_shape(db: Any, app_client: APIClient) -> None:
    response = app_client.post(
        "/v1/users",
        {"name": "jane@example.com", "displayName": "Jane", "isGuest": False},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert_wire(body)
    assert set(body) == USER_KEYS
    assert body["type"] == "PERSON" and body["isGuest"] is False and body["properties"] == {}
    assert isinstance(body["displayPictureUrl"], str) and body["displayPictureUrl"]
    assert body["presence"] == {"status": "UNAVAILABLE", "online": False}


def test_duplicate_username_is_409(world: World, app_client: APIClient) -> None:
    before = snapshot()
    response = app_client.post(
        "/v1/users", {"name": "jane", "displayName": "J", "isGuest": False}, format="json"
    )
    assert_api_error(response, 409, "DuplicateResourceError")
    assert snapshot() == before


def test_list_filters_by_exact_name(world: World, app_client: APIClient) -> None:
    body = app_client.get("/v1/users?name=jane").json()
    assert [u["name"] for u in assert_page(body, "users", size=25, number=0, total=1)] == ["jane"]
    assert app_client.get("/v1/users?name=jan").json()["page"]["totalElements"] == 0
    everyone = app_client.get("/v1/users?sort=name,asc&size=100").json()
    names = [u["name"] for u in everyone["_embedded"]["users"]]
    assert names == sorted(names) and len(names) == 7


def test_head_users_checks_existence(world: World, app_client: APIClient) -> None:
    assert app_client.head("/v1/users?name=jane").status_code == 200
    assert app_client.head("/v1/users?name=nobody").status_code == 404
    assert app_client.head("/v1/users").status_code == 400


def test_patch_user_merges(world: World, app_client: APIClient) -> None:
    url = f"/v1/users/{world.jane.pk}"
    body = app_client.patch(
        url,
        '{"displayName": "Jane D.", "isGuest": true, "presence": {"status": "BUSY"},'
        ' "properties": {"a": 1}}',
        content_type="application/json+merge-patch",
    ).json()
    assert body["displayName"] == "Jane D." and body["isGuest"] is True
    assert body["presence"]["status"] == "BUSY" and body["properties"] == {"a": 1}
    body = app_client.patch(
        url, '{"properties": {"a": null, "b": 2}}', content_type="application/json+merge-patch"
    ).json()
    assert body["properties"] == {"b": 2}
    assert (
        app_client.patch(url, "", content_type="application/json+merge-patch").json()["displayName"]
        == "Jane D."
    )


def test_delete_user(world: World, app_client: APIClient) -> None:
    response = app_client.delete(f"/v1/users/{world.carl.pk}")
    assert response.status_code == 200 and response.json()["id"] == world.application.pk
    assert_api_error(app_client.get(f"/v1/users/{world.carl.pk}"), 404)
    assert not ChatUser.objects.filter(pk=world.carl.pk).exists()


def test_user_channels_are_created_or_joined(world: World, app_client: APIClient) -> None:
    body = app_client.get(f"/v1/users/{world.john.pk}/channels").json()
    ids = {c["id"] for c in assert_page(body, "channels", size=25, number=0, total=3)}
    assert ids == {world.general.pk, world.secret.pk, world.direct.pk}
    assert app_client.get(f"/v1/users/{world.alex.pk}/channels").json()["_embedded"] == {
        "channels": []
    }


def test_user_messages_and_unread(world: World, app_client: APIClient, client_for: Any) -> None:
    sent = app_client.get(f"/v1/users/{world.john.pk}/messages").json()
    assert {m["body"] for m in sent["_embedded"]["messages"]} == {
        "hello general",
        "hello secret",
        "hello jane",
    }
    unread = app_client.get(f"/v1/users/{world.jane.pk}/messages?unread=True").json()
    assert {m["body"] for m in unread["_embedded"]["messages"]} == {
        "hello general",
        "system says hi",
        "hello secret",
        "hello jane",
    }
    assert app_client.get(f"/v1/users/{world.jane.pk}/messages/unread/count").json() == {"count": 4}
    client_for(world.jane).post(f"/v1/channels/{world.general.pk}/read")
    assert app_client.get(f"/v1/users/{world.jane.pk}/messages/unread/count").json() == {"count": 2}
    read = app_client.get(f"/v1/users/{world.jane.pk}/messages?unread=false").json()
    assert read["page"] == {"size": 25}
    assert_api_error(app_client.get(f"/v1/users/{world.jane.pk}/messages?unread=maybe"), 400)


def test_notifications_page(world: World, app_client: APIClient) -> None:
    body = app_client.get(f"/v1/users/{world.jane.pk}/notifications").json()
    assert list(body["_embedded"]) == ["notifications"] and body["page"]["size"] == 25
    assert_wire(body)


def test_display_picture_and_secrets(world: World, app_client: APIClient) -> None:
    url = f"/v1/users/{world.jane.pk}"
    body = app_client.post(
        f"{url}/display-picture",
        {
            "url": "https://cdn.example.com/j.png",
            "name": "j.png",
            "contentType": "image/png",
            "size": 10,
        },
        format="json",
    ).json()
    assert body["displayPictureUrl"] == "https://cdn.example.com/j.png"
    assert (
        app_client.put(f"{url}/secrets/api", {"secret": {"k": "v"}}, format="json").json()["name"]
        == "jane"
    )
    assert app_client.get(f"{url}/secrets/api").json() == {"secret": {"k": "v"}}
    assert app_client.delete(f"{url}/secrets/api").json()["id"] == world.jane.pk
    assert_api_error(app_client.get(f"{url}/secrets/api"), 404)


def test_access_tokens_authenticate_the_user(world: World, app_client: APIClient) -> None:
    minted = app_client.post(f"/v1/users/{world.john.pk}/access-tokens").json()
    assert set(minted) == {"accessToken", "tokenType", "expiresIn"}
    assert minted["accessToken"].startswith("ckut_") and minted["tokenType"] == "Bearer"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {minted['accessToken']}")
    assert client.get(f"/v1/users/{world.john.pk}/channels").status_code == 200


def test_users_may_read_users_but_not_manage_them(world: World, client_for: Any) -> None:
    john = client_for(world.john)
    before = snapshot()
    assert john.get("/v1/users").status_code == 200
    assert john.get(f"/v1/users/{world.jane.pk}").status_code == 200
    assert john.head("/v1/users?name=jane").status_code == 200
    assert john.get(f"/v1/users/{world.john.pk}/messages/unread/count").status_code == 200
    forbidden = [
        john.post("/v1/users", {"name": "x", "displayName": "x", "isGuest": False}, format="json"),
        john.patch(f"/v1/users/{world.john.pk}", {"displayName": "x"}, format="json"),
        john.delete(f"/v1/users/{world.jane.pk}"),
        john.get(f"/v1/users/{world.jane.pk}/channels"),
        john.get(f"/v1/users/{world.jane.pk}/messages"),
        john.get(f"/v1/users/{world.jane.pk}/messages/unread/count"),
        john.get(f"/v1/users/{world.jane.pk}/notifications"),
        john.get(f"/v1/users/{world.jane.pk}/secrets/token"),
        john.put(f"/v1/users/{world.john.pk}/secrets/x", {"secret": {}}, format="json"),
        john.post(f"/v1/users/{world.john.pk}/access-tokens"),
        john.post(
            f"/v1/users/{world.john.pk}/display-picture",
            {"url": "https://x/y.png", "name": "y", "contentType": "image/png", "size": 1},
            format="json",
        ),
    ]
    for response in forbidden:
        assert_api_error(response, 403)
    assert snapshot() == before
