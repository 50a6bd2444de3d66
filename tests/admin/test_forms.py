"""Admin forms create and change through the services: the API's rules, shown as form errors."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from channels_app import events
from channels_app.actors import Actor
from channels_app.models import Application, AuditLogEntry, Channel, ChatUser, Membership
from channels_app.services import channels as channel_services

from .conftest import Tenant

pytestmark = pytest.mark.django_db

ADD_CHANNEL = "admin:channels_app_channel_add"


@pytest.fixture
def operator(login: Callable[[str], Client], tenant_a: Tenant) -> Client:
    return login("operator_a")


def channel_form(application: Application, **values: Any) -> dict[str, Any]:
    return {
        "application": application.pk,
        "type": "PUBLIC",
        "name": "",
        "display_name": "",
        "properties": "{}",
        **values,
    }


def form_errors(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    assert form.errors
    return str(form.errors)


def test_creating_a_public_channel_goes_through_the_service(
    operator: Client, tenant_a: Tenant, published: Any
) -> None:
    with published() as capture:
        response = operator.post(
            reverse(ADD_CHANNEL),
            channel_form(
                tenant_a.application,
                name="announcements",
                display_name="News",
                creator=tenant_a.owner.pk,
                members=[tenant_a.member.pk],
                properties='{"topic": "news"}',
            ),
        )
    assert response.status_code == 302
    channel = Channel.objects.get(name="announcements")
    assert channel.display_name == "News" and channel.properties == {"topic": "news"}
    roles = dict(Membership.objects.filter(channel=channel).values_list("user__name", "role"))
    assert roles == {"a-owner": "MODERATOR", "a-member": "MEMBER"}
    assert capture.of(events.ChannelCreated)[0].channel["name"] == "announcements"


def test_duplicate_name_is_a_form_error(operator: Client, tenant_a: Tenant) -> None:
    response = operator.post(
        reverse(ADD_CHANNEL), channel_form(tenant_a.application, name="a-general")
    )
    assert "already exists" in form_errors(response)
    assert Channel.objects.filter(name="a-general").count() == 1


def test_eleven_member_direct_channel_is_a_form_error(
    operator: Client, tenant_a: Tenant, make_user: Callable[..., ChatUser]
) -> None:
    users = [make_user(tenant_a.application) for _ in range(11)]
    response = operator.post(
        reverse(ADD_CHANNEL),
        channel_form(tenant_a.application, type="DIRECT", members=[user.pk for user in users]),
    )
    assert "2 to 10 members" in form_errors(response)
    assert not Channel.objects.filter(type="DIRECT").exists()


def test_duplicate_direct_channel_is_a_form_error(operator: Client, tenant_a: Tenant) -> None:
    values = channel_form(
        tenant_a.application, type="DIRECT", members=[tenant_a.owner.pk, tenant_a.member.pk]
    )
    assert operator.post(reverse(ADD_CHANNEL), values).status_code == 302
    response = operator.post(reverse(ADD_CHANNEL), values)
    assert "already exists" in form_errors(response)
    assert Channel.objects.filter(type="DIRECT").count() == 1


def test_direct_channel_with_a_name_is_a_form_error(operator: Client, tenant_a: Tenant) -> None:
    response = operator.post(
        reverse(ADD_CHANNEL),
        channel_form(
            tenant_a.application,
            type="DIRECT",
            name="dm",
            members=[tenant_a.owner.pk, tenant_a.member.pk],
        ),
    )
    assert "no name" in form_errors(response)


def test_members_of_another_application_are_refused(
    login: Callable[[str], Client], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    response = login("superuser").post(
        reverse(ADD_CHANNEL),
        channel_form(tenant_a.application, name="mixed", members=[tenant_b.member.pk]),
    )
    assert "belong to this application" in form_errors(response)
    assert not Channel.objects.filter(name="mixed").exists()


@pytest.mark.parametrize(
    "values",
    [
        {"name": "x" * 101},
        {"properties": "not json"},
        {"type": "GROUP"},
        {"name": "\x01bad"},
        {"properties": "[1, 2]"},
    ],
    ids=["long-name", "bad-json", "bad-type", "control-char", "properties-not-object"],
)
def test_bad_input_is_a_form_error_never_a_500(
    operator: Client, tenant_a: Tenant, values: dict[str, Any]
) -> None:
    form_errors(operator.post(reverse(ADD_CHANNEL), channel_form(tenant_a.application, **values)))


def test_no_member_is_added_to_a_direct_channel(operator: Client, tenant_a: Tenant) -> None:
    direct, _ = channel_services.create_channel(
        actor=Actor.for_application(tenant_a.application),
        type="DIRECT",
        members=[tenant_a.owner, tenant_a.member],
    )
    change = reverse("admin:channels_app_channel_change", args=[direct.pk])
    response = operator.post(
        change, {"display_name": "", "properties": "{}", "add_members": [tenant_a.outsider.pk]}
    )
    assert "DIRECT" in form_errors(response)
    response = operator.post(
        reverse("admin:channels_app_membership_add"),
        {
            "channel": direct.pk,
            "user": tenant_a.outsider.pk,
            "role": "MEMBER",
        },
    )
    assert "DIRECT" in form_errors(response)
    assert Membership.objects.filter(channel=direct).count() == 2


def test_changing_a_channel_goes_through_the_service(
    operator: Client, tenant_a: Tenant, make_user: Callable[..., ChatUser], published: Any
) -> None:
    newcomer = make_user(tenant_a.application, "newcomer")
    channel = tenant_a.channel
    channel_services.update_channel(
        actor=Actor.for_application(tenant_a.application),
        channel_id=channel.pk,
        patch={"properties": {"keep": 1, "drop": {"nested": True}}},
    )
    change = reverse("admin:channels_app_channel_change", args=[channel.pk])
    with published() as capture:
        response = operator.post(
            change,
            {
                "display_name": "General chat",
                "properties": '{"keep": 2}',
                "add_members": [newcomer.pk],
            },
        )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.display_name == "General chat" and channel.properties == {"keep": 2}
    assert Membership.objects.filter(channel=channel, user=newcomer).exists()
    assert {"channel.updated", "member.joined", "channel.joined"} <= set(capture.names)


def test_channel_change_page_shows_a_bounded_member_preview(
    operator: Client,
    tenant_a: Tenant,
    make_user: Callable[..., ChatUser],
    django_assert_max_num_queries: Any,
) -> None:
    actor = Actor.for_application(tenant_a.application)
    for index in range(25):
        channel_services.add_member(
            actor=actor,
            channel_id=tenant_a.channel.pk,
            user=make_user(tenant_a.application, f"crowd{index}"),
        )
    change = reverse("admin:channels_app_channel_change", args=[tenant_a.channel.pk])
    with django_assert_max_num_queries(30):
        page = operator.get(change).content.decode()
    assert "All 27 members" in page
    assert page.count('class="ck-members"') == 1
    assert "crowd24" not in page  # only the first 20 are listed


def test_creating_and_editing_a_user_goes_through_the_service(
    operator: Client, tenant_a: Tenant
) -> None:
    response = operator.post(
        reverse("admin:channels_app_chatuser_add"),
        {
            "application": tenant_a.application.pk,
            "name": "zoe",
            "display_name": "",
            "properties": "{}",
        },
    )
    assert response.status_code == 302
    zoe = ChatUser.objects.get(name="zoe")
    assert zoe.display_name == "zoe"
    duplicate = operator.post(
        reverse("admin:channels_app_chatuser_add"),
        {
            "application": tenant_a.application.pk,
            "name": "zoe",
            "display_name": "",
            "properties": "{}",
        },
    )
    assert "already exists" in form_errors(duplicate)
    change = reverse("admin:channels_app_chatuser_change", args=[zoe.pk])
    response = operator.post(
        change, {"display_name": "Zoe Z", "is_guest": "on", "properties": '{"team": "red"}'}
    )
    assert response.status_code == 302
    zoe.refresh_from_db()
    assert (zoe.display_name, zoe.is_guest, zoe.properties) == ("Zoe Z", True, {"team": "red"})


def test_membership_role_change_goes_through_the_service(
    operator: Client, tenant_a: Tenant, published: Any
) -> None:
    membership = tenant_a.rows[Membership]
    change = reverse("admin:channels_app_membership_change", args=[membership.pk])
    with published() as capture:
        assert operator.post(change, {"role": "MODERATOR"}).status_code == 302
    membership.refresh_from_db()
    assert membership.role == "MODERATOR"
    assert capture.names == ["member.role_changed"]
    assert AuditLogEntry.objects.filter(action="promote_moderator").exists()


def test_audit_log_is_read_only_for_everyone(
    login: Callable[[str], Client], tenant_a: Tenant
) -> None:
    entry = tenant_a.rows[AuditLogEntry]
    before = AuditLogEntry.objects.count()
    for role in ("superuser", "operator_a"):
        client = login(role)
        assert client.get(reverse("admin:channels_app_auditlogentry_add")).status_code == 403
        change = reverse("admin:channels_app_auditlogentry_change", args=[entry.pk])
        page = client.get(change)
        assert page.status_code == 200
        assert page.context["adminform"].form.fields == {}  # every field read-only
        assert client.post(change, {"reason": "edited"}).status_code == 403
        delete = reverse("admin:channels_app_auditlogentry_delete", args=[entry.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        listing = client.get(reverse("admin:channels_app_auditlogentry_changelist"))
        assert listing.context["action_form"] is None or not listing.context["cl"].actions
    entry.refresh_from_db()
    assert entry.reason != "edited" and AuditLogEntry.objects.count() == before


def test_audit_log_filters_by_action(login: Callable[[str], Client], tenant_a: Tenant) -> None:
    listing = login("operator_a").get(
        reverse("admin:channels_app_auditlogentry_changelist"), {"action": "ban_user"}
    )
    rows = list(listing.context["cl"].result_list)
    assert rows and {row.action for row in rows} == {"ban_user"}


def test_an_operator_creates_a_web_account_from_the_admin(
    client: Any, application: Any, django_user_model: Any
) -> None:
    from channels_app.models import ChatUser

    operator = django_user_model.objects.create_superuser("root", "root@example.com", "pw-12345678")
    client.force_login(operator)
    response = client.post(
        "/admin/channels_app/chatuser/add/",
        {
            "application": application.pk,
            "name": "webby",
            "display_name": "Web Person",
            "properties": "{}",
            "web_password": "a long enough password",
        },
    )
    assert response.status_code == 302, response.content[:500]
    user = ChatUser.objects.get(application=application, name="webby")
    assert user.account is not None
    assert user.account.check_password("a long enough password")
    # A password the validators refuse is a form error, not a 500, and writes nothing.
    response = client.post(
        "/admin/channels_app/chatuser/add/",
        {"application": application.pk, "name": "short", "properties": "{}", "web_password": "x"},
    )
    assert response.status_code == 200
    assert not ChatUser.objects.filter(name="short").exists()
