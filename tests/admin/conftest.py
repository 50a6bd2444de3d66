"""Two applications with a row of every model each, and the five kinds of admin viewer."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from channels_app.actors import Actor
from channels_app.models import (
    Application,
    AuditLogEntry,
    Channel,
    ChannelBan,
    ChannelInvite,
    ChatSession,
    ChatUser,
    Membership,
    Message,
    MessageReport,
    Notification,
    ReadReceipt,
    Thread,
    UserAccessToken,
)
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import moderation
from tests.conftest import user_token

ROLES = ["superuser", "operator_a", "operator_b", "staff_without_application", "not_staff"]


@dataclass
class Tenant:
    """One application's rows, one of each model."""

    application: Application
    owner: ChatUser
    member: ChatUser
    outsider: ChatUser
    channel: Channel
    message: Message
    report: MessageReport
    rows: dict[type, Any]


def build_tenant(application: Application, make_user: Callable[..., ChatUser], tag: str) -> Tenant:
    actor = Actor.for_application(application)
    owner = make_user(application, f"{tag}-owner")
    member = make_user(application, f"{tag}-member")
    outsider = make_user(application, f"{tag}-outsider")
    channel, _ = channel_services.create_channel(
        actor=actor, type="PUBLIC", name=f"{tag}-general", creator=owner, members=[member]
    )
    message = message_services.send_message(
        actor=Actor.for_user(member), channel_id=channel.pk, body=f"{tag} hello"
    )
    report = moderation.report_message(
        actor=Actor.for_user(owner), message_id=message.pk, reason="spam"
    )
    ban = moderation.ban_user(actor=actor, channel_id=channel.pk, user=outsider, reason="troll")
    invited = make_user(application, f"{tag}-invited")
    invite = ChannelInvite.objects.create(channel=channel, user=invited)
    user_token(member)
    now = timezone.now()
    rows: dict[type, Any] = {
        Application: application,
        ChatUser: member,
        Channel: channel,
        Membership: Membership.objects.get(channel=channel, user=member),
        Message: message,
        ReadReceipt: ReadReceipt.objects.get(channel=channel, user=member),
        Notification: Notification.objects.create(
            application=application, user=member, channel=channel, title="t", body="b"
        ),
        ChatSession: ChatSession.objects.create(
            application=application, user=member, last_seen_time=now
        ),
        MessageReport: report,
        AuditLogEntry: AuditLogEntry.objects.filter(application=application).latest("id"),
        ChannelBan: ban,
        ChannelInvite: invite,
        Thread: Thread.objects.create(channel=channel, type=Thread.Type.MAIN),
        UserAccessToken: UserAccessToken.objects.filter(user=member).latest("id"),
    }
    return Tenant(application, owner, member, outsider, channel, message, report, rows)


@pytest.fixture
def tenant_a(application: Application, make_user: Callable[..., ChatUser]) -> Tenant:
    return build_tenant(application, make_user, "a")


@pytest.fixture
def tenant_b(other_application: Application, make_user: Callable[..., ChatUser]) -> Tenant:
    return build_tenant(other_application, make_user, "b")


def make_account(username: str, **flags: Any) -> User:
    account: User = get_user_model().objects.create_user(
        username=username, password="secret-password-1", **flags
    )
    return account


@pytest.fixture
def accounts(application: Application, other_application: Application) -> dict[str, User]:
    result = {
        "superuser": make_account("root", is_staff=True, is_superuser=True),
        "operator_a": make_account("op-a", is_staff=True),
        "operator_b": make_account("op-b", is_staff=True),
        "staff_without_application": make_account("staff", is_staff=True),
        "not_staff": make_account("someone"),
    }
    root = result["superuser"]
    moderation.set_operators(
        actor=Actor.for_operator(application, root), operator_ids=[result["operator_a"].pk]
    )
    moderation.set_operators(
        actor=Actor.for_operator(other_application, root), operator_ids=[result["operator_b"].pk]
    )
    return result


@pytest.fixture
def login(accounts: dict[str, User]) -> Callable[[str], Client]:
    def make(role: str) -> Client:
        client = Client()
        client.force_login(accounts[role])
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()
