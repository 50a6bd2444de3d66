"""The admin landing page: per-application numbers and a server-rendered chart."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_app.actors import Actor
from channels_app.admin import tenancy
from channels_app.admin.dashboard import CHART_DAYS, dashboard
from channels_app.models import ChatSession, ChatUser, Message
from channels_app.services import messages as message_services

from .conftest import Tenant

pytestmark = pytest.mark.django_db


def test_dashboard_numbers(tenant_a: Tenant, tenant_b: Tenant) -> None:
    for _ in range(3):
        message_services.send_message(
            actor=Actor.for_user(tenant_a.owner), channel_id=tenant_a.channel.pk, body="x"
        )
    # An old message, 3 days ago, and one outside the chart.
    old = Message.objects.filter(channel=tenant_a.channel).order_by("id")
    Message.objects.filter(pk=old[0].pk).update(created_time=timezone.now() - timedelta(days=3))
    Message.objects.filter(pk=old[1].pk).update(created_time=timezone.now() - timedelta(days=45))
    ChatSession.objects.filter(application=tenant_a.application).update(ended_time=None)
    [stats], more = dashboard(frozenset({tenant_a.application.pk}))
    assert not more
    assert stats.application == tenant_a.application
    assert stats.users == ChatUser.objects.filter(application=tenant_a.application).count() == 4
    assert stats.channels == {"DIRECT": 0, "PUBLIC": 1, "PRIVATE": 0}
    assert stats.messages_today == 2
    assert stats.active_sessions == 1 and stats.open_reports == 1
    assert len(stats.days) == CHART_DAYS
    assert stats.days[-1][1] == 2 and stats.days[-4][1] == 1
    assert stats.messages_30_days == 3
    bars = stats.bars
    assert len(bars) == CHART_DAYS and max(bar.height for bar in bars) > 0
    assert all(bar.y + bar.height <= 130.01 for bar in bars)


def test_past_days_come_from_the_cache_and_today_is_live(
    tenant_a: Tenant, django_assert_max_num_queries: Any
) -> None:
    ids = frozenset({tenant_a.application.pk})
    dashboard(ids)
    message_services.send_message(
        actor=Actor.for_user(tenant_a.owner), channel_id=tenant_a.channel.pk, body="later"
    )
    with django_assert_max_num_queries(4):  # applications, sessions, reports, today
        [stats], _ = dashboard(ids)
    assert stats.messages_today == 2


def test_dashboard_page_renders_an_svg_chart_within_a_fixed_number_of_queries(
    login: Callable[[str], Client],
    tenant_a: Tenant,
    tenant_b: Tenant,
    django_assert_max_num_queries: Any,
) -> None:
    client = login("superuser")
    with django_assert_max_num_queries(16):
        response = client.get(reverse("admin:index"))
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        page.count('aria-label="Messages per day') == 2
        and page.count('class="ck-bar') == 2 * CHART_DAYS
    )
    assert "channels_app/admin.css" in page
    assert "<script>" not in page and ' style="' not in page.split('id="content-main"')[1]
    assert "cdn" not in page.lower()
    # More applications do not add queries.
    with django_assert_max_num_queries(16):
        client.get(reverse("admin:index"))


def test_counts_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
    login: Callable[[str], Client],
    tenant_a: Tenant,
    make_user: Callable[..., ChatUser],
) -> None:
    for _ in range(4):
        make_user(tenant_a.application)
    monkeypatch.setattr(tenancy, "COUNT_CAP", 3)
    response = login("operator_a").get(reverse("admin:channels_app_chatuser_changelist"))
    assert response.context["cl"].result_count == 4  # COUNT_CAP + 1: "more than 3"
    assert "More than 3" in response.content.decode()
