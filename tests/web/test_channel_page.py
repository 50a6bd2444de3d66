"""The channel page and its forms: history, posting, join, leave, add, delete, and bad input."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser, Membership, Message, ReadReceipt
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.web.views import GONE, HISTORY_PAGE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site")]


def make_channel(user: ChatUser, name: str = "room", kind: str = "PUBLIC") -> Channel:
    channel, _ = channel_services.create_channel(actor=Actor.for_user(user), type=kind, name=name)
    return channel


def join(user: ChatUser, channel: Channel) -> None:
    channel_services.join_channel(actor=Actor.for_user(user), channel_id=channel.pk)


def say(user: ChatUser, channel: Channel, body: str, **extra: Any) -> Message:
    return message_services.send_message(
        actor=Actor.for_user(user), channel_id=channel.pk, body=body, **extra
    )


def flashes(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- viewing ------------------------------------------------------------------------------------


def test_viewing_shows_history_and_marks_the_channel_read(
    ann: ChatUser, bob: ChatUser, ann_client: Client
) -> None:
    channel = make_channel(ann)
    join(bob, channel)
    say(bob, channel, "first")
    say(bob, channel, "second")
    assert ann_client.get("/").context["total_unread"] == 2
    response = ann_client.get(f"/channels/{channel.pk}")
    assert response.status_code == 200
    assert [m.body for m in response.context["window"]] == ["first", "second"]
    assert ReadReceipt.objects.get(user=ann, channel=channel).last_read_sequence == 2
    assert response.context["total_unread"] == 0
    assert b'data-last-sequence="2"' in response.content


def test_history_loads_older_messages_by_sequence_cursor(ann: ChatUser, ann_client: Client) -> None:
    channel = make_channel(ann)
    for index in range(HISTORY_PAGE + 5):
        say(ann, channel, f"m{index}")
    latest = ann_client.get(f"/channels/{channel.pk}")
    window = latest.context["window"]
    assert len(window) == HISTORY_PAGE
    assert window[-1].body == f"m{HISTORY_PAGE + 4}"
    cursor = latest.context["older_cursor"]
    assert cursor == window[0].sequence
    assert f'href="?before={cursor}"'.encode() in latest.content
    older = ann_client.get(f"/channels/{channel.pk}?before={cursor}")
    assert [m.body for m in older.context["window"]] == [f"m{i}" for i in range(5)]
    assert older.context["has_older"] is False
    assert b"Jump to the latest messages" in older.content
    data = ann_client.get(f"/channels/{channel.pk}/history?before={cursor}").json()
    assert [m["body"] for m in data["messages"]] == [f"m{i}" for i in range(5)]
    assert data["before"] is None
    assert ann_client.get(f"/channels/{channel.pk}?before=abc").status_code == 200


def test_the_channel_page_takes_a_fixed_number_of_queries(
    ann: ChatUser,
    make_account: Callable[..., ChatUser],
    ann_client: Client,
    django_assert_max_num_queries: Any,
) -> None:
    channel = make_channel(ann)
    for index in range(5):
        person = make_account(f"person{index}")
        join(person, channel)
        say(person, channel, f"hello {index}")
    with django_assert_max_num_queries(14):
        response = ann_client.get(f"/channels/{channel.pk}")
    assert len(response.context["window"]) == 5
    assert len(response.context["memberships"]) == 6


@pytest.mark.parametrize(
    "path", ["/channels/{id}", "/channels/{id}/history", "/channels/{id}/delete"]
)
def test_another_persons_private_channel_is_not_found(
    ann: ChatUser, bob_client: Client, path: str
) -> None:
    channel = make_channel(ann, kind="PRIVATE")
    say(ann, channel, "secret words")
    response = bob_client.get(path.format(id=channel.pk))
    assert response.status_code == 404
    assert b"secret words" not in response.content


def test_missing_and_other_application_ids_read_the_same(
    other_application: Application, make_account: Callable[..., ChatUser], ann_client: Client
) -> None:
    stranger = make_account("stranger", app=other_application)
    elsewhere = make_channel(stranger, kind="PUBLIC")
    for channel_id in (elsewhere.pk, 987654, 10**20):
        response = ann_client.get(f"/channels/{channel_id}")
        assert response.status_code == 404
        assert b"does not exist, or you cannot see it" in response.content


def test_a_public_channel_can_be_read_before_joining(ann: ChatUser, bob_client: Client) -> None:
    channel = make_channel(ann)
    say(ann, channel, "welcome")
    response = bob_client.get(f"/channels/{channel.pk}")
    assert response.status_code == 200
    assert response.context["can_join"] is True
    assert response.context["can_post"] is False
    assert b'id="join-button"' in response.content
    assert b'id="composer"' not in response.content


def test_script_in_bodies_and_properties_is_never_markup(ann: ChatUser, ann_client: Client) -> None:
    channel = make_channel(ann)
    say(
        ann,
        channel,
        "<script>alert(1)</script>\n<img src=x onerror=alert(2)>",
        properties={"html": "<script>alert(3)</script>"},
    )
    message_services.send_message(
        actor=Actor.for_user(ann),
        channel_id=channel.pk,
        file={
            "url": "javascript:alert(4)",
            "name": "<b>evil</b>.txt",
            "contentType": "text/plain",
            "size": 1,
        },
    )
    content = ann_client.get(f"/channels/{channel.pk}").content
    assert b"<script>alert" not in content
    assert b"<img src=x" not in content
    assert b"javascript:" not in content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;<br>&lt;img src=x" in content
    assert b"&lt;b&gt;evil&lt;/b&gt;.txt" in content


# --- posting ------------------------------------------------------------------------------------


def test_posting_a_message_redirects_back_to_the_composer(
    ann: ChatUser, ann_client: Client
) -> None:
    channel = make_channel(ann)
    response = ann_client.post(
        f"/channels/{channel.pk}/messages", {"body": "  hi\nthere ", "idempotency_key": "k1"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/channels/{channel.pk}#composer"
    assert Message.objects.get(channel=channel).body == "  hi\nthere "


def test_a_double_submit_stores_the_message_once(ann: ChatUser, ann_client: Client) -> None:
    channel = make_channel(ann)
    for _ in range(2):
        ann_client.post(
            f"/channels/{channel.pk}/messages", {"body": "once", "idempotency_key": "abc"}
        )
    assert Message.objects.filter(channel=channel).count() == 1


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("", "Write a message first."),
        ("   \n ", "Write a message first."),
        ("x" * 10_001, "at most 10000 characters"),
    ],
)
def test_bad_messages_show_an_error_by_the_composer(
    ann: ChatUser, ann_client: Client, body: str, text: str
) -> None:
    channel = make_channel(ann)
    response = ann_client.post(f"/channels/{channel.pk}/messages", {"body": body})
    assert response.status_code == 400
    assert any(text in error for error in response.context["message_form"].errors["body"])
    assert not Message.objects.exists()


def test_a_non_member_posting_gets_a_clear_error(ann: ChatUser, bob_client: Client) -> None:
    channel = make_channel(ann)
    response = bob_client.post(f"/channels/{channel.pk}/messages", {"body": "let me in"})
    assert response.status_code == 400
    assert b"Only members of this channel may send messages." in response.content
    assert not Message.objects.exists()


def test_posting_to_a_deleted_channel_says_it_is_gone(ann: ChatUser, ann_client: Client) -> None:
    channel = make_channel(ann)
    channel_services.delete_channel(actor=Actor.for_user(ann), channel_id=channel.pk)
    response = ann_client.post(f"/channels/{channel.pk}/messages", {"body": "hello?"}, follow=True)
    assert response.status_code == 200
    assert flashes(response) == [GONE]


def test_posting_to_another_persons_private_channel_reveals_nothing(
    ann: ChatUser, bob_client: Client
) -> None:
    channel = make_channel(ann, kind="PRIVATE")
    response = bob_client.post(f"/channels/{channel.pk}/messages", {"body": "x"}, follow=True)
    assert flashes(response) == [GONE]
    assert not Message.objects.exists()


def test_a_frozen_channel_refuses_messages_clearly(ann: ChatUser, ann_client: Client) -> None:
    channel = make_channel(ann)
    Channel.objects.filter(pk=channel.pk).update(frozen=True)
    assert b"This channel is frozen" in ann_client.get(f"/channels/{channel.pk}").content
    response = ann_client.post(f"/channels/{channel.pk}/messages", {"body": "x"})
    assert response.status_code == 400
    assert b"frozen" in response.content


# --- membership ---------------------------------------------------------------------------------


def test_join_then_leave_a_public_channel(ann: ChatUser, bob: ChatUser, bob_client: Client) -> None:
    channel = make_channel(ann)
    joined = bob_client.post(f"/channels/{channel.pk}/join", follow=True)
    assert flashes(joined) == ["You joined room."]
    assert Membership.objects.filter(channel=channel, user=bob).exists()
    again = bob_client.post(f"/channels/{channel.pk}/join", follow=True)
    assert again.status_code == 200
    left = bob_client.post(f"/channels/{channel.pk}/leave", follow=True)
    assert flashes(left) == ["You left room."]
    assert not Membership.objects.filter(channel=channel, user=bob).exists()
    stale = bob_client.post(f"/channels/{channel.pk}/leave", follow=True)
    assert flashes(stale) == ["Only members of this channel may do this."]


def test_a_private_channel_cannot_be_joined_by_id(ann: ChatUser, bob_client: Client) -> None:
    channel = make_channel(ann, kind="PRIVATE")
    response = bob_client.post(f"/channels/{channel.pk}/join", follow=True)
    assert flashes(response) == [GONE]


def test_a_member_adds_someone_to_a_private_channel(
    ann: ChatUser, bob: ChatUser, ann_client: Client, bob_client: Client
) -> None:
    channel = make_channel(ann, kind="PRIVATE")
    assert bob_client.get(f"/channels/{channel.pk}").status_code == 404
    response = ann_client.post(f"/channels/{channel.pk}/members", {"username": "bob"}, follow=True)
    assert flashes(response) == ["Added Bob."]
    assert bob_client.get(f"/channels/{channel.pk}").status_code == 200
    again = ann_client.post(f"/channels/{channel.pk}/members", {"username": "bob"}, follow=True)
    assert flashes(again) == ["Bob is already a member."]


@pytest.mark.parametrize(
    ("username", "text"), [("nobody", b"User nobody not found."), ("", b"required")]
)
def test_adding_an_unknown_person_shows_the_error_by_the_field(
    ann: ChatUser, ann_client: Client, username: str, text: bytes
) -> None:
    channel = make_channel(ann, kind="PRIVATE")
    response = ann_client.post(f"/channels/{channel.pk}/members", {"username": username})
    assert response.status_code == 400
    assert text in response.content
    assert response.context["member_form"].errors["username"]


def test_direct_channels_have_no_leave_or_add(
    ann: ChatUser, bob: ChatUser, ann_client: Client
) -> None:
    channel, _ = channel_services.create_channel(
        actor=Actor.for_user(ann), type="DIRECT", members=[bob]
    )
    response = ann_client.get(f"/channels/{channel.pk}")
    assert response.context["title"] == "Bob"
    assert not response.context["can_leave"]
    assert not response.context["can_add"]
    left = ann_client.post(f"/channels/{channel.pk}/leave", follow=True)
    assert flashes(left) == ["Members cannot leave a DIRECT channel."]


# --- delete -------------------------------------------------------------------------------------


def test_the_creator_deletes_after_confirming(ann: ChatUser, ann_client: Client) -> None:
    channel = make_channel(ann)
    confirm = ann_client.get(f"/channels/{channel.pk}/delete")
    assert confirm.status_code == 200
    assert b"cannot be undone" in confirm.content
    response = ann_client.post(f"/channels/{channel.pk}/delete", follow=True)
    assert flashes(response) == ["The channel is deleted."]
    assert not Channel.objects.filter(pk=channel.pk).exists()
    stale = ann_client.post(f"/channels/{channel.pk}/delete", follow=True)
    assert flashes(stale) == [GONE]


def test_a_plain_member_may_not_delete(ann: ChatUser, bob: ChatUser, bob_client: Client) -> None:
    channel = make_channel(ann)
    join(bob, channel)
    assert bob_client.get(f"/channels/{channel.pk}").context["can_delete"] is False
    response = bob_client.post(f"/channels/{channel.pk}/delete", follow=True)
    assert flashes(response) == ["Only the channel's creator or a moderator may do this."]
    assert Channel.objects.filter(pk=channel.pk).exists()


@pytest.mark.parametrize("action", ["messages", "join", "leave", "members", "delete"])
def test_every_form_needs_a_csrf_token(
    ann: ChatUser, browser_for: Callable[[ChatUser], Client], action: str
) -> None:
    channel = make_channel(ann)
    client = browser_for(ann)
    client.handler.enforce_csrf_checks = True
    response = client.post(f"/channels/{channel.pk}/{action}", {"body": "x", "username": "ann"})
    assert response.status_code == 403
    assert Channel.objects.filter(pk=channel.pk).exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize("action", ["messages", "join", "leave", "members"])
def test_forms_refuse_get(ann: ChatUser, ann_client: Client, action: str) -> None:
    channel = make_channel(ann)
    assert ann_client.get(f"/channels/{channel.pk}/{action}").status_code == 405
