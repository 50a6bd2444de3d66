"""The operator isolation matrix: five kinds of viewer over every admin."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse

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

from .conftest import ROLES, Tenant

pytestmark = pytest.mark.django_db

MODELS: list[type[Model]] = [
    Application,
    ChatUser,
    Channel,
    Membership,
    Message,
    ReadReceipt,
    Notification,
    ChatSession,
    MessageReport,
    AuditLogEntry,
    ChannelBan,
    ChannelInvite,
    Thread,
    UserAccessToken,
]

# Which tenants' rows each viewer sees; None: the admin refuses them altogether.
VISIBLE: dict[str, set[str] | None] = {
    "superuser": {"a", "b"},
    "operator_a": {"a"},
    "operator_b": {"b"},
    "staff_without_application": None,
    "not_staff": None,
}


def url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:channels_app_{model._meta.model_name}_{view}", args=args)


def test_every_model_has_a_scoped_admin() -> None:
    from channels_app.admin.tenancy import TenantAdmin

    for model in MODELS:
        assert isinstance(admin.site.get_model_admin(model), TenantAdmin), model


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_lists_only_the_viewers_applications(
    model: type[Model],
    role: str,
    login: Callable[[str], Client],
    tenant_a: Tenant,
    tenant_b: Tenant,
) -> None:
    response = login(role).get(url(model, "changelist"))
    visible = VISIBLE[role]
    if role == "not_staff":
        assert response.status_code == 302 and "/login/" in response["Location"]
        return
    if visible is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    shown = {row.pk for row in response.context["cl"].result_list}
    rows = {"a": tenant_a.rows[model].pk, "b": tenant_b.rows[model].pk}
    assert {rows[tag] for tag in visible} <= shown
    assert not {rows[tag] for tag in {"a", "b"} - visible} & shown


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_page_of_application_a_row(
    model: type[Model],
    role: str,
    login: Callable[[str], Client],
    tenant_a: Tenant,
    tenant_b: Tenant,
) -> None:
    response = login(role).get(url(model, "change", tenant_a.rows[model].pk))
    expected = {
        "superuser": 200,
        "operator_a": 200,
        "operator_b": 404,
        "staff_without_application": 403,
        "not_staff": 302,
    }[role]
    assert response.status_code == expected


@pytest.mark.parametrize("role", ["operator_a", "operator_b"])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_row_of_the_changelist_belongs_to_the_operator(
    model: type[Model],
    role: str,
    login: Callable[[str], Client],
    tenant_a: Tenant,
    tenant_b: Tenant,
) -> None:
    own = tenant_a if role == "operator_a" else tenant_b
    response = login(role).get(
        url(model, "changelist"), {"status": "all"} if model is MessageReport else {}
    )
    model_admin = admin.site.get_model_admin(model)
    rows = list(response.context["cl"].result_list)
    assert rows
    assert {model_admin.tenant_id_of(row) for row in rows} == {own.application.pk}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("model", "term"),
    [
        (ChatUser, "a-member"),
        (Channel, "a-general"),
        (Membership, "a-member"),
        (Message, "a-member"),
        (MessageReport, "a-member"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_search_never_finds_another_applications_rows(
    model: type[Model],
    term: str,
    login: Callable[[str], Client],
    tenant_a: Tenant,
    tenant_b: Tenant,
) -> None:
    found_by_a = login("operator_a").get(url(model, "changelist"), {"q": term})
    assert len(found_by_a.context["cl"].result_list) >= 1
    found_by_b = login("operator_b").get(url(model, "changelist"), {"q": term})
    assert list(found_by_b.context["cl"].result_list) == []
    by_id = login("operator_b").get(url(model, "changelist"), {"q": str(tenant_a.rows[model].pk)})
    assert tenant_a.rows[model].pk not in {row.pk for row in by_id.context["cl"].result_list}


@pytest.mark.parametrize(
    ("model_name", "field_name"),
    [("membership", "user"), ("membership", "channel"), ("channel", "creator")],
)
def test_autocomplete_offers_only_the_operators_rows(
    model_name: str,
    field_name: str,
    login: Callable[[str], Client],
    tenant_a: Tenant,
    tenant_b: Tenant,
) -> None:
    params = {
        "app_label": "channels_app",
        "model_name": model_name,
        "field_name": field_name,
        "term": "",
    }
    for role, own, other in (
        ("operator_a", tenant_a, tenant_b),
        ("operator_b", tenant_b, tenant_a),
    ):
        data = login(role).get(reverse("admin:autocomplete"), params).json()
        ids = {int(result["id"]) for result in data["results"]}
        target = Channel if field_name == "channel" else ChatUser
        own_ids = set(
            target.objects.filter(application=own.application).values_list("pk", flat=True)
        )
        other_ids = set(
            target.objects.filter(application=other.application).values_list("pk", flat=True)
        )
        assert ids and ids <= own_ids and not ids & other_ids
    refused = login("staff_without_application").get(reverse("admin:autocomplete"), params)
    assert refused.status_code == 403


def test_application_filter_lists_only_the_operators_applications(
    login: Callable[[str], Client], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    for role, names in (
        ("operator_a", ["Acme"]),
        ("operator_b", ["Other"]),
        ("superuser", ["Acme", "Other"]),
    ):
        response = login(role).get(url(Message, "changelist"))
        spec = next(s for s in response.context["cl"].filter_specs if s.title == "application")
        assert [title for _, title in spec.lookup_choices] == names
        body = response.content.decode()
        for name in {"Acme", "Other"} - set(names):
            assert name not in body


def test_filtering_on_another_application_shows_nothing(
    login: Callable[[str], Client], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    response = login("operator_b").get(
        url(Message, "changelist"), {"application": tenant_a.application.pk}
    )
    assert list(response.context["cl"].result_list) == []
    response = login("operator_b").get(url(Message, "changelist"), {"channel": tenant_a.channel.pk})
    assert list(response.context["cl"].result_list) == []


def test_actions_cannot_reach_another_applications_rows(
    login: Callable[[str], Client], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    client = login("operator_b")
    client.post(
        url(Message, "changelist"),
        {"action": "delete_messages", "_selected_action": [tenant_a.message.pk], "reason": "x"},
    )
    client.post(
        url(Channel, "changelist"), {"action": "freeze", "_selected_action": [tenant_a.channel.pk]}
    )
    client.post(
        url(ChatUser, "changelist"),
        {"action": "deactivate", "_selected_action": [tenant_a.member.pk]},
    )
    assert Message.objects.filter(pk=tenant_a.message.pk).exists()
    tenant_a.channel.refresh_from_db()
    tenant_a.member.refresh_from_db()
    assert not tenant_a.channel.frozen and tenant_a.member.is_active
    assert not AuditLogEntry.objects.filter(
        application=tenant_a.application, actor_label="operator:op-b"
    ).exists()


def test_form_choices_refuse_another_applications_rows(
    login: Callable[[str], Client], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    client = login("operator_b")
    response = client.post(
        url(Channel, "add"),
        {
            "application": tenant_a.application.pk,
            "type": "PUBLIC",
            "name": "sneaky",
            "display_name": "",
            "properties": "{}",
        },
    )
    assert response.status_code == 200
    assert "application" in response.context["adminform"].form.errors
    response = client.post(
        url(Membership, "add"),
        {"channel": tenant_a.channel.pk, "user": tenant_b.outsider.pk, "role": "MEMBER"},
    )
    assert "channel" in response.context["adminform"].form.errors
    response = client.post(
        url(Membership, "add"),
        {"channel": tenant_b.channel.pk, "user": tenant_a.outsider.pk, "role": "MEMBER"},
    )
    assert "user" in response.context["adminform"].form.errors
    assert not Channel.objects.filter(name="sneaky").exists()


def test_operators_cannot_create_applications_or_see_operators(
    login: Callable[[str], Client], tenant_a: Tenant
) -> None:
    client = login("operator_a")
    assert client.get(url(Application, "add")).status_code == 403
    page = client.get(url(Application, "change", tenant_a.application.pk))
    assert "operators" not in page.context["adminform"].form.fields
    assert login("superuser").get(url(Application, "add")).status_code == 200


def test_dashboard_shows_only_the_operators_applications(
    login: Callable[[str], Client], tenant_a: Tenant, tenant_b: Tenant
) -> None:
    page = login("operator_a").get(reverse("admin:index")).content.decode()
    assert "Acme" in page and "Other" not in page
    page = login("superuser").get(reverse("admin:index")).content.decode()
    assert "Acme" in page and "Other" in page
    page = login("staff_without_application").get(reverse("admin:index")).content.decode()
    assert "You operate no application yet" in page and "Acme" not in page
