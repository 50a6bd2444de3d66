"""The issue's bad-input list: each is a clear 4xx in the ApiError shape, and nothing is written."""

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import World, assert_api_error, snapshot

BIG_PROPERTIES = {"blob": "x" * (64 * 1024)}  # just over 64 KiB once serialized
LONG_NAME = "n" * 101


def send(client: APIClient, method: str, url: str, body: Any, content_type: str) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(client, method)(url, raw, content_type=content_type)


CREATE_CHANNEL_CASES = {
    "malformed-json": '{"type": "PUBLIC", "name": ',
    "trailing-garbage": '{"type": "PUBLIC", "name": "x"} x',
    "nan": '{"type": "PUBLIC", "name": "x", "properties": {"n": NaN}}',
    "array-body": '[{"type": "PUBLIC", "name": "x"}]',
    "string-body": '"PUBLIC"',
    "invalid-utf8": b'{"type": "PUBLIC", "name": "\xff"}',
    "no-type": {"name": "x"},
    "unknown-type": {"type": "GROUP", "name": "x"},
    "lowercase-type": {"type": "public", "name": "x"},
    "type-not-a-string": {"type": 5, "name": "x"},
    "type-a-list": {"type": ["PUBLIC"], "name": "x"},
    "no-name-public": {"type": "PUBLIC"},
    "no-name-private": {"type": "PRIVATE"},
    "null-name": {"type": "PUBLIC", "name": None},
    "empty-name": {"type": "PUBLIC", "name": "  "},
    "name-a-number": {"type": "PUBLIC", "name": 5},
    "name-too-long": {"type": "PUBLIC", "name": LONG_NAME},
    "name-with-control-chars": {"type": "PUBLIC", "name": "a\nb"},
    "display-name-too-long": {"type": "PUBLIC", "name": "x", "displayName": LONG_NAME},
    "display-name-a-list": {"type": "PUBLIC", "name": "x", "displayName": ["x"]},
    "properties-a-string": {"type": "PUBLIC", "name": "x", "properties": "{}"},
    "properties-a-list": {"type": "PUBLIC", "name": "x", "properties": []},
    "properties-too-large": {"type": "PUBLIC", "name": "x", "properties": BIG_PROPERTIES},
    "members-not-a-list": {"type": "PUBLIC", "name": "x", "members": {"username": "john"}},
    "member-not-an-object": {"type": "PUBLIC", "name": "x", "members": ["john"]},
    "unknown-member": {"type": "PUBLIC", "name": "x", "members": [{"username": "ghost"}]},
    "creator-a-string": {"type": "PUBLIC", "name": "x", "creator": "jane"},
    "creator-unknown": {"type": "PUBLIC", "name": "x", "creator": {"id": 999999999}},
    "ref-with-both-keys": {
        "type": "PUBLIC",
        "name": "x",
        "creator": {"id": 1, "username": "jane"},
    },
    "ref-with-no-key": {"type": "PUBLIC", "name": "x", "creator": {}},
    "ref-id-a-string": {"type": "PUBLIC", "name": "x", "creator": {"id": "1"}},
    "ref-id-a-bool": {"type": "PUBLIC", "name": "x", "creator": {"id": True}},
    "ref-id-a-float": {"type": "PUBLIC", "name": "x", "creator": {"id": 1.0}},
    "ref-id-huge": {"type": "PUBLIC", "name": "x", "creator": {"id": 10**30}},
    "ref-username-a-number": {"type": "PUBLIC", "name": "x", "creator": {"username": 5}},
    "direct-one-member": {"type": "DIRECT", "members": [{"username": "jane"}]},
    "direct-no-members": {"type": "DIRECT"},
    "direct-repeated-member": {
        "type": "DIRECT",
        "members": [{"username": "jane"}, {"username": "jane"}],
    },
    "direct-repeated-by-id-and-name": {"type": "DIRECT", "members": "SAME-BY-ID-AND-NAME"},
    "direct-unknown-member": {
        "type": "DIRECT",
        "members": [{"username": "jane"}, {"username": "ghost"}],
    },
    "direct-eleven-members": {"type": "DIRECT", "members": "ELEVEN"},
    "direct-properties-too-large": {
        "type": "DIRECT",
        "members": [{"username": "jane"}, {"username": "john"}],
        "properties": BIG_PROPERTIES,
    },
}


def _resolve(body: Any, world: World) -> Any:
    if isinstance(body, dict) and body.get("members") == "ELEVEN":
        names = ["jane", "john", "mia", "bob", "alex", "carl", "dora"]
        return {
            **body,
            "members": [{"username": n} for n in names]
            + [{"id": world.jane.pk + 1000 + i} for i in range(4)],
        }
    if isinstance(body, dict) and body.get("members") == "SAME-BY-ID-AND-NAME":
        return {
            **body,
            "members": [{"username": "jane"}, {"id": world.jane.pk}, {"username": "john"}],
        }
    return body


@pytest.mark.parametrize("case", list(CREATE_CHANNEL_CASES))
def test_bad_create_channel_bodies_are_400(case: str, world: World, app_client: APIClient) -> None:
    body = _resolve(CREATE_CHANNEL_CASES[case], world)
    before = snapshot()
    response = send(app_client, "post", "/v1/channels", body, "application/json")
    assert_api_error(response, 400)
    assert snapshot() == before


def test_eleven_real_members_is_400_and_ten_is_fine(
    world: World, app_client: APIClient, make_user: Any
) -> None:
    users = [make_user(world.application, f"u{i}") for i in range(11)]
    refs = [{"id": user.pk} for user in users]
    before = snapshot()
    assert_api_error(
        app_client.post("/v1/channels", {"type": "DIRECT", "members": refs}, format="json"), 400
    )
    assert snapshot() == before
    ten = app_client.post("/v1/channels", {"type": "DIRECT", "members": refs[:10]}, format="json")
    assert ten.status_code == 200 and len(ten.json()["members"]) == 10


def test_another_applications_user_is_unknown_in_a_body(
    world: World, app_client: APIClient, other_application: Any, make_user: Any
) -> None:
    stranger = make_user(other_application, "stranger")
    before = snapshot()
    for body in (
        {"type": "DIRECT", "members": [{"username": "jane"}, {"id": stranger.pk}]},
        {"type": "PUBLIC", "name": "x", "creator": {"id": stranger.pk}},
    ):
        assert_api_error(app_client.post("/v1/channels", body, format="json"), 400)
    assert_api_error(
        app_client.post(
            f"/v1/channels/{world.general.pk}/members", {"id": stranger.pk}, format="json"
        ),
        404,
    )
    assert snapshot() == before


def test_bodies_over_one_mebibyte_are_413(world: World, app_client: APIClient) -> None:
    huge = json.dumps({"type": "PUBLIC", "name": "x", "properties": {"p": "x" * (1024 * 1024)}})
    before = snapshot()
    for method, url in (
        ("post", "/v1/channels"),
        ("post", f"/v1/channels/{world.general.pk}/messages"),
        ("patch", f"/v1/channels/{world.general.pk}"),
        ("post", "/v1/users"),
    ):
        body = assert_api_error(send(app_client, method, url, huge, "application/json"), 413)
        assert body["error"] == "PayloadTooLargeError"
    assert snapshot() == before


def test_a_body_just_under_the_limit_is_parsed(world: World, app_client: APIClient) -> None:
    # Under 1 MiB but over 64 KiB of properties: the properties rule answers, not the size limit.
    body = {"type": "PUBLIC", "name": "x", "properties": {"p": "x" * (900 * 1024)}}
    response = app_client.post("/v1/channels", body, format="json")
    assert_api_error(response, 400, "InvalidInputError")


def test_properties_of_exactly_the_limit_are_accepted(world: World, app_client: APIClient) -> None:
    overhead = len(json.dumps({"p": ""}, separators=(",", ":")))
    properties = {"p": "x" * (64 * 1024 - overhead)}
    response = app_client.post(
        "/v1/channels", {"type": "PUBLIC", "name": "x", "properties": properties}, format="json"
    )
    assert response.status_code == 200


SEND_MESSAGE_CASES = {
    "no-body": {"type": "TEXT"},
    "empty-body": {"type": "TEXT", "body": "   "},
    "body-a-number": {"type": "TEXT", "body": 5},
    "body-too-long": {"type": "TEXT", "body": "x" * 10_001},
    "unknown-type": {"type": "VIDEO", "body": "x"},
    "file-without-file": {"type": "FILE"},
    "file-bad-size": {
        "type": "FILE",
        "file": {"url": "https://x/y", "name": "y", "contentType": "a/b", "size": "1"},
    },
    "properties-a-list": {"type": "TEXT", "body": "x", "properties": [1]},
    "properties-too-large": {"type": "TEXT", "body": "x", "properties": BIG_PROPERTIES},
    "group-tag-a-number": {"type": "TEXT", "body": "x", "groupTag": 5},
    "user-ref-unknown": {"type": "TEXT", "body": "x", "user": {"username": "ghost"}},
    "user-ref-bad": {"type": "TEXT", "body": "x", "user": "john"},
    "user-not-a-member": {"type": "TEXT", "body": "x", "user": {"username": "alex"}},
    "malformed": '{"type": "TEXT", "body": "x"',
}


@pytest.mark.parametrize("case", list(SEND_MESSAGE_CASES))
@pytest.mark.parametrize("target", ["channel", "thread"])
def test_bad_message_bodies_are_400(
    case: str, target: str, world: World, app_client: APIClient
) -> None:
    url = (
        f"/v1/channels/{world.general.pk}/messages"
        if target == "channel"
        else f"/v1/threads/{world.main_thread.pk}/messages"
    )
    before = snapshot()
    assert_api_error(
        send(app_client, "post", url, SEND_MESSAGE_CASES[case], "application/json"), 400
    )
    assert snapshot() == before


def test_a_message_of_exactly_10000_characters_is_accepted(
    world: World, app_client: APIClient
) -> None:
    response = app_client.post(
        f"/v1/channels/{world.general.pk}/messages",
        {"type": "TEXT", "body": "x" * 10_000},
        format="json",
    )
    assert response.status_code == 200


PATCH_CASES: dict[str, tuple[str, Any]] = {
    "channel-display-name-a-number": ("channel", {"displayName": 5}),
    "channel-display-name-too-long": ("channel", {"displayName": LONG_NAME}),
    "channel-properties-a-string": ("channel", {"properties": "x"}),
    "channel-properties-too-large": ("channel", {"properties": BIG_PROPERTIES}),
    "channel-malformed": ("channel", "{"),
    "channel-array": ("channel", "[]"),
    "user-is-guest-a-string": ("user", {"isGuest": "false"}),
    "user-display-name-too-long": ("user", {"displayName": LONG_NAME}),
    "user-presence-a-string": ("user", {"presence": "ONLINE"}),
    "user-properties-a-list": ("user", {"properties": []}),
    "user-properties-too-large": ("user", {"properties": BIG_PROPERTIES}),
    "message-body-a-number": ("message", {"body": 5}),
    "message-body-too-long": ("message", {"body": "x" * 10_001}),
    "message-properties-a-list": ("message", {"properties": [1]}),
}


@pytest.mark.parametrize("case", list(PATCH_CASES))
def test_bad_merge_patches_are_400(case: str, world: World, app_client: APIClient) -> None:
    kind, body = PATCH_CASES[case]
    url = {
        "channel": f"/v1/channels/{world.general.pk}",
        "user": f"/v1/users/{world.jane.pk}",
        "message": f"/v1/messages/{world.general_message.pk}",
    }[kind]
    before = snapshot()
    assert_api_error(send(app_client, "patch", url, body, "application/json+merge-patch"), 400)
    assert snapshot() == before


CREATE_USER_CASES = {
    "no-name": {"displayName": "x", "isGuest": False},
    "no-display-name": {"name": "x", "isGuest": False},
    "no-is-guest": {"name": "x", "displayName": "x"},
    "name-too-long": {"name": LONG_NAME, "displayName": "x", "isGuest": False},
    "name-a-number": {"name": 7, "displayName": "x", "isGuest": False},
    "is-guest-a-string": {"name": "x", "displayName": "x", "isGuest": "false"},
    "properties-a-list": {"name": "x", "displayName": "x", "isGuest": False, "properties": []},
    "properties-too-large": {
        "name": "x",
        "displayName": "x",
        "isGuest": False,
        "properties": BIG_PROPERTIES,
    },
}


@pytest.mark.parametrize("case", list(CREATE_USER_CASES))
def test_bad_create_user_bodies_are_400(case: str, world: World, app_client: APIClient) -> None:
    before = snapshot()
    assert_api_error(app_client.post("/v1/users", CREATE_USER_CASES[case], format="json"), 400)
    assert snapshot() == before


OTHER_BODY_CASES = [
    ("post", "members", {"id": "5"}),
    ("post", "members", {}),
    ("post", "members", {"id": 1, "username": "john"}),
    ("post", "moderators", {"username": ["bob"]}),
    ("post", "invites", {}),
    ("post", "invites", {"user": "carl"}),
    ("post", "events", {"type": "", "properties": {}}),
    ("post", "events", {"type": 5, "properties": {}}),
    ("post", "events", {"type": "x", "properties": []}),
    ("post", "events", {"type": "x", "properties": BIG_PROPERTIES}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), OTHER_BODY_CASES)
def test_bad_channel_sub_resource_bodies_are_400(
    method: str, suffix: str, body: Any, world: World, app_client: APIClient
) -> None:
    before = snapshot()
    url = f"/v1/channels/{world.general.pk}/{suffix}"
    assert_api_error(send(app_client, method, url, body, "application/json"), 400)
    assert snapshot() == before


def test_bad_user_sub_resource_bodies_are_400(world: World, app_client: APIClient) -> None:
    url = f"/v1/users/{world.jane.pk}"
    before = snapshot()
    for body in (
        {"url": "", "name": "x", "contentType": "image/png", "size": 1},
        {"url": "https://x/y.png", "name": "x", "contentType": "image/png", "size": "1"},
        {"url": "https://x/y.png"},
    ):
        assert_api_error(app_client.post(f"{url}/display-picture", body, format="json"), 400)
    for secret in ("x", BIG_PROPERTIES):
        response = app_client.put(f"{url}/secrets/s", {"secret": secret}, format="json")
        assert_api_error(response, 400)
    assert snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=abc",
        "page=1.5",
        "size=0",
        "size=-5",
        "size=101",
        "size=1000",
        "size=abc",
        "page=99999999999999999999",
        "sort=name,sideways",
        "sort=password,asc",
        "type=GROUP",
        "type=public",
        "startTime=yesterday",
        "endTime=2024-13-01",
        "properties=notjson",
        "properties=%5B1%5D",
        "properties=%7B%22a%20b%22%3A1%7D",
    ],
)
def test_bad_list_queries_are_400(query: str, world: World, app_client: APIClient) -> None:
    assert_api_error(app_client.get(f"/v1/channels?{query}"), 400)


@pytest.mark.parametrize(
    "url",
    [
        "/v1/users?size=101",
        "/v1/users?page=-1",
        "/v1/messages?size=101",
        "/v1/messages?next=x",
        "/v1/messages?relation=SIDEWAYS",
        "/v1/messages?start=-1",
        "/v1/messages?next=99999999999999999999",
        "/v1/users/{jane}/channels?size=0",
        "/v1/users/{jane}/messages?unread=perhaps",
        "/v1/channels/{general}/members?size=101",
        "/v1/channels/{general}/messages?size=101",
        "/v1/messages/{message}/read-receipts?page=-1",
        "/v1/threads/{thread}/messages?size=0",
        "/v1/users/{jane}/notifications?size=101",
    ],
)
def test_bad_page_parameters_are_400_everywhere(
    url: str, world: World, app_client: APIClient
) -> None:
    url = url.format(
        jane=world.jane.pk,
        general=world.general.pk,
        message=world.general_message.pk,
        thread=world.main_thread.pk,
    )
    assert_api_error(app_client.get(url), 400)


def test_size_100_is_the_largest_page(world: World, app_client: APIClient) -> None:
    assert app_client.get("/v1/channels?size=100").json()["page"]["size"] == 100


def test_unsupported_media_type_is_415(world: World, app_client: APIClient) -> None:
    before = snapshot()
    response = app_client.post(
        "/v1/channels", "type=PUBLIC&name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_api_error(response, 415)
    response = app_client.post(
        "/v1/channels", '{"type":"PUBLIC","name":"x"}', content_type="text/plain"
    )
    assert_api_error(response, 415)
    assert snapshot() == before
