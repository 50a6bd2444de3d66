"""The channel list: Joined and Browse tabs, unread badges, pagination, escaping."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from channels_app.actors import Actor
from channels_app.models import Channel, ChatUser
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.web.views import CHANNELS_PER_PAGE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site")]


def make_channel(user: ChatUser, name: str, kind: str = "PUBLIC", **extra: Any) -> Channel:
    channel, _ = channel_services.create_channel(
        actor=Actor.for_user(user), type=kind, name=name, **extra
    )
    return channel


def say(user: ChatUser, channel: Channel, body: str) -> None:
    message_services.send_message(actor=Actor.for_user(user), channel_id=channel.pk, body=body)


def test_joined_lists_my_channels_with_unread_counts_and_a_total(
    ann: ChatUser, bob: ChatUser, ann_client: Client
) -> None:
    first = make_channel(ann, "first", display_name="First one")
    second = make_channel(ann, "second")
    channel_services.join_channel(actor=Actor.for_user(bob), channel_id=first.pk)
    channel_services.join_channel(actor=Actor.for_user(bob), channel_id=second.pk)
    say(bob, first, "hello")
    say(bob, first, "again")
    say(bob, second, "hi")
    say(ann, second, "mine do not count")
    response = ann_client.get("/")
    assert response.status_code == 200
    rows = {row.channel.pk: row for row in response.context["rows"]}
    assert rows[first.pk].unread == 2
    assert rows[second.pk].unread == 0  # ann replied: she has read up to her message
    assert response.context["total_unread"] == 2
    assert b"First one" in response.content
    assert b'id="total-unread" class="badge" data-count="2"' in response.content


def test_browse_lists_public_channels_not_joined_and_never_private_ones(
    ann: ChatUser, bob: ChatUser, bob_client: Client
) -> None:
    make_channel(ann, "open-room")
    make_channel(ann, "secret-room", kind="PRIVATE")
    make_channel(bob, "bobs-room")
    response = bob_client.get("/?tab=browse")
    names = [row.channel.name for row in response.context["rows"]]
    assert names == ["open-room"]
    assert b"secret-room" not in response.content
    joined = bob_client.get("/")
    assert [row.channel.name for row in joined.context["rows"]] == ["bobs-room"]


def test_direct_channels_are_titled_by_the_other_people(
    ann: ChatUser, bob: ChatUser, cat: ChatUser, ann_client: Client
) -> None:
    channel_services.create_channel(actor=Actor.for_user(ann), type="DIRECT", members=[bob, cat])
    response = ann_client.get("/")
    assert [row.title for row in response.context["rows"]] == ["Bob, Cat"]


def test_the_list_is_paginated(
    ann: ChatUser, ann_client: Client, django_assert_max_num_queries: Any
) -> None:
    for index in range(CHANNELS_PER_PAGE + 3):
        make_channel(ann, f"room-{index}")
    first = ann_client.get("/")
    assert len(first.context["rows"]) == CHANNELS_PER_PAGE
    assert b'rel="next"' in first.content
    second = ann_client.get("/?page=2")
    assert len(second.context["rows"]) == 3
    assert ann_client.get("/?page=999").status_code == 200
    assert ann_client.get("/?page=abc").status_code == 200


def test_the_list_takes_a_fixed_number_of_queries(
    ann: ChatUser,
    bob: ChatUser,
    cat: ChatUser,
    ann_client: Client,
    django_assert_max_num_queries: Any,
) -> None:
    for index in range(6):
        channel = make_channel(ann, f"room-{index}")
        channel_services.join_channel(actor=Actor.for_user(bob), channel_id=channel.pk)
        say(bob, channel, f"message {index}")
    channel_services.create_channel(actor=Actor.for_user(ann), type="DIRECT", members=[bob])
    channel_services.create_channel(actor=Actor.for_user(ann), type="DIRECT", members=[cat])
    with django_assert_max_num_queries(9):
        response = ann_client.get("/")
    assert len(response.context["rows"]) == 8


def test_script_in_names_and_messages_is_escaped(
    make_account: Callable[..., ChatUser], ann: ChatUser, ann_client: Client
) -> None:
    evil = make_account("evil<script>", display_name="<img src=x onerror=alert(1)>")
    channel = make_channel(
        ann, "<script>alert(1)</script>", display_name="<b onclick=alert(2)>Hi</b>"
    )
    channel_services.join_channel(actor=Actor.for_user(evil), channel_id=channel.pk)
    say(evil, channel, "<script>alert(3)</script>")
    content = ann_client.get("/").content
    assert b"<script>alert" not in content
    assert b"<img src=x" not in content
    assert b"<b onclick" not in content
    assert b"&lt;b onclick=alert(2)&gt;Hi&lt;/b&gt;" in content
    assert b"&lt;script&gt;alert(3)&lt;/script&gt;" in content


def test_unread_json_gives_badges_for_a_reconnecting_page(
    ann: ChatUser, bob: ChatUser, cat: ChatUser, ann_client: Client
) -> None:
    mine = make_channel(ann, "mine")
    theirs = make_channel(cat, "theirs", kind="PRIVATE")
    channel_services.join_channel(actor=Actor.for_user(bob), channel_id=mine.pk)
    say(bob, mine, "one")
    say(cat, theirs, "invisible")
    response = ann_client.get(f"/unread?ids={mine.pk},{theirs.pk},x")
    assert response.json() == {"total": 1, "channels": {str(mine.pk): 1}}
