"""The fast paths `make bench` asked for keep the semantics of the straightforward queries, and
`seed_scale` writes what the services would (tiny volume; PostgreSQL only)."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from rest_framework.test import APIClient

from channels_app import selectors
from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser, Membership, Message, ReadReceipt
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import reads as read_services


def test_total_unread_count_matches_the_unread_messages(
    app_actor: Actor, jane: ChatUser, john: ChatUser, alex: ChatUser
) -> None:
    general, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="general", creator=jane, members=[john, alex]
    )
    private, _ = channel_services.create_channel(
        actor=app_actor, type="PRIVATE", name="secret", creator=john, members=[alex]
    )
    direct, _ = channel_services.create_channel(
        actor=app_actor, type="DIRECT", creator=jane, members=[alex]
    )
    for index in range(3):
        message_services.send_message(
            actor=Actor.for_user(jane), channel_id=general.pk, body=f"g{index}"
        )
    message_services.send_message(actor=Actor.for_user(alex), channel_id=general.pk, body="mine")
    message_services.send_message(actor=app_actor, channel_id=general.pk, body="system")
    message_services.send_message(actor=Actor.for_user(john), channel_id=private.pk, body="p")
    message_services.send_message(actor=Actor.for_user(jane), channel_id=direct.pk, body="d")
    read_services.read_channel(actor=Actor.for_user(alex), channel_id=private.pk)
    # A member without a receipt counts from the start, as the straightforward query does.
    ReadReceipt.objects.filter(user=alex, channel=direct).delete()
    message_services.send_message(actor=Actor.for_user(john), channel_id=private.pk, body="p2")

    for user in (jane, john, alex):
        assert selectors.total_unread_count(user) == selectors.unread_messages_of(user).count()
    # general: the system message after alex's own; private: p2; direct: d.
    assert selectors.total_unread_count(alex) == 3


def test_user_channels_include_created_channels_the_creator_left(
    app_client: APIClient, app_actor: Actor, jane: ChatUser, john: ChatUser
) -> None:
    left, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="left", creator=jane, members=[john]
    )
    joined, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="joined", creator=john, members=[jane]
    )
    channel_services.create_channel(actor=app_actor, type="PUBLIC", name="other", creator=john)
    channel_services.leave_channel(actor=Actor.for_user(jane), channel_id=left.pk)
    assert not Membership.objects.filter(channel=left, user=jane).exists()

    body = app_client.get(f"/v1/users/{jane.pk}/channels").json()
    assert [c["id"] for c in body["_embedded"]["channels"]] == [left.pk, joined.pk]
    assert body["page"]["totalElements"] == 2


def test_a_deep_page_holds_the_same_rows_in_the_same_order(
    app_client: APIClient,
    app_actor: Actor,
    jane: ChatUser,
    django_assert_max_num_queries: Any,
) -> None:
    for index in range(7):
        channel, _ = channel_services.create_channel(
            actor=app_actor, type="PUBLIC", name=f"c{index}", creator=jane
        )
        message_services.send_message(
            actor=Actor.for_user(jane), channel_id=channel.pk, body=f"hi {index}"
        )
    everything = app_client.get("/v1/channels?size=100&sort=name,desc").json()
    expected = [c["id"] for c in everything["_embedded"]["channels"]]
    pages = []
    for page in range(3):
        with django_assert_max_num_queries(4):
            body = app_client.get(f"/v1/channels?page={page}&size=3&sort=name,desc").json()
        pages += body["_embedded"]["channels"]
    assert [c["id"] for c in pages] == expected
    assert all(c["lastReceivedMessage"]["body"].startswith("hi") for c in pages)
    assert app_client.get("/v1/channels?page=3&size=3").json()["_embedded"]["channels"] == []


@pytest.mark.django_db
def test_seed_scale_refuses_sqlite() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the refusal is for SQLite")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("seed_scale", "--users", "20")


@pytest.mark.django_db(transaction=True)
def test_seed_scale_writes_what_the_services_would(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("seed_scale bulk-loads PostgreSQL with COPY")
    credentials = tmp_path / "scale.json"
    options = ["--users", "30", "--channels", "200", "--memberships", "1500",
               "--messages", "2000", "--credentials-file", str(credentials)]  # fmt: skip
    call_command("seed_scale", *options, stdout=open("/dev/null", "w"))  # noqa: SIM115
    info = json.loads(credentials.read_text())
    app = Application.objects.get(pk=info["applicationId"])
    channels = Channel.objects.filter(application=app)
    assert ChatUser.objects.filter(application=app).count() == 30
    assert {t: channels.filter(type=t).count() for t in ("PUBLIC", "PRIVATE", "DIRECT")} == {
        "PUBLIC": 160, "PRIVATE": 20, "DIRECT": 20,
    }  # fmt: skip
    assert Membership.objects.filter(channel__application=app).count() == 1500
    assert Message.objects.filter(application=app).count() == 2000
    for channel in channels.prefetch_related("memberships", "messages"):
        members = {m.user_id: m.role for m in channel.memberships.all()}
        assert channel.creator_id in members
        if channel.type == "DIRECT":
            assert 2 <= len(members) <= 10
            assert channel.direct_key == ",".join(str(pk) for pk in sorted(members))
            assert members[channel.creator_id] == "MEMBER"
        else:
            assert members[channel.creator_id] == "MODERATOR"
        messages = sorted(channel.messages.all(), key=lambda m: m.sequence)
        assert [m.sequence for m in messages] == list(range(1, len(messages) + 1))
        assert [m.pk for m in messages] == sorted(m.pk for m in messages)
        assert channel.last_sequence == len(messages)
        assert channel.last_message_id == (messages[-1].pk if messages else None)
        receipts = {r.user_id: r.last_read_sequence for r in channel.read_receipts.all()}
        assert set(receipts) == set(members)
        for message in messages:
            if message.user_id is not None:
                assert message.user_id in members
                assert receipts[message.user_id] >= message.sequence

    # Run again: nothing to do, same credentials. --reset: a fresh application.
    call_command("seed_scale", *options, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert json.loads(credentials.read_text())["clientSecret"] == info["clientSecret"]
    call_command("seed_scale", *options, "--reset", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not Application.objects.filter(pk=app.pk).exists()
    assert Application.objects.filter(name=info["name"]).count() == 1
