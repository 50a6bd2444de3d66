"""`/v1/channels` as the contract shapes it (sections 2.2, 3.1, 3.2, 4 and 7)."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

from rest_framework.test import APIClient

from channels_app.models import Channel, Membership
from tests.api.conftest import World, assert_api_error, assert_page, assert_wire, snapshot

PUBLIC_KEYS = {"type", "id", "createdTime", "properties", "name", "displayName", "_links"}


def channel_ids(body: dict[str, Any]) -> list[int]:
    return [channel["id"] for channel in body["_embedded"]["channels"]]


def test_create_public_channel_with_the_product_doc_body(db: Any, app_client: APIClient) -> None:
    response = app_client.post(
        "/v1/channels",
        '{"type": "PUBLIC", "name": "b0a0bd55-921a-4f72-8ee3-f26c6fda0bb7"}',
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert_wire(body)
    assert set(body) >= PUBLIC_KEYS
    assert body["type"] == "PUBLIC"
    assert body["name"] == body["displayName"] == "b0a0bd55-921a-4f72-8ee3-f26c6fda0bb7"
    assert body["properties"] == {}
    assert "members" not in body and "creator" not in body and "lastReceivedMessage" not in body
    assert body["_links"]["self"]["href"].endswith(f"/v1/channels/{body['id']}")


def test_display_name_defaults_to_the_name(db: Any, app_client: APIClient) -> None:
    body = app_client.post("/v1/channels", {"type": "PRIVATE", "name": "p"}, format="json").json()
    assert body["displayName"] == body["name"] == "p"


def test_create_with_creator_and_members_by_id_and_username(
    world: World, app_client: APIClient
) -> None:
    body = app_client.post(
        "/v1/channels",
        {
            "type": "PRIVATE",
            "name": "team",
            "displayName": "The Team",
            "properties": {"color": "blue"},
            "creator": {"id": world.carl.pk},
            "members": [{"username": "dora"}, {"id": world.alex.pk}],
        },
        format="json",
    ).json()
    assert body["displayName"] == "The Team" and body["properties"] == {"color": "blue"}
    assert body["creator"]["name"] == "carl"
    roles = dict(Membership.objects.filter(channel_id=body["id"]).values_list("user__name", "role"))
    assert roles == {"carl": "MODERATOR", "dora": "MEMBER", "alex": "MEMBER"}


def test_direct_channel_is_created_once_per_member_set(world: World, app_client: APIClient) -> None:
    refs = [{"username": "carl"}, {"id": world.dora.pk}, {"username": "alex"}]
    first = app_client.post("/v1/channels", {"type": "DIRECT", "members": refs}, format="json")
    again = app_client.post(
        "/v1/channels", {"type": "DIRECT", "members": list(reversed(refs))}, format="json"
    )
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    body = first.json()
    assert_wire(body)
    assert [member["name"] for member in body["members"]] == ["carl", "dora", "alex"]
    for member in body["members"]:
        assert {
            "type",
            "id",
            "name",
            "displayName",
            "displayPictureUrl",
            "isGuest",
            "presence",
            "properties",
        } <= set(member)
    assert Channel.objects.filter(type="DIRECT").count() == 2  # the world's and this one


def test_duplicate_public_or_private_name_is_409(world: World, app_client: APIClient) -> None:
    before = snapshot()
    for type in ("PUBLIC", "PRIVATE"):
        response = app_client.post("/v1/channels", {"type": type, "name": "general"}, format="json")
        assert_api_error(response, 409, "DuplicateResourceError")
    assert snapshot() == before


def test_list_pages_do_not_overlap_and_carry_links(world: World, app_client: APIClient) -> None:
    for index in range(4):
        app_client.post("/v1/channels", {"type": "PUBLIC", "name": f"c{index}"}, format="json")
    seen: list[int] = []
    for number in range(3):
        body = app_client.get(f"/v1/channels?page={number}&size=3").json()
        items = assert_page(body, "channels", size=3, number=number, total=7)
        seen += [item["id"] for item in items]
        assert ("next" in body["_links"]) == (number < 2)
        assert ("prev" in body["_links"]) == (number > 0)
        if number < 2:
            query = parse_qs(urlsplit(body["_links"]["next"]["href"]).query)
            assert query["page"] == [str(number + 1)] and query["size"] == ["3"]
    assert len(seen) == len(set(seen)) == 7
    empty = app_client.get("/v1/channels?page=9&size=3").json()
    assert empty["_embedded"] == {"channels": []}


def test_list_defaults_to_page_0_size_25(world: World, app_client: APIClient) -> None:
    body = app_client.get("/v1/channels").json()
    assert body["page"] == {"size": 25, "totalElements": 3, "totalPages": 1, "number": 0}


def test_list_filters(world: World, app_client: APIClient) -> None:
    def ids(query: str) -> set[int]:
        response = app_client.get(f"/v1/channels?{query}")
        assert response.status_code == 200, response.content
        return set(channel_ids(response.json()))

    general, secret, direct = world.general.pk, world.secret.pk, world.direct.pk
    assert ids("type=PUBLIC") == {general}
    assert ids("type=DIRECT") == {direct}
    assert ids("members=jane&members=john") == {general, secret, direct}
    assert ids("members=mia&members=john") == {general, secret}
    assert ids("members=alex") == set()
    assert ids("name=secret") == {secret}
    assert ids("properties=%7B%22topic%22%3A%22general%22%7D") == {general}
    created = world.general.created_time.isoformat().replace("+00:00", "%2B00:00")
    assert ids(f"startTime={created}") >= {general}
    assert ids("endTime=2000-01-01T00:00:00%2B00:00") == set()
    assert ids("startTime=2000-01-01T00:00:00") == {general, secret, direct}  # naive: UTC
    assert channel_ids(app_client.get("/v1/channels?sort=name,desc&type=PUBLIC").json()) == [
        general
    ]
    names = [
        c.get("name")
        for c in app_client.get("/v1/channels?sort=id,desc").json()["_embedded"]["channels"]
    ]
    assert names == [None, "secret", "general"]


def test_a_user_lists_public_channels_and_their_own(world: World, client_for: Any) -> None:
    alex = client_for(world.alex)
    assert set(channel_ids(alex.get("/v1/channels").json())) == {world.general.pk}
    john = client_for(world.john)
    assert set(channel_ids(john.get("/v1/channels").json())) == {
        world.general.pk,
        world.secret.pk,
        world.direct.pk,
    }


def test_retrieve_shows_the_last_message_and_creator(world: World, app_client: APIClient) -> None:
    body = app_client.get(f"/v1/channels/{world.general.pk}").json()
    assert_wire(body)
    assert body["creator"]["name"] == "jane"
    assert body["lastReceivedMessage"]["type"] == "SYSTEM_TEXT"
    assert "user" not in body["lastReceivedMessage"]


def test_patch_merges_display_name_and_properties(world: World, app_client: APIClient) -> None:
    url = f"/v1/channels/{world.general.pk}"
    response = app_client.patch(
        url,
        '{"displayName": "General", "properties": {"a": 1, "topic": null}}',
        content_type="application/json+merge-patch",
    )
    assert response.status_code == 200
    assert response.json()["displayName"] == "General"
    assert response.json()["properties"] == {"a": 1}
    response = app_client.patch(
        url, '{"properties": {"b": {"c": 2}}}', content_type="application/merge-patch+json"
    )
    assert response.json()["properties"] == {"a": 1, "b": {"c": 2}}
    response = app_client.patch(url, "", content_type="application/json+merge-patch")
    assert response.status_code == 200 and response.json()["displayName"] == "General"
    world.general.refresh_from_db()
    assert world.general.properties == {"a": 1, "b": {"c": 2}}


def test_delete_answers_the_application_and_the_channel_is_gone(
    world: World, app_client: APIClient
) -> None:
    response = app_client.delete(f"/v1/channels/{world.general.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == world.application.pk and body["key"] == world.application.api_key
    assert {"id", "key", "properties", "createdTime"} <= set(body)
    assert_api_error(app_client.get(f"/v1/channels/{world.general.pk}"), 404)
    assert not Membership.objects.filter(channel_id=world.general.pk).exists()


def test_application_scoped_get_and_delete(world: World, app_client: APIClient) -> None:
    app_id, channel_id = world.application.pk, world.secret.pk
    assert app_client.get(f"/v1/applications/{app_id}/channels/{channel_id}").json()["id"] == (
        channel_id
    )
    assert_api_error(app_client.delete(f"/v1/applications/{app_id + 1}/channels/{channel_id}"), 404)
    response = app_client.delete(f"/v1/applications/{app_id}/channels/{channel_id}")
    assert response.status_code == 200 and response.json()["id"] == app_id
    assert_api_error(app_client.get(f"/v1/channels/{channel_id}"), 404)


def test_members_add_list_remove(world: World, app_client: APIClient) -> None:
    url = f"/v1/channels/{world.general.pk}/members"
    by_name = app_client.post(url, {"username": "carl"}, format="json")
    by_id = app_client.post(url, {"id": world.dora.pk}, format="json")
    assert by_name.status_code == by_id.status_code == 200
    assert by_id.json()["id"] == world.general.pk  # the channel
    users = app_client.get(url).json()
    names = {user["name"] for user in assert_page(users, "users", size=25, number=0, total=6)}
    assert {"carl", "dora", "jane", "john", "mia", "bob"} == names
    removed = app_client.delete(f"{url}/{world.carl.pk}")
    assert removed.status_code == 200 and removed.json()["id"] == world.general.pk
    names = {user["name"] for user in app_client.get(url).json()["_embedded"]["users"]}
    assert "carl" not in names
    assert_api_error(app_client.post(url, {"username": "ghost"}, format="json"), 404)


def test_moderators_add_list_remove(world: World, app_client: APIClient) -> None:
    url = f"/v1/channels/{world.general.pk}/moderators"
    added = app_client.post(url, {"username": "bob"}, format="json")
    assert added.status_code == 200 and added.json()["name"] == "bob"  # the user
    moderators = {u["name"] for u in app_client.get(url).json()["_embedded"]["users"]}
    assert moderators == {"jane", "mia", "bob"}
    removed = app_client.delete(f"{url}/{world.bob.pk}")
    assert removed.status_code == 200 and removed.json()["type"] == "PUBLIC"
    moderators = {u["name"] for u in app_client.get(url).json()["_embedded"]["users"]}
    assert moderators == {"jane", "mia"}


def test_memberships_have_one_row_per_member(world: World, app_client: APIClient) -> None:
    body = app_client.get(f"/v1/channels/{world.general.pk}/memberships").json()
    items = assert_page(body, "memberships", size=25, number=0, total=4)
    assert all(isinstance(item["createdTime"], str) for item in items)


def test_participants_are_members_online_now(world: World, app_client: APIClient) -> None:
    body = app_client.get(f"/v1/channels/{world.general.pk}/participants").json()
    assert assert_page(body, "users", size=25, number=0, total=0) == []


def test_invites_send_and_list(world: World, app_client: APIClient) -> None:
    url = f"/v1/channels/{world.general.pk}/invites"
    sent = app_client.post(url, {"user": {"username": "carl"}}, format="json")
    assert sent.status_code == 200 and "createdTime" in sent.json()
    items = assert_page(app_client.get(url).json(), "invites", size=25, number=0, total=1)
    assert items[0]["createdTime"] == sent.json()["createdTime"]


def test_messages_with_and_without_user(world: World, app_client: APIClient) -> None:
    url = f"/v1/channels/{world.general.pk}/messages"
    text = app_client.post(
        url,
        {
            "type": "TEXT",
            "body": "as bob",
            "user": {"username": "bob"},
            "groupTag": "g",
            "properties": {"x": 1},
        },
        format="json",
    ).json()
    system = app_client.post(url, {"type": "TEXT", "body": "as the system"}, format="json").json()
    assert_wire(text)
    assert text["type"] == "TEXT" and text["user"]["name"] == "bob" and text["body"] == "as bob"
    assert text["channelId"] == world.general.pk and text["nestedLevel"] == 0
    assert text["groupTag"] == "g" and text["properties"] == {"x": 1}
    assert system["type"] == "SYSTEM_TEXT" and "user" not in system
    assert "links" not in text and "lastEditedTime" not in text
    retrieved = app_client.get(f"/v1/messages/{text['id']}").json()
    assert retrieved["body"] == "as bob"
    # A user that is not a member cannot be sent as.
    assert_api_error(
        app_client.post(
            url, {"type": "TEXT", "body": "x", "user": {"username": "alex"}}, format="json"
        ),
        400,
    )


def test_message_cursor_pages_follow_next_links_without_repeats(
    world: World, app_client: APIClient
) -> None:
    url = f"/v1/channels/{world.secret.pk}/messages"
    for index in range(6):
        app_client.post(url, {"type": "TEXT", "body": f"m{index}"}, format="json")
    seen: list[str] = []
    href: str | None = f"{url}?size=3"
    pages = 0
    while href:
        body = app_client.get(href).json()
        assert_wire(body)
        assert body["page"] == {"size": 3}
        assert list(body["_embedded"]) == ["messages"]
        seen += [message["body"] for message in body["_embedded"]["messages"]]
        next_link = body["_links"].get("next")
        href = next_link["href"] if next_link else None
        if href:
            query = parse_qs(urlsplit(href).query)
            assert query["relation"] == ["NEXT"]
            assert query["start"][0].isdigit() and query["next"][0].isdigit()
        pages += 1
    assert pages == 3
    assert seen == [f"m{i}" for i in range(5, -1, -1)] + ["hello secret"]


def test_message_filters(world: World, app_client: APIClient) -> None:
    url = f"/v1/channels/{world.general.pk}/messages"
    by_john = app_client.get(f"{url}?username=john").json()["_embedded"]["messages"]
    assert [m["body"] for m in by_john] == ["hello general"]
    found = app_client.get(f"{url}?query=SYSTEM").json()["_embedded"]["messages"]
    assert [m["body"] for m in found] == ["system says hi"]


def test_custom_event(world: World, app_client: APIClient, client_for: Any) -> None:
    url = f"/v1/channels/{world.general.pk}/events"
    body = app_client.post(url, {"type": "confetti", "properties": {"n": 3}}, format="json").json()
    assert body == {"type": "confetti", "properties": {"n": 3}}
    as_john = client_for(world.john).post(url, {"type": "wave", "properties": {}}, format="json")
    assert as_john.json()["user"]["name"] == "john"


def test_unfiltered_list_totals_come_from_the_counter(world: World, app_client: APIClient) -> None:
    """The application's own list reads its total from ApplicationCounters (no COUNT(*)); filtered
    lists and users' lists still count what they match."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        body = app_client.get("/v1/channels?page=0&size=2").json()
    assert body["page"]["totalElements"] == 3
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert app_client.get("/v1/channels?type=PUBLIC").json()["page"]["totalElements"] == 1
    # The last page, walked from the far end, agrees with the first pages.
    last = app_client.get("/v1/channels?page=1&size=2").json()
    ids = channel_ids(body) + channel_ids(last)
    assert sorted(ids) == sorted({world.general.pk, world.secret.pk, world.direct.pk})


def test_list_totals_fall_back_to_counting_without_a_counter(
    world: World, app_client: APIClient
) -> None:
    from channels_app.models import ApplicationCounters

    ApplicationCounters.objects.filter(pk=world.general.application_id).delete()
    body = app_client.get("/v1/channels").json()
    assert body["page"]["totalElements"] == 3
    assert len(channel_ids(body)) == 3


def test_the_migration_counts_the_channels_applications_already_have(world: World) -> None:
    import importlib

    from django.apps import apps

    from channels_app.models import ApplicationCounters

    migration = importlib.import_module("channels_app.migrations.0003_application_counters")
    ApplicationCounters.objects.all().delete()
    migration.count_existing_channels(apps, None)
    counters = ApplicationCounters.objects.get(pk=world.general.application_id)
    assert counters.channels == 3
