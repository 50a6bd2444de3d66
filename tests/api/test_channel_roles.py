"""Who may do what on a channel: every channel endpoint x creator, moderator, member,
non-member and the application, on a PUBLIC and a PRIVATE channel."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from channels_app.models import Channel
from tests.api.conftest import World, assert_api_error, assert_wire, snapshot
from tests.api.endpoints import CHANNEL_ENDPOINTS, Endpoint

ROLES = ["creator", "moderator", "member", "non_member", "application"]
OK, FORBIDDEN = 200, 403

# Statuses on a PUBLIC channel, in ROLES order.
PUBLIC_STATUS: dict[str, tuple[int, ...]] = {
    "retrieve_channel": (OK, OK, OK, OK, OK),
    "update_channel": (OK, OK, FORBIDDEN, FORBIDDEN, OK),
    "delete_channel": (OK, OK, FORBIDDEN, FORBIDDEN, OK),
    "add_channel_member": (OK, OK, OK, FORBIDDEN, OK),
    "retrieve_channel_members": (OK, OK, OK, OK, OK),
    "remove_channel_member": (OK, OK, FORBIDDEN, FORBIDDEN, OK),
    "add_channel_moderator": (OK, OK, FORBIDDEN, FORBIDDEN, OK),
    "list_channel_moderators": (OK, OK, OK, OK, OK),
    "remove_channel_moderator": (OK, OK, FORBIDDEN, FORBIDDEN, OK),
    "retrieve_channel_memberships": (OK, OK, OK, OK, OK),
    "retrieve_channel_participants": (OK, OK, OK, OK, OK),
    "send_channel_invite": (OK, OK, OK, FORBIDDEN, OK),
    "retrieve_channel_invites": (OK, OK, OK, FORBIDDEN, OK),
    "send_channel_message": (OK, OK, OK, FORBIDDEN, OK),
    "retrieve_channel_messages": (OK, OK, OK, OK, OK),
    "send_channel_event": (OK, OK, OK, FORBIDDEN, OK),
    # The application-scoped form is the Platform API's alone.
    "retrieve_application_channel": (FORBIDDEN,) * 4 + (OK,),
    "delete_application_channel": (FORBIDDEN,) * 4 + (OK,),
}


def expected(endpoint: Endpoint, role: str, kind: str) -> int:
    status = PUBLIC_STATUS[endpoint.name][ROLES.index(role)]
    application_only = endpoint.name.endswith("_application_channel")
    if kind == "PRIVATE" and role == "non_member" and not application_only:
        return 404  # a PRIVATE channel is invisible to non-members: it reads as missing
    return status


def test_the_table_covers_every_channel_endpoint() -> None:
    assert {endpoint.name for endpoint in CHANNEL_ENDPOINTS} == set(PUBLIC_STATUS)


@pytest.mark.parametrize("kind", ["PUBLIC", "PRIVATE"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", CHANNEL_ENDPOINTS, ids=[e.name for e in CHANNEL_ENDPOINTS])
def test_channel_permission_matrix(
    endpoint: Endpoint,
    role: str,
    kind: str,
    world: World,
    as_role: Callable[[str], APIClient],
) -> None:
    channel = world.general if kind == "PUBLIC" else world.secret
    status = expected(endpoint, role, kind)
    client = as_role(role)
    before = snapshot()
    response = endpoint.send(client, world, channel=channel.pk)
    if status == OK:
        assert response.status_code == OK, response.content[:400]
        assert_wire(response.json())
    else:
        assert_api_error(response, status)
        assert snapshot() == before


@pytest.mark.parametrize("role", ["creator", "member", "application"])
def test_direct_channels_take_no_new_members(
    role: str, world: World, as_role: Callable[[str], APIClient]
) -> None:
    client = as_role(role)
    before = snapshot()
    url = f"/v1/channels/{world.direct.pk}"
    assert_api_error(client.post(f"{url}/members", {"username": "carl"}, format="json"), 400)
    assert_api_error(
        client.post(f"{url}/invites", {"user": {"username": "carl"}}, format="json"), 400
    )
    assert_api_error(client.delete(f"{url}/members/{world.john.pk}"), 400)
    assert snapshot() == before


@pytest.mark.parametrize("role", ["moderator", "non_member"])
def test_direct_channels_are_invisible_to_non_members(
    role: str, world: World, as_role: Callable[[str], APIClient]
) -> None:
    client = as_role(role)
    assert_api_error(client.get(f"/v1/channels/{world.direct.pk}"), 404)
    assert_api_error(client.get(f"/v1/channels/{world.direct.pk}/messages"), 404)
    assert_api_error(client.get(f"/v1/messages/{world.direct_message.pk}"), 404)


def test_a_member_of_a_direct_channel_sees_it_with_its_members(
    world: World, as_role: Callable[[str], APIClient]
) -> None:
    body = as_role("member").get(f"/v1/channels/{world.direct.pk}").json()
    assert body["type"] == "DIRECT"
    assert {member["name"] for member in body["members"]} == {"jane", "john"}
    assert "name" not in body and "displayName" not in body


def test_a_user_creates_channels_as_their_own_creator(
    world: World, as_role: Callable[[str], APIClient]
) -> None:
    client = as_role("non_member")  # alex
    body = client.post(
        "/v1/channels",
        {"type": "PRIVATE", "name": "alex-room", "creator": {"username": "jane"}},
        format="json",
    ).json()
    assert body["creator"]["name"] == "alex"
    channel = Channel.objects.get(pk=body["id"])
    assert list(channel.memberships.values_list("user__name", "role")) == [("alex", "MODERATOR")]
    direct = client.post(
        "/v1/channels", {"type": "DIRECT", "members": [{"username": "carl"}]}, format="json"
    ).json()
    assert {member["name"] for member in direct["members"]} == {"alex", "carl"}


def test_a_member_leaving_is_no_longer_listed(
    world: World, as_role: Callable[[str], APIClient], app_client: APIClient
) -> None:
    member = as_role("member")
    assert member.post(f"/v1/channels/{world.general.pk}/leave").status_code == 200
    users = app_client.get(f"/v1/channels/{world.general.pk}/members").json()
    assert "john" not in {user["name"] for user in users["_embedded"]["users"]}
