from typing import Any

from channels_app.actors import Actor
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services


def test_replies_through_the_api(app_client: Any, app_actor: Actor, jane: Any) -> None:
    channel, _ = channel_services.create_channel(
        actor=app_actor, type="PUBLIC", name="replies", creator=jane
    )
    parent = message_services.send_message(actor=app_actor, channel_id=channel.pk, body="q")
    opened = app_client.post(f"/v1/messages/{parent.pk}/thread")
    assert opened.status_code == 200, opened.content
    thread = opened.json()
    assert thread["type"] == "MESSAGE" and thread["parentMessageId"] == parent.pk
    sent = app_client.post(
        f"/v1/threads/{thread['id']}/messages",
        {"type": "TEXT", "body": "a", "user": {"username": "jane"}},
        format="json",
    )
    assert sent.status_code == 200, sent.content
    assert sent.json()["nestedLevel"] == 1
    listed = app_client.get(f"/v1/threads/{thread['id']}/messages").json()
    assert [m["body"] for m in listed["_embedded"]["messages"]] == ["a"]
    top = app_client.get(f"/v1/channels/{channel.pk}/messages").json()["_embedded"]["messages"]
    # The channel's list holds every message of the channel (replies carry nestedLevel/threadId).
    by_id = {m["id"]: m for m in top}
    assert by_id[parent.pk]["repliesCount"] == 1
    assert by_id[sent.json()["id"]]["threadId"] == thread["id"]
    assert app_client.post("/v1/messages/999999/thread").status_code == 404
