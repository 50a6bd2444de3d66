"""Cross-site websocket hijacking and CSRF.

- `/ws/v1/chat` and `/rtm/websocket` refuse a wrong or `null` Origin; a cookie session without an
  Origin is refused too (browsers always send one; a page on another site must not ride the
  cookie). Token clients without an Origin (servers, Node) are accepted.
- Every URL pattern is enumerated; each one that changes state under a cookie session (web
  forms, sign-out, the admin) refuses a POST without a CSRF token (Django test client with
  `enforce_csrf_checks=True`) and writes nothing; the same POST with the token goes through, so
  the refusal is CSRF's. The Platform API takes no cookies at all: a signed-in browser's POST to
  any `/v1` route is 401.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from channels_app.actors import Actor
from channels_app.models import (
    AuditLogEntry,
    Channel,
    ChannelInvite,
    ChatUser,
    Membership,
    Message,
    UserAccessToken,
)
from channels_app.realtime.routing import websocket_application
from channels_app.services import moderation
from tests.conftest import user_token
from tests.security.conftest import World

db = database_sync_to_async
GOOD_ORIGIN = "http://testserver"
BAD_ORIGINS = ["https://evil.example", "null", "http://testserver.evil.example", "file://"]


# --- websockets -----------------------------------------------------------------------------------


async def handshake(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[bool, int | None]:
    """(accepted for chatting, close code): a refused socket is closed before or right after
    its accept, with an error frame first."""
    communicator = WebsocketCommunicator(websocket_application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    if not connected:
        return False, code
    first = await communicator.receive_output(timeout=5)
    if first["type"] == "websocket.close":
        return False, first.get("code")
    frame = json.loads(first["text"])
    if frame.get("type") == "error":
        closing = await communicator.receive_output(timeout=5)
        assert closing["type"] == "websocket.close"
        await communicator.disconnect()
        return False, closing.get("code")
    await communicator.disconnect()
    return frame.get("type") == "session.started", None


def session_cookie(user: ChatUser) -> str:
    client = Client()
    assert user.account is not None
    client.force_login(user.account)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.mark.django_db(transaction=True)
async def test_chat_socket_refuses_foreign_and_null_origins(world: World) -> None:
    token = await db(user_token)(world.outsider)
    cookie = await db(session_cookie)(world.outsider)
    path = f"/ws/v1/chat?token={token}"
    refused = []
    for origin in BAD_ORIGINS:
        refused.append(await handshake(path, [(b"origin", origin.encode())]))
        refused.append(
            await handshake(
                "/ws/v1/chat", [(b"origin", origin.encode()), (b"cookie", cookie.encode())]
            )
        )
    assert refused == [(False, 4403)] * len(refused)
    # A cookie session needs an Origin.
    assert await handshake("/ws/v1/chat", [(b"cookie", cookie.encode())]) == (False, 4403)
    # Controls: the site's own origin with the cookie, and a token client without an Origin.
    assert await handshake(
        "/ws/v1/chat", [(b"origin", GOOD_ORIGIN.encode()), (b"cookie", cookie.encode())]
    ) == (True, None)
    assert await handshake(path, []) == (True, None)


async def stomp_handshake(api_key: str, origin: str | None) -> tuple[bool, int | None]:
    headers = [(b"origin", origin.encode())] if origin is not None else []
    communicator = WebsocketCommunicator(
        websocket_application,
        f"/rtm/websocket?api-key={api_key}",
        headers=headers,
        subprotocols=["v12.stomp"],
    )
    connected, code = await communicator.connect(timeout=5)
    if connected:
        await communicator.disconnect()
    return connected, code


@pytest.mark.django_db(transaction=True)
async def test_stomp_socket_refuses_foreign_and_null_origins(world: World) -> None:
    api_key = world.application.api_key
    results = [await stomp_handshake(api_key, origin) for origin in BAD_ORIGINS]
    assert results == [(False, 4403)] * len(BAD_ORIGINS)
    assert (await stomp_handshake(api_key, GOOD_ORIGIN))[0] is True
    assert (await stomp_handshake(api_key, None))[0] is True  # the SDK under Node sends none


# --- CSRF -----------------------------------------------------------------------------------------


def all_patterns(
    resolver: URLResolver | None = None, prefix: str = ""
) -> Iterator[tuple[str, Any]]:
    """(route, pattern) of every URL pattern of the project, admin included."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from all_patterns(entry, route)
        else:
            assert isinstance(entry, URLPattern)
            yield route, entry


def snapshot() -> dict[str, int]:
    models = (Channel, Membership, Message, ChatUser, ChannelInvite, UserAccessToken, AuditLogEntry)
    state = {model.__name__: model.objects.count() for model in models}
    state["edited"] = Message.objects.exclude(last_edited_time=None).count()
    state["users"] = get_user_model().objects.count()
    state["inactive"] = ChatUser.objects.filter(is_active=False).count()
    return state


@pytest.fixture
def operator(world: World) -> Any:
    root = get_user_model().objects.create_user(
        username="root", password="secret-password-1", is_staff=True, is_superuser=True
    )
    moderation.set_operators(
        actor=Actor.for_operator(world.application, root), operator_ids=[root.pk]
    )
    return root


def admin_urls(world: World) -> list[str]:
    """Every admin page that takes a POST: each model's add, change, delete and changelist
    (actions), with a row of that model when there is one; the site's own forms."""
    urls = ["/admin/logout/", "/admin/password_change/"]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        urls += [base, f"{base}add/"]
        row = model_admin.get_queryset(_superuser_request()).order_by("pk").first()
        if row is not None:
            urls += [f"{base}{row.pk}/change/", f"{base}{row.pk}/delete/"]
    return urls


def _superuser_request() -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.filter(is_superuser=True).first()  # type: ignore[assignment]
    return request


def web_urls(world: World) -> list[str]:
    """Every web route, its ids filled with a channel the signed-in user belongs to."""
    urls = []
    for route, _pattern in all_patterns():
        if route.startswith(("admin/", "v1/", "oauth/")):
            continue
        urls.append("/" + route.replace("<int:channel_id>", str(world.lobby.pk)))
    return urls


def post_without_token(client: Client, url: str) -> Any:
    return client.post(
        url,
        {
            "body": "csrf",
            "name": "csrf",
            "username": "mira",
            "type": "PUBLIC",
            "action": "delete_selected",
            "_selected_action": "1",
        },
    )


def test_every_state_changing_web_and_admin_route_requires_csrf(
    world: World, operator: Any
) -> None:
    web = Client(enforce_csrf_checks=True)
    assert world.owner.account is not None
    web.force_login(world.owner.account)
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(operator)
    checked = []
    for client, urls in ((web, web_urls(world)), (staff, admin_urls(world))):
        for url in urls:
            before = snapshot()
            response = post_without_token(client, url)
            if response.status_code == 405:  # GET-only pages change nothing
                continue
            assert response.status_code == 403, (url, response.status_code)
            assert b"CSRF" in response.content, url
            assert snapshot() == before, url
            checked.append(url)
    print(f"CSRF: {len(checked)} state-changing routes refuse a POST without a token")
    assert len(checked) > 40
    assert {
        "/login",
        "/logout",
        "/signup",
        "/channels/new",
        f"/channels/{world.lobby.pk}/messages",
    } <= set(checked)


def test_the_same_posts_with_the_token_go_through(world: World, operator: Any) -> None:
    """The control: with the CSRF token, the form and the admin act (so the 403s above are
    CSRF's, not a permission refusal)."""
    web = Client(enforce_csrf_checks=True)
    assert world.owner.account is not None
    web.force_login(world.owner.account)
    web.get("/channels/new")
    token = web.cookies["csrftoken"].value
    response = web.post(
        f"/channels/{world.lobby.pk}/messages", {"body": "with token", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Message.objects.filter(body="with token").exists()
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(operator)
    staff.get("/admin/")
    response = staff.post(
        "/admin/logout/", {"csrfmiddlewaretoken": staff.cookies["csrftoken"].value}
    )
    assert response.status_code in (200, 302)
    assert staff.get("/admin/").status_code == 302  # signed out


def test_the_api_ignores_session_cookies_on_every_route(world: World) -> None:
    """The Platform API authenticates bearer tokens only: a browser's cookie gets 401 on every
    route and method, so no cross-site form can use it."""
    browser = Client(enforce_csrf_checks=True)
    assert world.owner.account is not None
    browser.force_login(world.owner.account)
    checked = 0
    for route, pattern in all_patterns():
        if not route.startswith("v1/") or not getattr(pattern.callback, "actions", None):
            continue
        path = "/" + route.replace("<str:", "{").replace(">", "}")
        path = path.format(
            id=world.lobby.pk, user_id=world.owner.pk, app_id=world.application.pk, name="x"
        )
        for method in list(pattern.callback.actions):
            before = snapshot()
            call = getattr(browser, method)
            if method in ("get", "head"):
                response = call(path)
            else:
                response = call(path, "{}", content_type="application/json")
            assert response.status_code == 401, (method, path, response.status_code)
            assert snapshot() == before
            checked += 1
    assert checked > 50


def test_the_token_endpoint_does_not_use_the_session(world: World) -> None:
    """`/oauth/token` is exempt from CSRF by design (client credentials in HTTP Basic, no cookie):
    a signed-in browser without the client secret gets nothing."""
    browser = Client(enforce_csrf_checks=True)
    assert world.owner.account is not None
    browser.force_login(world.owner.account)
    response = browser.post("/oauth/token", {"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert "access_token" not in response.json()
