from typing import Any

import pytest

from channels_app import selectors
from channels_app.actors import Actor
from channels_app.exceptions import PermissionDenied
from channels_app.models import ChatUser, ReadReceipt
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import reads as read_services


def test_reading_is_one_write_and_clears_unread(
    app_actor: Actor,
    jane: ChatUser,
    john: ChatUser,
    published: Any,
    django_assert_max_num_queries: Any,
) -> None:
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="g", creator=jane, members=[john]
    )
    for index in range(5):
        message_services.send_message(
            actor=Actor.for_user(jane), channel_id=channel.pk, body=f"m{index}"
        )
    channel.refresh_from_db()
    assert selectors.unread_count(john, channel) == 5
    assert selectors.unread_count(jane, channel) == 0
    # fetch+authorize, membership, one upsert, and the savepoint pair of the test transaction
    with published() as capture, django_assert_max_num_queries(5):
        read_services.read_channel(actor=Actor.for_user(john), channel_id=channel.pk)
    assert capture.names == ["channel.read"]
    channel.refresh_from_db()
    assert selectors.unread_count(john, channel) == 0
    assert ReadReceipt.objects.get(channel=channel, user=john).last_read_sequence == 5


def test_history_before_joining_is_not_unread(
    app_actor: Actor, jane: ChatUser, alex: ChatUser
) -> None:
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="g", creator=jane
    )
    message_services.send_message(actor=Actor.for_user(jane), channel_id=channel.pk, body="old")
    channel_services.join_channel(actor=Actor.for_user(alex), channel_id=channel.pk)
    channel.refresh_from_db()
    assert selectors.unread_count(alex, channel) == 0
    message_services.send_message(actor=Actor.for_user(jane), channel_id=channel.pk, body="new")
    channel.refresh_from_db()
    assert selectors.unread_count(alex, channel) == 1
    assert selectors.total_unread_count(alex) == 1


def test_a_non_member_cannot_read(app_actor: Actor, jane: ChatUser, alex: ChatUser) -> None:
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="g", creator=jane
    )
    with pytest.raises(PermissionDenied):
        read_services.read_channel(actor=Actor.for_user(alex), channel_id=channel.pk)
