from typing import Any

import pytest

from channels_app import events
from channels_app.actors import Actor
from channels_app.exceptions import Conflict, InvalidInput, PermissionDenied
from channels_app.models import Channel, ChatUser, Membership, ReadReceipt
from channels_app.services import channels as channel_services


def test_creator_is_a_moderating_member_of_a_public_channel(
    app_actor: Actor, jane: ChatUser, published: Any
) -> None:
    with published() as capture:
        channel, created = channel_services.create_channel(
            actor=app_actor, type="PUBLIC", name="general", creator=jane
        )
    assert created
    membership = Membership.objects.get(channel=channel, user=jane)
    assert membership.role == Membership.Role.MODERATOR
    assert capture.names == ["channel.created"]
    event = capture.of(events.ChannelCreated)[0]
    assert event.user_ids == (jane.pk,)
    assert event.channel["name"] == "general"


def test_duplicate_public_name_is_a_conflict_and_publishes_nothing(
    app_actor: Actor, published: Any
) -> None:
    channel_services.create_channel(actor=app_actor, type="PUBLIC", name="general")
    with published() as capture, pytest.raises(Conflict):
        channel_services.create_channel(actor=app_actor, type="PRIVATE", name="general")
    assert capture.events == []
    assert Channel.objects.count() == 1


def test_direct_channel_exists_once_per_member_set(
    app_actor: Actor, jane: ChatUser, john: ChatUser
) -> None:
    first, created = channel_services.create_channel(
        actor=app_actor, type="DIRECT", members=[jane, john]
    )
    again, created_again = channel_services.create_channel(
        actor=app_actor, type="DIRECT", members=[john, jane]
    )
    assert created and not created_again
    assert first.pk == again.pk


def test_direct_channel_rejects_an_eleventh_member(
    app_actor: Actor, application: Any, make_user: Any
) -> None:
    users = [make_user(application) for _ in range(11)]
    with pytest.raises(InvalidInput):
        channel_services.create_channel(actor=app_actor, type="DIRECT", members=users)
    channel_services.create_channel(actor=app_actor, type="DIRECT", members=users[:10])


def test_direct_channel_needs_two_members(app_actor: Actor, jane: ChatUser) -> None:
    with pytest.raises(InvalidInput):
        channel_services.create_channel(actor=app_actor, type="DIRECT", members=[jane])


def test_direct_channel_takes_no_new_members(
    app_actor: Actor, jane: ChatUser, john: ChatUser, alex: ChatUser
) -> None:
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="DIRECT", members=[jane, john]
    )
    with pytest.raises(InvalidInput):
        channel_services.add_member(actor=app_actor, channel_id=channel.pk, user=alex)


def test_only_a_member_adds_members_to_a_private_channel(
    app_actor: Actor, jane: ChatUser, john: ChatUser, alex: ChatUser, published: Any
) -> None:
    channel, _ = channel_services.create_channel(
        actor=Actor.for_user(jane), type="PRIVATE", name="secret"
    )
    with pytest.raises(Exception) as error:
        channel_services.add_member(actor=Actor.for_user(john), channel_id=channel.pk, user=alex)
    assert error.value.__class__.__name__ == "NotFound"  # invisible to a non-member
    with published() as capture:
        channel_services.add_member(actor=Actor.for_user(jane), channel_id=channel.pk, user=alex)
    assert capture.names == ["member.joined", "channel.joined"]
    assert ReadReceipt.objects.filter(channel=channel, user=alex).exists()


def test_private_channel_cannot_be_joined(app_actor: Actor, jane: ChatUser) -> None:
    channel, _ = channel_services.create_channel(actor=app_actor, type="PRIVATE", name="p")
    with pytest.raises(Exception) as error:
        channel_services.join_channel(actor=Actor.for_user(jane), channel_id=channel.pk)
    assert error.value.__class__.__name__ == "NotFound"


def test_joining_a_public_channel_publishes_joined(
    app_actor: Actor, jane: ChatUser, published: Any
) -> None:
    channel, _ = channel_services.create_channel(actor=app_actor, type="PUBLIC", name="p")
    with published() as capture:
        channel_services.join_channel(actor=Actor.for_user(jane), channel_id=channel.pk)
    assert capture.names == ["member.joined", "channel.joined"]
    # Joining again changes nothing and says nothing.
    with published() as capture:
        channel_services.join_channel(actor=Actor.for_user(jane), channel_id=channel.pk)
    assert capture.events == []


def test_only_creator_or_moderator_deletes(
    app_actor: Actor, jane: ChatUser, john: ChatUser, published: Any
) -> None:
    channel, _ = channel_services.create_channel(
        actor=Actor.for_user(jane), type="PUBLIC", name="p"
    )
    channel_services.join_channel(actor=Actor.for_user(john), channel_id=channel.pk)
    with pytest.raises(PermissionDenied):
        channel_services.delete_channel(actor=Actor.for_user(john), channel_id=channel.pk)
    with published() as capture:
        channel_services.delete_channel(actor=Actor.for_user(jane), channel_id=channel.pk)
    assert capture.names == ["channel.deleted"]
    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert not Membership.objects.filter(channel_id=channel.pk).exists()


def channel_counter(application: Any) -> int:
    from channels_app.models import ApplicationCounters

    return ApplicationCounters.objects.get(pk=application.pk).channels


def test_the_channel_counter_follows_creates_and_deletes(
    app_actor: Actor, application: Any, jane: ChatUser, john: ChatUser
) -> None:
    assert channel_counter(application) == 0
    public, _ = channel_services.create_channel(actor=app_actor, type="PUBLIC", name="general")
    channel_services.create_channel(actor=app_actor, type="PRIVATE", name="staff")
    channel_services.create_channel(actor=app_actor, type="DIRECT", members=[jane, john])
    assert channel_counter(application) == 3
    # Neither a DIRECT channel found again nor a refused duplicate name adds one.
    channel_services.create_channel(actor=app_actor, type="DIRECT", members=[john, jane])
    with pytest.raises(Conflict):
        channel_services.create_channel(actor=app_actor, type="PUBLIC", name="general")
    assert channel_counter(application) == 3
    channel_services.delete_channel(actor=app_actor, channel_id=public.pk)
    assert channel_counter(application) == 2
    assert channel_counter(application) == Channel.objects.filter(application=application).count()


def test_the_channel_counter_is_per_application(
    app_actor: Actor, application: Any, other_application: Any
) -> None:
    other = Actor.for_application(other_application)
    channel_services.create_channel(actor=app_actor, type="PUBLIC", name="general")
    channel_services.create_channel(actor=other, type="PUBLIC", name="general")
    channel_services.create_channel(actor=other, type="PUBLIC", name="random")
    assert (channel_counter(application), channel_counter(other_application)) == (1, 2)


def test_a_refused_delete_leaves_the_counter(
    app_actor: Actor, application: Any, jane: ChatUser, john: ChatUser
) -> None:
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="general", creator=jane
    )
    channel_services.add_member(actor=app_actor, channel_id=channel.pk, user=john)
    with pytest.raises(PermissionDenied):
        channel_services.delete_channel(actor=Actor.for_user(john), channel_id=channel.pk)
    assert channel_counter(application) == 1
