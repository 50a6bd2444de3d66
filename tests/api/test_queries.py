"""Every list endpoint answers in a fixed number of queries, whatever the number of rows."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import reads as read_services
from tests.conftest import user_token

# One bound for every list: authentication, the page's count, its rows, and at most a few
# batched loads (DIRECT members, ...). It must not grow with the rows.
MAX_QUERIES = 8


class Crowd:
    """Channels of every type, with members, invites, user and system messages, read receipts;
    `grow()` adds as many again."""

    def __init__(self, application: Application, make_user: Callable[..., ChatUser]) -> None:
        self.application = application
        self.actor = Actor.for_application(application)
        self.make_user = make_user
        self.rounds = 0
        self.owner = make_user(application, "owner")
        self.general = self._channels()[0]
        self.grow()

    def _channels(self) -> list[Channel]:
        self.rounds += 1
        n = self.rounds
        users = [self.make_user(self.application, f"r{n}u{i}") for i in range(4)]
        self.users = users
        public = [
            channel_services.create_channel(
                actor=self.actor,
                type="PUBLIC",
                name=f"r{n}pub{i}",
                creator=self.owner,
                members=users,
            )[0]
            for i in range(3)
        ]
        private = channel_services.create_channel(
            actor=self.actor,
            type="PRIVATE",
            name=f"r{n}priv",
            creator=self.owner,
            members=users[:2],
        )[0]
        directs = [
            channel_services.create_channel(
                actor=self.actor, type="DIRECT", members=[self.owner, users[i]]
            )[0]
            for i in (0, 1)
        ]
        channels = [*public, private, *directs]
        senders = [[self.owner, *users[:2]]] * 4 + [[self.owner, users[0]], [self.owner, users[1]]]
        for channel, members in zip(channels, senders, strict=True):
            for user in members:
                message_services.send_message(
                    actor=Actor.for_user(user), channel_id=channel.pk, body=f"hi from {user.name}"
                )
            message_services.send_message(actor=self.actor, channel_id=channel.pk, body="system")
        return channels

    def grow(self) -> None:
        channels = self._channels()
        general = self.general
        for user in self.users:
            channel_services.add_member(actor=self.actor, channel_id=general.pk, user=user)
            channel_services.set_member_role(
                actor=self.actor, channel_id=general.pk, user=user, role="MODERATOR"
            )
            message_services.send_message(
                actor=Actor.for_user(user), channel_id=general.pk, body="in general"
            )
            read_services.read_channel(actor=Actor.for_user(user), channel_id=general.pk)
        spare = self.make_user(self.application, f"r{self.rounds}spare")
        channel_services.send_invite(actor=self.actor, channel_id=channels[0].pk, user=spare)
        channel_services.send_invite(actor=self.actor, channel_id=general.pk, user=spare)
        self.first_message = general.messages.order_by("sequence").first()


LIST_URLS = [
    "/v1/channels",
    "/v1/channels?type=DIRECT",
    "/v1/channels?members=owner&sort=name,desc",
    "/v1/channels/{general}/members",
    "/v1/channels/{general}/moderators",
    "/v1/channels/{general}/memberships",
    "/v1/channels/{general}/participants",
    "/v1/channels/{general}/invites",
    "/v1/channels/{general}/messages",
    "/v1/users",
    "/v1/users/{owner}/channels",
    "/v1/users/{owner}/messages",
    "/v1/users/{owner}/messages?unread=True",
    "/v1/users/{owner}/notifications",
    "/v1/messages",
    "/v1/messages/{message}/read-receipts",
    "/v1/threads/{thread}/messages",
]


@pytest.fixture
def crowd(application: Application, make_user: Callable[..., ChatUser]) -> Crowd:
    return Crowd(application, make_user)


def _url(template: str, crowd: Crowd, app_client: APIClient) -> str:
    thread = app_client.delete(f"/v1/messages/{crowd.general.messages.last().pk}").json()  # type: ignore[union-attr]
    return template.format(
        general=crowd.general.pk,
        owner=crowd.owner.pk,
        message=crowd.first_message.pk if crowd.first_message else 0,
        thread=thread["id"],
    )


@pytest.mark.parametrize("template", LIST_URLS)
def test_list_queries_do_not_grow_with_rows(
    template: str,
    crowd: Crowd,
    app_client: APIClient,
    django_assert_max_num_queries: Any,
) -> None:
    url = _url(template, crowd, app_client)
    with CaptureQueriesContext(connection) as small:
        first = app_client.get(url)
    assert first.status_code == 200, first.content[:300]
    crowd.grow()
    crowd.grow()
    with django_assert_max_num_queries(MAX_QUERIES):
        response = app_client.get(url)
    assert response.status_code == 200
    with CaptureQueriesContext(connection) as large:
        app_client.get(url)
    assert len(large) == len(small), (len(small), len(large))
    embedded = next(iter(response.json()["_embedded"].values()))
    if template.startswith(("/v1/channels?", "/v1/channels/{general}/m", "/v1/messages")):
        assert len(embedded) >= 5  # the bound was measured over several rows


@pytest.mark.parametrize(
    "template",
    [
        "/v1/channels",
        "/v1/channels?joined=true",
        "/v1/channels?unread=true",
        "/v1/channels/{general}/messages",
        "/v1/users/{owner}/messages?unread=True",
    ],
)
def test_user_lists_have_a_fixed_number_of_queries(
    template: str, crowd: Crowd, app_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    url = _url(template, crowd, app_client)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(crowd.owner)}")
    crowd.grow()
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert len(next(iter(response.json()["_embedded"].values()))) >= 5


@pytest.mark.parametrize(
    "template",
    [
        "/v1/channels/{general}",
        "/v1/users/{owner}",
        "/v1/messages/{message}",
        "/v1/threads/{thread}",
        "/v1/application",
    ],
)
def test_detail_endpoints_have_a_fixed_number_of_queries(
    template: str, crowd: Crowd, app_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    url = _url(template, crowd, app_client)
    with django_assert_max_num_queries(4):
        assert app_client.get(url).status_code == 200
