"""The operator admin on the seeded database: p50/p99 of every changelist, a change page of each
model, a few filtered lists, an autocomplete and the dashboard. Target: p99 <= 300 ms.

Requests go through Django's test client in this process (the full middleware stack, templates
and queries, without a network hop), logged in as a superuser (`--role superuser`, every
application) or as a staff operator of the first application (`--role operator`: the scoped
queries). The bench accounts `bench-admin` / `bench-operator` are created when missing.

Usage: DATABASE_URL=postgres://... python bench/admin_bench.py [--requests 30] [--only dashboard,..]
(`make bench` runs it after the API benchmark.) Results: a table on stdout and JSON under
`bench/results/`.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatkitty_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from channels_app.actors import Actor  # noqa: E402
from channels_app.models import Application, Channel, ChatUser  # noqa: E402
from channels_app.services import moderation  # noqa: E402

P99_BAR_MS = 300.0
RESULTS = ROOT / "bench" / "results"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def login(role: str) -> Client:
    User = get_user_model()
    host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h), "localhost")
    client = Client(HTTP_HOST=host.lstrip("."))
    if role == "superuser":
        account = User.objects.filter(username="bench-admin").first()
        if account is None:
            account = User.objects.create_superuser(username="bench-admin", password=None)
    else:
        application = Application.objects.order_by("pk").first()
        if application is None:
            raise SystemExit("No application: run `make seed-scale` first.")
        account = User.objects.filter(username="bench-operator").first()
        if account is None:
            account = User.objects.create_user(
                username="bench-operator", password=None, is_staff=True
            )
        root = User.objects.filter(is_superuser=True).first() or account
        current = set(application.operators.values_list("pk", flat=True))
        if account.pk not in current:
            moderation.set_operators(
                actor=Actor.for_operator(application, root),
                operator_ids=[*current, account.pk],
            )
    client.force_login(account)
    return client


def pages() -> list[tuple[str, str]]:
    """(label, url) of everything measured."""
    targets: list[tuple[str, str]] = [("dashboard", reverse("admin:index"))]
    models: list[type[Model]] = [
        model for model in admin.site._registry if model._meta.app_label == "channels_app"
    ]
    for model in sorted(models, key=lambda m: m._meta.model_name or ""):
        name = model._meta.model_name
        targets.append((f"{name} list", reverse(f"admin:channels_app_{name}_changelist")))
        newest = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        if newest is not None:
            targets.append(
                (f"{name} change", reverse(f"admin:channels_app_{name}_change", args=[newest]))
            )
    busiest = Channel.objects.order_by("-last_sequence").values_list("pk", flat=True).first()
    if busiest is not None:
        targets += [
            ("busiest channel change",
             reverse("admin:channels_app_channel_change", args=[busiest])),
            ("messages of a channel",
             reverse("admin:channels_app_message_changelist") + f"?channel={busiest}"),
            ("members of a channel",
             reverse("admin:channels_app_membership_changelist") + f"?channel={busiest}"),
        ]  # fmt: skip
    user = ChatUser.objects.order_by("pk").values_list("name", flat=True).first()
    if user is not None:
        targets += [
            ("user search", reverse("admin:channels_app_chatuser_changelist") + f"?q={user}"),
            ("message search by sender",
             reverse("admin:channels_app_message_changelist") + f"?q={user}"),
            ("user autocomplete", reverse("admin:autocomplete")
             + f"?app_label=channels_app&model_name=membership&field_name=user&term={user[:3]}"),
        ]  # fmt: skip
    targets += [
        ("messages today", reverse("admin:channels_app_message_changelist")
         + "?created_time__gte=" + datetime.now(UTC).strftime("%Y-%m-%d") + "%2000:00:00%2B00:00"),
        ("open reports", reverse("admin:channels_app_messagereport_changelist")),
    ]  # fmt: skip
    return targets


def measure(client: Client, url: str, requests: int, warmup: int) -> dict[str, Any]:
    timings: list[float] = []
    status = 0
    for index in range(warmup + requests):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        if status != 200:
            return {"status": status, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
        if index >= warmup:
            timings.append(elapsed)
    return {
        "status": status,
        "p50_ms": statistics.median(timings),
        "p99_ms": percentile(timings, 0.99),
        "max_ms": max(timings),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=30, help="Measured requests per page.")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--role", choices=["superuser", "operator"], default="superuser")
    parser.add_argument("--only", default="", help="Comma-separated label substrings.")
    args = parser.parse_args()

    client = login(args.role)
    wanted = [part.strip() for part in args.only.split(",") if part.strip()]
    targets = [t for t in pages() if not wanted or any(w in t[0] for w in wanted)]
    results: dict[str, Any] = {}
    failed = False
    print(f"{'page':34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  bar {P99_BAR_MS:.0f} ms")
    for label, url in targets:
        result = measure(client, url, args.requests, args.warmup)
        over = result["status"] != 200 or result["p99_ms"] > P99_BAR_MS
        failed |= over
        results[label] = {"url": url, **result, "pass": not over}
        verdict = (
            f"HTTP {result['status']}" if result["status"] != 200 else ("OVER" if over else "ok")
        )
        print(f"{label:34} {result['p50_ms']:8.1f} {result['p99_ms']:8.1f} "
              f"{result['max_ms']:8.1f}  {verdict}", flush=True)  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"admin-{args.role}-{stamp}.json"
    out.write_text(json.dumps(
        {"role": args.role, "requests": args.requests, "bar_p99_ms": P99_BAR_MS,
         "database": settings.DATABASES["default"]["ENGINE"], "pages": results},
        indent=2,
    ))  # fmt: skip
    print(f"results: {out.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
