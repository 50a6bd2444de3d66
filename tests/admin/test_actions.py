"""Each moderation action of the admin calls its service, publishes its events and is audited."""

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from channels_app import events
from channels_app.actors import Actor
from channels_app.exceptions import ChannelFrozen, PermissionDenied
from channels_app.models import (
    Application,
    AuditLogEntry,
    Channel,
    ChannelBan,
    ChatUser,
    Membership,
    Message,
    MessageReport,
    UserAccessToken,
)
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import moderation

from .conftest import Tenant

pytestmark = pytest.mark.django_db


def changelist(model: type[Model]) -> str:
    return reverse(f"admin:channels_app_{model._meta.model_name}_changelist")


def act(
    client: Client, model: type[Model], action: str, rows: list[Model], reason: str = ""
) -> Any:
    return client.post(
        changelist(model),
        {"action": action, "_selected_action": [row.pk for row in rows], "reason": reason},
        follow=True,
    )


def audit(application: Application, action: str) -> AuditLogEntry:
    entry = AuditLogEntry.objects.filter(application=application, action=action).latest("id")
    assert entry.actor_label == "operator:op-a"
    return entry


def oauth_token(application: Application, secret: str) -> Any:
    assert application.oauth_client is not None
    basic = base64.b64encode(f"{application.oauth_client.client_id}:{secret}".encode()).decode()
    return Client().post(
        "/oauth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )


@pytest.fixture
def operator(login: Callable[[str], Client]) -> Client:
    return login("operator_a")


def test_delete_messages(operator: Client, tenant_a: Tenant, published: Any) -> None:
    second = message_services.send_message(
        actor=Actor.for_user(tenant_a.owner), channel_id=tenant_a.channel.pk, body="two"
    )
    with published() as capture:
        response = act(operator, Message, "delete_messages", [tenant_a.message, second], "spam")
    assert "Deleted 2 message(s)." in response.content.decode()
    assert not Message.objects.filter(pk__in=[tenant_a.message.pk, second.pk]).exists()
    deleted = capture.of(events.MessageDeleted)
    assert {event.message_id for event in deleted} == {tenant_a.message.pk, second.pk}
    entries = AuditLogEntry.objects.filter(
        application=tenant_a.application, action="delete_message"
    )
    assert {entry.target_ids[0] for entry in entries} == {tenant_a.message.pk, second.pk}
    assert {entry.reason for entry in entries} == {"spam"}
    tenant_a.report.refresh_from_db()
    assert tenant_a.report.status == MessageReport.Status.ACTIONED


def test_remove_members(operator: Client, tenant_a: Tenant, published: Any) -> None:
    membership = tenant_a.rows[Membership]
    with published() as capture:
        act(operator, Membership, "remove", [membership], "off-topic")
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert capture.names.count("member.left") == 1 and "channel.left" in capture.names
    entry = audit(tenant_a.application, "remove_member")
    assert entry.target_ids == [tenant_a.member.pk] and entry.reason == "off-topic"
    assert entry.details == {"channelId": tenant_a.channel.pk}


def test_promote_and_demote(operator: Client, tenant_a: Tenant, published: Any) -> None:
    membership = tenant_a.rows[Membership]
    with published() as capture:
        act(operator, Membership, "promote", [membership])
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MODERATOR
    assert capture.of(events.MemberRoleChanged)[0].role == "MODERATOR"
    assert audit(tenant_a.application, "promote_moderator").target_ids == [tenant_a.member.pk]
    with published() as capture:
        act(operator, Membership, "demote", [membership], "inactive")
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MEMBER
    assert capture.of(events.MemberRoleChanged)[0].role == "MEMBER"
    assert audit(tenant_a.application, "demote_moderator").reason == "inactive"


def test_ban_removes_the_member_who_then_cannot_rejoin_or_be_added(
    operator: Client, tenant_a: Tenant, published: Any
) -> None:
    membership = tenant_a.rows[Membership]
    with published() as capture:
        act(operator, Membership, "ban", [membership], "abuse")
    assert ChannelBan.objects.filter(channel=tenant_a.channel, user=tenant_a.member).exists()
    assert not Membership.objects.filter(pk=membership.pk).exists()
    left = capture.of(events.MemberLeft)
    assert left and left[0].removed
    entry = audit(tenant_a.application, "ban_user")
    assert entry.target_ids == [tenant_a.member.pk] and entry.reason == "abuse"
    with pytest.raises(PermissionDenied):
        channel_services.join_channel(
            actor=Actor.for_user(tenant_a.member), channel_id=tenant_a.channel.pk
        )
    response = operator.post(
        reverse("admin:channels_app_membership_add"),
        {
            "channel": tenant_a.channel.pk,
            "user": tenant_a.member.pk,
            "role": "MEMBER",
        },
    )
    assert response.status_code == 200
    assert "banned" in str(response.context["adminform"].form.non_field_errors())


def test_ban_through_the_ban_form(operator: Client, tenant_a: Tenant, published: Any) -> None:
    with published() as capture:
        response = operator.post(
            reverse("admin:channels_app_channelban_add"),
            {
                "channel": tenant_a.channel.pk,
                "user": tenant_a.member.pk,
                "reason": "spam",
            },
        )
    assert response.status_code == 302
    assert ChannelBan.objects.filter(channel=tenant_a.channel, user=tenant_a.member).exists()
    assert "member.left" in capture.names
    assert audit(tenant_a.application, "ban_user").reason == "spam"


def test_unban_lets_the_user_join_again(operator: Client, tenant_a: Tenant) -> None:
    ban = ChannelBan.objects.get(channel=tenant_a.channel, user=tenant_a.outsider)
    act(operator, ChannelBan, "unban", [ban], "appeal accepted")
    assert not ChannelBan.objects.filter(pk=ban.pk).exists()
    assert audit(tenant_a.application, "unban_user").reason == "appeal accepted"
    channel_services.join_channel(
        actor=Actor.for_user(tenant_a.outsider), channel_id=tenant_a.channel.pk
    )
    assert Membership.objects.filter(channel=tenant_a.channel, user=tenant_a.outsider).exists()


def test_freeze_and_unfreeze(operator: Client, tenant_a: Tenant, published: Any) -> None:
    with published() as capture:
        act(operator, Channel, "freeze", [tenant_a.channel], "cool down")
    tenant_a.channel.refresh_from_db()
    assert tenant_a.channel.frozen
    updated = capture.of(events.ChannelUpdated)
    assert updated and updated[0].channel["frozen"] is True
    assert audit(tenant_a.application, "freeze_channel").reason == "cool down"
    with pytest.raises(ChannelFrozen):
        message_services.send_message(
            actor=Actor.for_user(tenant_a.member), channel_id=tenant_a.channel.pk, body="hi"
        )
    with published() as capture:
        act(operator, Channel, "unfreeze", [tenant_a.channel])
    tenant_a.channel.refresh_from_db()
    assert not tenant_a.channel.frozen
    assert "frozen" not in capture.of(events.ChannelUpdated)[0].channel
    audit(tenant_a.application, "unfreeze_channel")
    message_services.send_message(
        actor=Actor.for_user(tenant_a.member), channel_id=tenant_a.channel.pk, body="hi again"
    )


def test_delete_channels(operator: Client, tenant_a: Tenant, published: Any) -> None:
    with published() as capture:
        act(operator, Channel, "delete_channels", [tenant_a.channel], "dead")
    assert not Channel.objects.filter(pk=tenant_a.channel.pk).exists()
    assert capture.of(events.ChannelDeleted)[0].channel_id == tenant_a.channel.pk
    entry = audit(tenant_a.application, "delete_channel")
    assert entry.target_ids == [tenant_a.channel.pk] and entry.reason == "dead"


def test_deactivate_revokes_tokens_and_closes_sessions_then_reactivate(
    operator: Client, tenant_a: Tenant, published: Any
) -> None:
    assert UserAccessToken.objects.filter(user=tenant_a.member, revoked_time__isnull=True).exists()
    with published() as capture:
        act(operator, ChatUser, "deactivate", [tenant_a.member], "ban evasion")
    tenant_a.member.refresh_from_db()
    assert not tenant_a.member.is_active
    assert not UserAccessToken.objects.filter(
        user=tenant_a.member, revoked_time__isnull=True
    ).exists()
    deactivated = capture.of(events.UserDeactivated)
    assert deactivated and deactivated[0].user_ids == (tenant_a.member.pk,)
    assert audit(tenant_a.application, "deactivate_user").reason == "ban evasion"
    with pytest.raises(PermissionDenied):
        message_services.send_message(
            actor=Actor.for_user(tenant_a.member), channel_id=tenant_a.channel.pk, body="x"
        )
    with published() as capture:
        act(operator, ChatUser, "reactivate", [tenant_a.member])
    tenant_a.member.refresh_from_db()
    assert tenant_a.member.is_active
    audit(tenant_a.application, "reactivate_user")


def test_report_queue_delete_message(operator: Client, tenant_a: Tenant, published: Any) -> None:
    with published() as capture:
        response = act(
            operator, MessageReport, "delete_reported_messages", [tenant_a.report], "confirmed"
        )
    assert "Deleted 1 reported message(s)." in response.content.decode()
    tenant_a.report.refresh_from_db()
    assert tenant_a.report.status == MessageReport.Status.ACTIONED
    assert tenant_a.report.resolved_time is not None
    assert tenant_a.report.message_body == "a hello"
    assert not Message.objects.filter(pk=tenant_a.message.pk).exists()
    assert capture.of(events.MessageDeleted)[0].message_id == tenant_a.message.pk
    assert audit(tenant_a.application, "action_report").target_ids == [tenant_a.report.pk]
    assert audit(tenant_a.application, "delete_message").target_ids == [tenant_a.message.pk]
    # The queue shows open reports by default: this one is gone from it.
    queue = operator.get(changelist(MessageReport))
    assert list(queue.context["cl"].result_list) == []


def test_report_queue_dismiss(operator: Client, tenant_a: Tenant, published: Any) -> None:
    with published() as capture:
        act(operator, MessageReport, "dismiss", [tenant_a.report], "not spam")
    tenant_a.report.refresh_from_db()
    assert tenant_a.report.status == MessageReport.Status.DISMISSED
    assert Message.objects.filter(pk=tenant_a.message.pk).exists()
    assert capture.events == []
    assert audit(tenant_a.application, "dismiss_report").reason == "not spam"


def test_service_errors_of_an_action_show_as_messages(
    operator: Client, tenant_a: Tenant, application: Application, make_user: Any
) -> None:
    other = make_user(application, "c")
    direct, _ = channel_services.create_channel(
        actor=Actor.for_application(application), type="DIRECT", members=[tenant_a.owner, other]
    )
    membership = Membership.objects.filter(channel=direct).first()
    assert membership is not None
    response = act(operator, Membership, "remove", [membership])
    assert response.status_code == 200
    assert "DIRECT channel membership is fixed" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


@pytest.mark.parametrize(
    ("action", "which"),
    [
        ("rotate_client_secret", "client_secret"),
        ("rotate_api_key", "api_key"),
        ("rotate_webhook_secret", "webhook_secret"),
    ],
)
def test_rotations_show_the_new_credential_once(
    operator: Client, tenant_a: Tenant, action: str, which: str
) -> None:
    application = tenant_a.application
    old_key, old_secret = application.api_key, application.webhook_secret
    response = operator.post(
        changelist(Application), {"action": action, "_selected_action": [application.pk]}
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    application.refresh_from_db()
    body = response.content.decode()
    [(_, [(_, shown)])] = response.context["rows"]
    assert shown in body
    if which == "client_secret":
        assert oauth_token(application, shown).status_code == 200
    if which == "api_key":
        assert application.api_key != old_key and application.api_key in body
    if which == "webhook_secret":
        assert application.webhook_secret != old_secret and application.webhook_secret in body
    audit(application, f"rotate_{which}")
    page = operator.get(reverse("admin:channels_app_application_change", args=[application.pk]))
    assert application.webhook_secret not in page.content.decode()


def test_a_new_application_shows_a_working_client_secret_once(
    login: Callable[[str], Client], accounts: dict[str, User]
) -> None:
    root = login("superuser")
    response = root.post(
        reverse("admin:channels_app_application_add"),
        {"name": "Fresh", "guest_users_enabled": "on"},
    )
    assert response.status_code == 200
    application = Application.objects.get(name="Fresh")
    assert application.guest_users_enabled
    assert application.oauth_client is not None
    secret = next(
        row[1]
        for _, values in response.context["rows"]
        for row in values
        if row[0] == "OAuth client secret"
    )
    token = oauth_token(application, secret)
    assert token.status_code == 200 and "access_token" in token.json()
    change = root.get(reverse("admin:channels_app_application_change", args=[application.pk]))
    assert secret not in change.content.decode()


def test_application_settings_and_operators_through_the_form(
    login: Callable[[str], Client], accounts: dict[str, User], tenant_a: Tenant
) -> None:
    application = tenant_a.application
    response = login("superuser").post(
        reverse("admin:channels_app_application_change", args=[application.pk]),
        {
            "persistence_default": "on",
            "signup_enabled": "on",
            "webhook_url": "https://hooks.example.com/chat",
            "operators": [accounts["operator_a"].pk, accounts["operator_b"].pk],
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.signup_enabled and not application.guest_users_enabled
    assert application.webhook_url == "https://hooks.example.com/chat"
    assert set(application.operators.values_list("username", flat=True)) == {"op-a", "op-b"}
    assert AuditLogEntry.objects.filter(application=application, action="set_operators").exists()
    response = login("operator_a").post(
        reverse("admin:channels_app_application_change", args=[application.pk]),
        {"persistence_default": "on", "webhook_url": "ftp://nope"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors


def test_bans_and_reports_write_nothing_when_the_service_refuses(tenant_a: Tenant) -> None:
    with pytest.raises(Exception):  # noqa: B017 - any ChatError
        moderation.ban_user(
            actor=Actor.for_user(tenant_a.member),
            channel_id=tenant_a.channel.pk,
            user=tenant_a.owner,
        )
    assert not ChannelBan.objects.filter(user=tenant_a.owner).exists()
    assert not AuditLogEntry.objects.filter(
        action="ban_user", target_ids=[tenant_a.owner.pk]
    ).exists()
