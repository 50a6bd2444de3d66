import threading
from typing import Any

import pytest
from django.db import connection, connections

from channels_app import events
from channels_app.actors import Actor
from channels_app.exceptions import ChannelFrozen, InvalidInput, NotFound, PermissionDenied
from channels_app.models import Channel, ChatUser, Message, ReadReceipt, Thread
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services


@pytest.fixture
def general(app_actor: Actor, jane: ChatUser, john: ChatUser) -> Channel:
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="general", creator=jane, members=[john]
    )
    return channel


def test_sending_assigns_the_next_sequence_and_publishes_after_commit(
    general: Channel, jane: ChatUser, published: Any
) -> None:
    with published() as capture:
        first = message_services.send_message(
            actor=Actor.for_user(jane), channel_id=general.pk, body="hello"
        )
        second = message_services.send_message(
            actor=Actor.for_user(jane), channel_id=general.pk, body="again"
        )
    assert (first.sequence, second.sequence) == (1, 2)
    general.refresh_from_db()
    assert general.last_sequence == 2
    assert general.last_message_id == second.pk
    created = capture.of(events.MessageCreated)
    assert len(created) == 2
    assert [event.sequence for event in created] == [1, 2]
    assert created[0].message["body"] == "hello"


def test_a_sender_has_read_what_they_send(general: Channel, jane: ChatUser) -> None:
    message_services.send_message(actor=Actor.for_user(jane), channel_id=general.pk, body="hi")
    receipt = ReadReceipt.objects.get(channel=general, user=jane)
    assert receipt.last_read_sequence == 1


def test_the_application_sends_system_messages_or_on_behalf_of_a_member(
    general: Channel, app_actor: Actor, john: ChatUser
) -> None:
    system = message_services.send_message(actor=app_actor, channel_id=general.pk, body="sys")
    assert system.type == Message.Type.SYSTEM_TEXT and system.user is None
    on_behalf = message_services.send_message(
        actor=app_actor, channel_id=general.pk, body="hi", user=john
    )
    assert on_behalf.type == Message.Type.TEXT and on_behalf.user == john


def test_a_non_member_cannot_send(general: Channel, alex: ChatUser, published: Any) -> None:
    with published() as capture, pytest.raises(PermissionDenied):
        message_services.send_message(actor=Actor.for_user(alex), channel_id=general.pk, body="x")
    assert capture.events == []
    assert not Message.objects.exists()


@pytest.mark.parametrize("body", ["", "   ", 5, None, "x" * 10_001])
def test_bad_bodies_are_rejected(general: Channel, jane: ChatUser, body: Any) -> None:
    with pytest.raises(InvalidInput):
        message_services.send_message(actor=Actor.for_user(jane), channel_id=general.pk, body=body)
    assert not Message.objects.exists()


def test_frozen_channels_take_no_messages(general: Channel, jane: ChatUser) -> None:
    Channel.objects.filter(pk=general.pk).update(frozen=True)
    with pytest.raises(ChannelFrozen):
        message_services.send_message(actor=Actor.for_user(jane), channel_id=general.pk, body="x")


def test_an_idempotency_key_gives_exactly_one_message(general: Channel, jane: ChatUser) -> None:
    actor = Actor.for_user(jane)
    first = message_services.send_message(
        actor=actor, channel_id=general.pk, body="once", idempotency_key="k1"
    )
    again = message_services.send_message(
        actor=actor, channel_id=general.pk, body="once", idempotency_key="k1"
    )
    assert first.pk == again.pk
    assert Message.objects.count() == 1


def test_persistence_off_fans_out_without_storing(
    general: Channel, jane: ChatUser, published: Any
) -> None:
    Channel.objects.filter(pk=general.pk).update(persistent=False)
    with published() as capture:
        message_services.send_message(actor=Actor.for_user(jane), channel_id=general.pk, body="x")
    assert not Message.objects.exists()
    (event,) = capture.of(events.MessageCreated)
    assert event.message["persistent"] is False


def test_replies_go_to_the_parent_thread(
    general: Channel, jane: ChatUser, app_actor: Actor
) -> None:
    parent = message_services.send_message(
        actor=Actor.for_user(jane), channel_id=general.pk, body="parent"
    )
    thread = Thread.objects.create(channel=general, type=Thread.Type.MESSAGE, parent_message=parent)
    reply = message_services.send_thread_message(
        actor=Actor.for_user(jane), thread_id=thread.pk, body="reply"
    )
    assert reply.nested_level == 1 and reply.thread == thread
    parent.refresh_from_db()
    assert parent.replies_count == 1


def test_only_sender_or_moderator_deletes_a_message(
    general: Channel, jane: ChatUser, john: ChatUser, published: Any
) -> None:
    message = message_services.send_message(
        actor=Actor.for_user(john), channel_id=general.pk, body="oops"
    )
    other = message_services.send_message(
        actor=Actor.for_user(jane), channel_id=general.pk, body="mine"
    )
    with pytest.raises(PermissionDenied):
        message_services.delete_message(actor=Actor.for_user(john), message_id=other.pk)
    with published() as capture:
        thread = message_services.delete_message(actor=Actor.for_user(jane), message_id=message.pk)
    assert thread.type == Thread.Type.MAIN
    assert capture.names == ["message.deleted"]
    assert not Message.objects.filter(pk=message.pk).exists()


def test_another_applications_message_reads_as_missing(
    general: Channel, jane: ChatUser, other_application: Any
) -> None:
    message = message_services.send_message(
        actor=Actor.for_user(jane), channel_id=general.pk, body="x"
    )
    with pytest.raises(NotFound):
        message_services.delete_message(
            actor=Actor.for_application(other_application), message_id=message.pk
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_get_gap_free_sequences(application: Any, make_user: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serializes writers anyway)")
    actor = Actor.for_application(application)
    users = [make_user(application) for _ in range(4)]
    channel, _ = channel_services.create_channel(
        actor=actor, type="PUBLIC", name="busy", members=users
    )
    errors: list[BaseException] = []

    def writer(user: ChatUser) -> None:
        try:
            for index in range(25):
                message_services.send_message(
                    actor=Actor.for_user(user), channel_id=channel.pk, body=f"m{index}"
                )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sequences = list(
        Message.objects.filter(channel=channel)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, 101))


def test_a_reply_thread_is_opened_once_and_replies_count(
    general: Channel, jane: ChatUser, john: ChatUser, alex: ChatUser
) -> None:
    parent = message_services.send_message(
        actor=Actor.for_user(jane), channel_id=general.pk, body="question"
    )
    thread = message_services.open_reply_thread(actor=Actor.for_user(john), message_id=parent.pk)
    again = message_services.open_reply_thread(actor=Actor.for_user(jane), message_id=parent.pk)
    assert thread.pk == again.pk and thread.type == Thread.Type.MESSAGE
    with pytest.raises(PermissionDenied):
        message_services.open_reply_thread(actor=Actor.for_user(alex), message_id=parent.pk)
    reply = message_services.send_thread_message(
        actor=Actor.for_user(john), thread_id=thread.pk, body="answer"
    )
    with pytest.raises(InvalidInput):
        message_services.open_reply_thread(actor=Actor.for_user(jane), message_id=reply.pk)
    parent.refresh_from_db()
    assert parent.replies_count == 1
