"""ChatKitty's own Python client, `chatkitty-server-side-sdk==1.0.0` (package `openapi_client`),
drives a live server through every call it offers: channels 16, users 13, messages 5,
application 3, threads 3. The workarounds are those of platform-api-v1.md section 6; each call
must deserialize into the SDK's models with its return-type checks on.

`openapi_client.models` has a SyntaxError module, so every model is imported from its own module.
"""

import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from channels_app.services.applications import create_application
from tests.api.conftest import assert_wire

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from openapi_client.api.application_api import ApplicationApi
    from openapi_client.api.channels_api import ChannelsApi
    from openapi_client.api.messages_api import MessagesApi
    from openapi_client.api.threads_api import ThreadsApi
    from openapi_client.api.users_api import UsersApi
    from openapi_client.api_client import ApiClient
    from openapi_client.configuration import Configuration
    from openapi_client.exceptions import (
        ApiException,
        NotFoundException,
        UnauthorizedException,
    )
    from openapi_client.model.application_settings_properties import (
        ApplicationSettingsProperties,
    )
    from openapi_client.model.channel_properties_patch import ChannelPropertiesPatch
    from openapi_client.model.chat_user_id_reference import ChatUserIdReference
    from openapi_client.model.chat_user_properties_patch import ChatUserPropertiesPatch
    from openapi_client.model.chat_user_username_reference import ChatUserUsernameReference
    from openapi_client.model.create_channel_generic_event_resource import (
        CreateChannelGenericEventResource,
    )
    from openapi_client.model.create_channel_invite_resource import CreateChannelInviteResource
    from openapi_client.model.create_direct_channel_resource import CreateDirectChannelResource
    from openapi_client.model.create_external_file_properties import (
        CreateExternalFileProperties,
    )
    from openapi_client.model.create_person_chat_user_resource import (
        CreatePersonChatUserResource,
    )
    from openapi_client.model.create_private_channel_resource import (
        CreatePrivateChannelResource,
    )
    from openapi_client.model.create_public_channel_resource import CreatePublicChannelResource
    from openapi_client.model.create_text_message_resource import CreateTextMessageResource
    from openapi_client.model.secret_resource import SecretResource

pytestmark = [pytest.mark.django_db(transaction=True)]

# Section 6: with input checks off the SDK refuses its own None defaults; host index 0 is our
# Configuration subclass's live server.
WRITE = {
    "_check_input_type": False,
    "_content_type": "application/json",
    "_host_index": 0,
    "_request_auths": [],
}
PATCH = {**WRITE, "_content_type": "application/json+merge-patch"}


def token_for(base_url: str, client_id: str, client_secret: str) -> str:
    """The real client-credentials grant: HTTP Basic client id and secret."""
    response = httpx.post(
        f"{base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    token: str = body["access_token"]
    return token


@pytest.fixture
def live(live_server: Any) -> Iterator[SimpleNamespace]:
    application, secret = create_application(name="SDK app")
    assert application.oauth_client is not None
    token = token_for(live_server.url, application.oauth_client.client_id, secret)

    class LiveConfiguration(Configuration):
        def get_host_settings(self) -> list[dict[str, str]]:
            return [{"url": live_server.url, "description": "pytest live server"}]

    configuration = LiveConfiguration(host=live_server.url, access_token=token)
    client = ApiClient(configuration)
    raw = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"})
    yield SimpleNamespace(
        application=application,
        token=token,
        url=live_server.url,
        raw=raw,
        channels=ChannelsApi(client),
        users=UsersApi(client),
        messages=MessagesApi(client),
        application_api=ApplicationApi(client),
        threads=ThreadsApi(client),
    )
    raw.close()
    client.close()


def test_every_sdk_call_against_a_live_server(live: SimpleNamespace) -> None:
    users, channels, messages = live.users, live.channels, live.messages
    called: set[str] = set()

    def call(api: Any, method: str, /, *args: Any, **kwargs: Any) -> Any:
        called.add(f"{type(api).__name__}.{method}")
        return getattr(api, method)(*args, **kwargs)

    # --- users_api (13) --------------------------------------------------------------------
    created = {}
    for name in ("jane", "john", "alex", "carl"):
        created[name] = call(
            users,
            "create_user",
            CreatePersonChatUserResource(
                name=name, display_name=name.title(), is_guest=False, properties={"team": "red"}
            ),
            **WRITE,
        )
    jane, john, alex, carl = (created[n] for n in ("jane", "john", "alex", "carl"))
    assert jane.name == "jane" and jane.display_name == "Jane" and jane.is_guest is False
    assert jane.presence.online is False and isinstance(jane.display_picture_url, str)

    page = call(users, "retrieve_users", page=0, size=2, name="jane")
    assert [u.name for u in page.embedded.users] == ["jane"]
    assert page.page.total_elements == 1 and page.page.size == 2 and page.page.number == 0
    everyone = call(users, "retrieve_users", sort=["name,desc"])
    assert [u.name for u in everyone.embedded.users] == ["john", "jane", "carl", "alex"]

    exists = call(users, "check_user_exists", "jane", _preload_content=False)
    assert exists.status == 200
    with pytest.raises(NotFoundException):
        call(users, "check_user_exists", "nobody", _preload_content=False)

    assert call(users, "retrieve_user", jane.id).name == "jane"
    patched = call(
        users,
        "update_user",
        jane.id,
        chat_user_properties_patch=ChatUserPropertiesPatch(
            display_name="Jane D.", properties={"team": None, "level": 3}
        ),
        **PATCH,
    )
    assert patched.display_name == "Jane D." and patched.properties == {"level": 3.0}
    assert call(users, "update_user", jane.id, **PATCH).display_name == "Jane D."  # empty body

    picture = call(
        users,
        "update_user_display_picture",
        jane.id,
        CreateExternalFileProperties(
            url="https://cdn.example.com/jane.png",
            name="jane.png",
            content_type="image/png",
            size=2048,
        ),
        **WRITE,
    )
    assert picture.display_picture_url == "https://cdn.example.com/jane.png"
    assert (
        call(
            users, "set_user_secret", jane.id, "api", SecretResource(secret={"k": "v"}), **WRITE
        ).id
        == jane.id
    )
    assert call(users, "retrieve_user_secret", jane.id, "api").secret == {"k": "v"}
    assert call(users, "remove_user_secret", jane.id, "api").id == jane.id
    with pytest.raises(NotFoundException):
        call(users, "retrieve_user_secret", jane.id, "api")

    # --- channels_api (16) -----------------------------------------------------------------
    public = call(
        channels,
        "create_channel",
        CreatePublicChannelResource(
            type="PUBLIC",
            name="general",
            display_name="General",
            properties={"topic": "all"},
            creator=ChatUserUsernameReference(username="jane"),
            _check_type=False,
        ),
        **WRITE,
    )
    assert public.type == "PUBLIC" and public.name == "general" and public.creator.name == "jane"
    private = call(
        channels,
        "create_channel",
        CreatePrivateChannelResource(
            type="PRIVATE",
            name="secret",
            creator=ChatUserIdReference(id=jane.id),
            _check_type=False,
        ),
        **WRITE,
    )
    assert private.display_name == "secret"
    direct_refs = [ChatUserUsernameReference(username="jane"), ChatUserIdReference(id=john.id)]
    direct = call(
        channels,
        "create_channel",
        CreateDirectChannelResource(type="DIRECT", members=direct_refs, _check_type=False),
        **WRITE,
    )
    again = call(
        channels,
        "create_channel",
        CreateDirectChannelResource(
            type="DIRECT", members=list(reversed(direct_refs)), _check_type=False
        ),
        **WRITE,
    )
    assert direct.type == "DIRECT" and again.id == direct.id
    assert sorted(m.name for m in direct.members) == ["jane", "john"]

    listed = call(channels, "retrieve_channels", page=0, size=5, type="PUBLIC")
    assert [c.id for c in listed.embedded.channels] == [public.id]
    by_members = call(channels, "retrieve_channels", members=["jane", "john"])
    assert [c.id for c in by_members.embedded.channels] == [direct.id]
    windowed = call(
        channels,
        "retrieve_channels",
        start_time=public.created_time,
        end_time=direct.created_time,
        properties='{"topic":"all"}',
    )
    assert [c.id for c in windowed.embedded.channels] == [public.id]
    assert call(channels, "retrieve_channel", public.id).id == public.id

    updated = call(
        channels,
        "update_channel",
        public.id,
        channel_properties_patch=ChannelPropertiesPatch(
            display_name="General!", properties={"color": "blue"}
        ),
        **PATCH,
    )
    assert updated.display_name == "General!"
    assert updated.properties == {"topic": "all", "color": "blue"}

    with_member = call(
        channels,
        "add_channel_member",
        public.id,
        ChatUserUsernameReference(username="john"),
        **WRITE,
    )
    assert with_member.id == public.id
    call(channels, "add_channel_member", public.id, ChatUserIdReference(id=alex.id), **WRITE)
    members = call(channels, "retrieve_channel_members", public.id, page=0, size=10)
    assert {u.name for u in members.embedded.users} == {"jane", "john", "alex"}
    removed = call(channels, "remove_channel_member", public.id, alex.id)
    assert removed.id == public.id
    members = call(channels, "retrieve_channel_members", public.id)
    assert {u.name for u in members.embedded.users} == {"jane", "john"}

    moderator = call(
        channels,
        "add_channel_moderator",
        public.id,
        ChatUserUsernameReference(username="john"),
        **WRITE,
    )
    assert moderator.name == "john"  # the user, not the channel
    memberships = call(channels, "retrieve_channel_memberships", public.id)
    assert len(memberships.embedded.memberships) == 2
    assert all(m.created_time for m in memberships.embedded.memberships)
    participants = call(channels, "retrieve_channel_participants", public.id)
    assert participants.embedded.users == []

    invite = call(
        channels,
        "send_channel_invite",
        public.id,
        CreateChannelInviteResource(
            user=ChatUserUsernameReference(username="carl"), _check_type=False
        ),
        **WRITE,
    )
    assert invite.created_time
    invites = call(channels, "retrieve_channel_invites", public.id)
    assert len(invites.embedded.invites) == 1

    text = call(
        channels,
        "send_channel_message",
        public.id,
        CreateTextMessageResource(
            type="TEXT",
            body="hello from john",
            user=ChatUserUsernameReference(username="john"),
            properties={"n": 1},
            _check_type=False,
        ),
        **WRITE,
    )
    assert text.type == "TEXT" and text.user.name == "john" and text.body == "hello from john"
    system = call(
        channels,
        "send_channel_message",
        public.id,
        CreateTextMessageResource(type="TEXT", body="system notice", _check_type=False),
        **WRITE,
    )
    assert system.type == "SYSTEM_TEXT" and not hasattr(system, "user")
    for index in range(4):
        call(
            channels,
            "send_channel_message",
            public.id,
            CreateTextMessageResource(type="TEXT", body=f"m{index}", _check_type=False),
            **WRITE,
        )

    first = call(channels, "retrieve_channel_messages", public.id, size=4)
    assert [m.body for m in first.embedded.messages] == ["m3", "m2", "m1", "m0"]
    assert first.page.size == 4
    # Follow the server's cursor the way the SDK can: only start/next/relation/size.
    query = dict(httpx.URL(first.links.next.href).params)
    second = call(
        channels,
        "retrieve_channel_messages",
        public.id,
        size=int(query["size"]),
        start=int(query["start"]),
        next=int(query["next"]),
        relation=query["relation"],
    )
    assert [m.body for m in second.embedded.messages] == ["system notice", "hello from john"]
    filtered = call(
        channels, "retrieve_channel_messages", public.id, username="john", query="hello"
    )
    assert [m.id for m in filtered.embedded.messages] == [text.id]

    event = call(
        channels,
        "send_channel_event",
        public.id,
        CreateChannelGenericEventResource(type="confetti", properties={"color": "gold"}),
        **WRITE,
    )
    assert event.type == "confetti" and event.properties == {"color": "gold"}

    refreshed = call(channels, "retrieve_channel", public.id)
    assert refreshed.last_received_message.body == "m3"

    # --- users_api, continued: reads that need channels and messages ------------------------
    john_channels = call(users, "retrieve_user_channels", john.id)
    assert {c.id for c in john_channels.embedded.channels} == {public.id, direct.id}
    sent = call(users, "retrieve_user_messages", john.id)
    assert [m.id for m in sent.embedded.messages] == [text.id]
    unread = call(users, "retrieve_user_messages", jane.id, unread=True)
    assert {m.body for m in unread.embedded.messages} == {
        "hello from john",
        "system notice",
        "m0",
        "m1",
        "m2",
        "m3",
    }
    notifications = call(users, "retrieve_user_notifications", jane.id, size=5)
    assert notifications.page.size == 5

    # --- messages_api (5) and threads_api (3) -----------------------------------------------
    everything = call(messages, "retrieve_messages", size=3, username="john")
    assert [m.id for m in everything.embedded.messages] == [text.id]
    assert call(messages, "retrieve_message", text.id).body == "hello from john"
    receipts = call(messages, "retrieve_message_read_receipts", text.id)
    assert receipts.embedded.receipts == []  # jane has not read it yet

    thread = call(messages, "delete_message", system.id)
    assert thread.type == "MAIN"
    with pytest.raises(NotFoundException):
        call(messages, "retrieve_message", system.id)
    assert call(live.threads, "retrieve_thread", thread.id).id == thread.id
    reply = call(
        live.threads,
        "send_thread_message",
        thread.id,
        CreateTextMessageResource(
            type="TEXT",
            body="in the thread",
            user=ChatUserIdReference(id=jane.id),
            _check_type=False,
        ),
        **WRITE,
    )
    assert reply.type == "TEXT" and reply.channel_id == public.id
    in_thread = call(live.threads, "retrieve_thread_messages", thread.id, size=2)
    assert in_thread.embedded.messages[0].id == reply.id
    # jane sent a message, so she has read everything before it.
    receipts = call(messages, "retrieve_message_read_receipts", text.id)
    assert [r.user.name for r in receipts.embedded.receipts] == ["jane"]

    # --- application_api (3) --------------------------------------------------------------
    app = call(live.application_api, "retrieve_authenticated_application")
    assert app.id == live.application.pk and app.key == live.application.api_key
    settings = call(live.application_api, "retrieve_authenticated_application_settings")
    assert settings.guest_users == "DISABLED"
    settings = call(
        live.application_api,
        "update_authenticated_application_settings",
        ApplicationSettingsProperties(guest_users="ENABLED"),
        **WRITE,
    )
    assert settings.guest_users == "ENABLED"

    # --- the raw JSON behind those models is camelCase (the SDK accepts snake_case too) ----
    for path in (
        "/v1/channels",
        f"/v1/channels/{public.id}",
        f"/v1/channels/{direct.id}",
        f"/v1/channels/{public.id}/members",
        f"/v1/channels/{public.id}/memberships",
        f"/v1/channels/{public.id}/invites",
        f"/v1/channels/{public.id}/messages",
        "/v1/users",
        f"/v1/users/{jane.id}",
        f"/v1/messages/{text.id}",
        f"/v1/messages/{text.id}/read-receipts",
        f"/v1/threads/{thread.id}",
        "/v1/application",
        "/v1/application/settings",
        f"/v1/users/{jane.id}/notifications",
    ):
        response = live.raw.get(path)
        assert response.status_code == 200
        assert_wire(response.json())
    raw_channel = live.raw.get(f"/v1/channels/{public.id}").json()
    assert {"createdTime", "displayName", "lastReceivedMessage"} <= set(raw_channel)
    assert "created_time" not in raw_channel

    # --- deletes answer 200 with the documented body ------------------------------------------
    deleted = call(channels, "delete_channel", private.id)
    assert deleted.id == live.application.pk
    with pytest.raises(NotFoundException):
        call(channels, "retrieve_channel", private.id)
    assert call(messages, "delete_messages").id == live.application.pk
    assert call(messages, "retrieve_messages").embedded.messages == []
    assert call(users, "delete_user", carl.id).id == live.application.pk
    with pytest.raises(NotFoundException):
        call(users, "retrieve_user", carl.id)

    assert len([c for c in called if c.startswith("ChannelsApi.")]) == 16
    assert len([c for c in called if c.startswith("UsersApi.")]) == 13
    assert len([c for c in called if c.startswith("MessagesApi.")]) == 5
    assert len([c for c in called if c.startswith("ApplicationApi.")]) == 3
    assert len([c for c in called if c.startswith("ThreadsApi.")]) == 3


def test_the_sdk_sees_401_and_404(live: SimpleNamespace) -> None:
    class LiveConfiguration(Configuration):
        def get_host_settings(self) -> list[dict[str, str]]:
            return [{"url": live.url, "description": "pytest live server"}]

    anonymous = ChannelsApi(ApiClient(LiveConfiguration(host=live.url)))
    with pytest.raises(UnauthorizedException):
        anonymous.retrieve_channels()
    forged = ChannelsApi(ApiClient(LiveConfiguration(host=live.url, access_token="forged")))
    with pytest.raises(UnauthorizedException):
        forged.retrieve_channels()
    with pytest.raises(NotFoundException):
        live.channels.retrieve_channel(999_999)
    with pytest.raises(ApiException) as conflict:
        for _ in range(2):
            live.channels.create_channel(
                CreatePublicChannelResource(type="PUBLIC", name="twice"), **WRITE
            )
    assert conflict.value.status == 409


def test_a_wrong_client_secret_gets_no_token(live_server: Any, db: Any) -> None:
    application, _ = create_application(name="Locked")
    assert application.oauth_client is not None
    response = httpx.post(
        f"{live_server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(application.oauth_client.client_id, "wrong"),
    )
    assert response.status_code == 401
