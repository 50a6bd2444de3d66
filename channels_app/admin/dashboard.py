"""The admin landing page's numbers, per application the viewer operates.

Bounded work per page view, whatever the size of the tables:
- at most MAX_APPLICATIONS applications are shown;
- counts use indexes: users (application, name), channels (application, type, id), open reports
  (application, status, id), active sessions (ended_time), messages by day (created_time);
- a finished day's message count does not change (bar deletions), so each (application, day) is
  cached for DAY_CACHE_SECONDS and only the missing days are counted, in one grouped query over the
  created_time range; today is counted live. User and channel totals are cached for a minute.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import Application, Channel, ChatSession, ChatUser, Message, MessageReport

MAX_APPLICATIONS = 20
CHART_DAYS = 30
DAY_CACHE_SECONDS = 3600
TOTALS_CACHE_SECONDS = 60

# The chart's geometry (SVG user units).
CHART_WIDTH = 600
CHART_HEIGHT = 150
CHART_TOP = 12
CHART_BOTTOM = 20


@dataclass
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class ApplicationStats:
    application: Application
    users: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    messages_today: int = 0
    active_sessions: int = 0
    open_reports: int = 0
    days: list[tuple[date, int]] = field(default_factory=list)

    @property
    def channels_total(self) -> int:
        return sum(self.channels.values())

    @property
    def messages_30_days(self) -> int:
        return sum(count for _, count in self.days)

    @property
    def chart_max(self) -> int:
        return max([count for _, count in self.days] or [0])

    @property
    def bars(self) -> list[Bar]:
        """Bar geometry, computed here so the template only prints attributes (no inline
        style: the CSP allows none)."""
        top = max(self.chart_max, 1)
        slot = CHART_WIDTH / max(len(self.days), 1)
        plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
        bars = []
        for index, (day, count) in enumerate(self.days):
            height = plot * count / top
            bars.append(
                Bar(
                    day=day,
                    count=count,
                    x=round(index * slot + 1, 1),
                    y=round(CHART_TOP + plot - height, 1),
                    width=round(slot - 2, 1),
                    height=round(height, 1),
                )
            )
        return bars

    @property
    def chart_labels(self) -> list[tuple[float, str, str]]:
        """A date under every 5th bar and under today, as (x, text, text-anchor)."""
        slot = CHART_WIDTH / max(len(self.days), 1)
        last = len(self.days) - 1
        labels = []
        for index, (day, _) in enumerate(self.days):
            if index == last:
                labels.append((float(CHART_WIDTH), "today", "end"))
            elif index % 5 == 4 and last - index >= 3:
                labels.append((round(index * slot + slot / 2, 1), day.strftime("%b %d"), "middle"))
        return labels


def _grouped(rows: Iterable[Mapping[str, Any]], key: str = "application_id") -> dict[int, int]:
    return {row[key]: row["n"] for row in rows}


@dataclass
class Totals:
    users: dict[int, int]
    channels: dict[int, dict[str, int]]


def _totals(ids: list[int]) -> Totals:
    cache_key = "ck:dash:totals:" + ",".join(map(str, ids))
    cached: Totals | None = cache.get(cache_key)
    if cached is not None:
        return cached
    users = _grouped(
        ChatUser.objects.filter(application_id__in=ids)
        .values("application_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    channels: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Channel.objects.filter(application_id__in=ids)
        .values("application_id", "type")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        channels[row["application_id"]][row["type"]] = row["n"]
    totals = Totals(users=users, channels=dict(channels))
    cache.set(cache_key, totals, TOTALS_CACHE_SECONDS)
    return totals


def _day_key(application_id: int, day: date) -> str:
    return f"ck:dash:day:{application_id}:{day.isoformat()}"


def _daily_counts(ids: list[int], today: date) -> dict[int, dict[date, int]]:
    """Messages per application and day over the last CHART_DAYS days (today included)."""
    days = [today - timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]
    past = days[:-1]
    keys = {_day_key(pk, day): (pk, day) for pk in ids for day in past}
    found = cache.get_many(list(keys))
    counts: dict[int, dict[date, int]] = defaultdict(dict)
    for key, value in found.items():
        pk, day = keys[key]
        counts[pk][day] = value
    missing = [day for day in past if any(day not in counts[pk] for pk in ids)]
    if missing:
        start = datetime.combine(missing[0], time.min, tzinfo=UTC)
        end = datetime.combine(today, time.min, tzinfo=UTC)
        fresh: dict[int, dict[date, int]] = defaultdict(dict)
        for row in (
            Message.objects.filter(
                created_time__gte=start, created_time__lt=end, application_id__in=ids
            )
            .annotate(day=TruncDate("created_time", tzinfo=UTC))
            .values("application_id", "day")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            fresh[row["application_id"]][row["day"]] = row["n"]
        to_cache = {}
        for pk in ids:
            for day in days[days.index(missing[0]) : -1]:
                counts[pk][day] = fresh[pk].get(day, 0)
                to_cache[_day_key(pk, day)] = counts[pk][day]
        cache.set_many(to_cache, DAY_CACHE_SECONDS)
    start_today = datetime.combine(today, time.min, tzinfo=UTC)
    today_counts = _grouped(
        Message.objects.filter(created_time__gte=start_today, application_id__in=ids)
        .values("application_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for pk in ids:
        counts[pk][today] = today_counts.get(pk, 0)
    return counts


def dashboard(application_ids: frozenset[int] | None) -> tuple[list[ApplicationStats], bool]:
    """Stats for the viewer's applications (None: all of them). Returns the stats and whether
    more applications exist than are shown."""
    applications = Application.objects.order_by("pk")
    if application_ids is not None:
        applications = applications.filter(pk__in=application_ids)
    shown = list(applications[: MAX_APPLICATIONS + 1])
    more = len(shown) > MAX_APPLICATIONS
    shown = shown[:MAX_APPLICATIONS]
    if not shown:
        return [], False
    ids = [application.pk for application in shown]
    today = timezone.now().astimezone(UTC).date()
    totals = _totals(ids)
    sessions = _grouped(
        ChatSession.objects.filter(ended_time__isnull=True, application_id__in=ids)
        .values("application_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    reports = _grouped(
        MessageReport.objects.filter(application_id__in=ids, status=MessageReport.Status.OPEN)
        .values("application_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    daily = _daily_counts(ids, today)
    stats = []
    for application in shown:
        pk = application.pk
        days = sorted(daily[pk].items())
        channels = totals.channels.get(pk, {})
        stats.append(
            ApplicationStats(
                application=application,
                users=totals.users.get(pk, 0),
                channels={kind: channels.get(kind, 0) for kind in Channel.Type.values},
                messages_today=daily[pk][today],
                active_sessions=sessions.get(pk, 0),
                open_reports=reports.get(pk, 0),
                days=days,
            )
        )
    return stats, more
