"""Fill PostgreSQL with a benchmark-sized application (`make seed-scale`, then `make bench`).

Default volume: one application, 1,000 users, 100,000 channels (80% PUBLIC, 10% PRIVATE, 10%
DIRECT), 1,000,000 memberships, 1,000,000 messages and one read receipt per membership.

Why this writes rows directly instead of calling the services: bulk speed. Three million rows
through `create_channel`/`send_message` (one transaction, one row lock and one event each) would
take hours; PostgreSQL `COPY` takes a minute or two. It writes exactly the rows the services would
write and respects every rule and constraint they enforce: DIRECT channels have 2 to 10 members,
one per member set, with `direct_key` = the sorted member ids; PUBLIC/PRIVATE names are unique;
creators are members (MODERATOR of PUBLIC/PRIVATE channels, MEMBER of DIRECT ones, as
`create_channel` does); no duplicate (channel, user); every message's sender is a member; sequences
are gap-free 1..n per channel with ids growing with them; `last_sequence`/`last_message` point at
the newest message; every member has a read receipt (as `create_channel` creates) and senders have
read what they sent. The database checks the rest (unique and foreign-key constraints stay on).
Everything is one transaction: an interrupted run leaves nothing behind. No events are published
(nobody is connected).
"""

import json
import random
import sys
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from oauth2_provider.models import get_application_model

from channels_app.models import (
    Application,
    ApplicationCounters,
    Channel,
    ChatUser,
    Membership,
    Message,
    ReadReceipt,
)
from channels_app.services.applications import create_application, rotate_client_secret

OAuthClient = get_application_model()

DEFAULT_NAME = "Scale benchmark"
NULL = "\\N"
CHUNK_BYTES = 2 * 1024 * 1024
BODIES = [
    "Hello everyone!",
    "Did you see the release notes?",
    "Lunch at noon?",
    "I pushed the fix, please review.",
    "Thanks, that works for me.",
    "Can someone check the staging server?",
    "Meeting moved to 3pm.",
    "Great job on the launch!",
    "Who is on call this weekend?",
    "The build is green again.",
    "Let's discuss this tomorrow.",
    "Here are the numbers from last week.",
    "Sounds good to me.",
    "I will be out of office on Friday.",
    "Does anyone have the link to the doc?",
    "Welcome to the channel!",
]


class Progress:
    """A plain stderr progress bar: redrawn in place on a terminal, a line per 10% otherwise."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.last_decile = -1
        self.last_draw = 0.0
        self.draw()

    def advance(self, count: int) -> None:
        self.done = min(self.total, self.done + count)
        self.draw()

    def draw(self, final: bool = False) -> None:
        fraction = self.done / self.total
        now = time.monotonic()
        elapsed = now - self.started
        if self.tty:
            if not final and now - self.last_draw < 0.1 and self.done < self.total:
                return
            self.last_draw = now
            filled = int(fraction * 30)
            bar = "#" * filled + "." * (30 - filled)
            sys.stderr.write(
                f"\r  {self.label:<14} [{bar}] {fraction:6.1%} "
                f"{self.done:>10,}/{self.total:,} {elapsed:6.1f}s"
            )
            if final:
                sys.stderr.write("\n")
        else:
            decile = int(fraction * 10)
            if decile != self.last_decile:
                self.last_decile = decile
                sys.stderr.write(
                    f"  {self.label:<14} {fraction:6.1%} {self.done:>10,}/{self.total:,} "
                    f"{elapsed:6.1f}s\n"
                )
        sys.stderr.flush()

    def finish(self) -> None:
        self.done = self.total
        self.draw(final=True)


def copy_literal(value: Any) -> str:
    """A constant value in COPY text format."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    if isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def spread(total: int, count: int, rng: random.Random, *, low: int, high: int) -> list[int]:
    """`count` integers in [low, high] summing exactly to `total` (roughly uniform around the
    mean)."""
    if count == 0:
        return []
    if not low * count <= total <= high * count:
        raise CommandError(f"Cannot spread {total} over {count} items within [{low}, {high}].")
    mean = total / count
    width = max(0, min(mean - low, high - mean))
    values = [max(low, min(high, round(mean + rng.uniform(-width, width)))) for _ in range(count)]
    diff = total - sum(values)
    step = 1 if diff > 0 else -1
    while diff:
        index = rng.randrange(count)
        if low <= values[index] + step <= high:
            values[index] += step
            diff -= step
    return values


class Copier:
    """COPY rows into a model's table. Columns not supplied get the field's (constant) default, so
    fields added to the models later keep working as long as they have a default."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        fields = [f for f in model._meta.concrete_fields if f.column not in columns]
        self.table = model._meta.db_table
        extra: list[str] = []
        suffix: list[str] = []
        for field in fields:
            if not field.has_default() and not field.null:
                raise CommandError(
                    f"seed_scale does not know how to fill {self.table}.{field.column}: "
                    "give the field a default or teach seed_scale about it."
                )
            assert field.column is not None
            extra.append(field.column)
            suffix.append(copy_literal(field.get_default()))
        self.columns = [*columns, *extra]
        self.suffix = ("\t" + "\t".join(suffix) if suffix else "") + "\n"

    def run(self, rows: Iterable[str], progress: Progress) -> None:
        """`rows`: tab-separated supplied columns, without the newline."""
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        sql = f"COPY {connection.ops.quote_name(self.table)} ({columns}) FROM STDIN"
        suffix = self.suffix
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            buffer: list[str] = []
            size = 0
            count = 0
            for row in rows:
                line = row + suffix
                buffer.append(line)
                size += len(line)
                count += 1
                if size >= CHUNK_BYTES:
                    copy.write("".join(buffer).encode())
                    progress.advance(count)
                    buffer, size, count = [], 0, 0
            if buffer:
                copy.write("".join(buffer).encode())
                progress.advance(count)
        progress.finish()


def reserve_ids(model: type[models.Model], count: int) -> int:
    """Reserve `count` consecutive primary keys from the table's sequence; returns the first."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [sequence])
        first = int(cursor.fetchone()[0])
        if count > 1:
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


class Command(BaseCommand):
    help = (
        "Fill PostgreSQL with a benchmark-sized application (1,000 users, 100,000 channels, "
        "1,000,000 memberships and messages) and write its credentials to var/scale.json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=DEFAULT_NAME, help="The application's name.")
        parser.add_argument("--users", type=int, default=1_000)
        parser.add_argument("--channels", type=int, default=100_000)
        parser.add_argument("--memberships", type=int, default=1_000_000)
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=42, help="Random seed (deterministic).")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the application of that name (and all its rows) first, then seed again.",
        )
        parser.add_argument(
            "--credentials-file", default=str(Path(settings.BASE_DIR) / "var" / "scale.json")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale needs PostgreSQL (it bulk-loads with COPY and the benchmark measures "
                "the production setup). Set DATABASE_URL=postgres://user@host:5432/dbname and run "
                "`manage.py migrate` first; the embedded SQLite default is not benchmarked."
            )
        self.options = options
        self.rng = random.Random(options["seed"])
        self.check_volume()
        path = Path(options["credentials_file"])
        name = options["name"]
        started = time.monotonic()

        existing = Application.objects.filter(name=name).order_by("id").first()
        if existing is not None and options["reset"]:
            self.stderr.write(f"Deleting application {existing.pk} ({name!r}) and its rows...")
            self.delete_application(existing)
            self.stderr.write(f"Deleted in {time.monotonic() - started:.1f}s.")
            started = time.monotonic()
            existing = None
        if existing is not None:
            self.stderr.write(
                f"Application {name!r} (id {existing.pk}) is already seeded: nothing to do "
                "(use --reset to seed it again)."
            )
            info = self.reuse_credentials(existing, path)
        else:
            with transaction.atomic():
                application, client_secret = create_application(name=name)
                info = self.seed(application, client_secret)
            self.stderr.write("Analyzing tables (VACUUM ANALYZE)...")
            self.analyze()
            info["seedSeconds"] = round(time.monotonic() - started, 1)
            self.stderr.write(f"Seeded in {info['seedSeconds']:.1f}s.")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info, indent=2) + "\n")
        path.chmod(0o600)
        self.stdout.write(
            json.dumps(
                {
                    key: info[key]
                    for key in ("applicationId", "name", "clientId", "clientSecret", "apiKey")
                }
            )
        )
        self.stderr.write(f"Credentials and benchmark ids written to {path}")

    # --- checks and credentials --------------------------------------------------------------

    def check_volume(self) -> None:
        o = self.options
        if o["users"] < 11:
            raise CommandError("--users must be at least 11.")
        if o["channels"] < 10:
            raise CommandError("--channels must be at least 10.")
        if o["memberships"] < 2 * o["channels"]:
            raise CommandError("--memberships must be at least twice --channels.")
        if o["memberships"] > o["channels"] * o["users"] // 2:
            raise CommandError("--memberships is too large for that many users and channels.")
        if o["messages"] < 0:
            raise CommandError("--messages must be positive.")

    def reuse_credentials(self, application: Application, path: Path) -> dict[str, Any]:
        stored: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        if stored.get("applicationId") == application.pk and stored.get("clientSecret"):
            return stored
        # The secret is stored hashed: mint a new one (the service revokes the old tokens).
        secret = rotate_client_secret(application=application)
        info = self.describe(application, secret)
        return {**stored, **info}

    def describe(self, application: Application, client_secret: str) -> dict[str, Any]:
        assert application.oauth_client is not None
        info: dict[str, Any] = {
            "applicationId": application.pk,
            "name": application.name,
            "clientId": application.oauth_client.client_id,
            "clientSecret": client_secret,
            "apiKey": application.api_key,
            "database": connection.settings_dict["NAME"],
        }
        if not hasattr(self, "bench"):
            self.bench = self.pick_bench_ids(application)
        info.update(self.bench)
        return info

    def pick_bench_ids(self, application: Application) -> dict[str, Any]:
        """Ids for an already-seeded application: a member with many channels, its busiest
        PUBLIC channel and a few channels it may post into."""
        user = (
            ChatUser.objects.filter(application=application)
            .annotate(n=models.Count("memberships"))
            .order_by("-n", "id")
            .first()
        )
        if user is None:
            raise CommandError("The application has no users: run with --reset.")
        member_of = Membership.objects.filter(user=user).values("channel_id")
        channels = Channel.objects.filter(pk__in=member_of).exclude(type=Channel.Type.DIRECT)
        hot = channels.filter(type=Channel.Type.PUBLIC).order_by("-last_sequence", "id").first()
        posts = list(channels.order_by("id").values_list("id", flat=True)[:50])
        return {
            "benchUserId": user.pk,
            "hotChannelId": hot.pk if hot else posts[0],
            "postChannelIds": posts,
        }

    # --- reset ---------------------------------------------------------------------------------

    def delete_application(self, application: Application) -> None:
        """The three big tables with plain SQL (Django's cascade would load millions of rows into
        memory), then the rest through the ORM's cascade, in one transaction (foreign keys are
        checked at commit, after the cascade removed what pointed at the deleted rows)."""
        qn = connection.ops.quote_name
        if not Application.objects.exclude(pk=application.pk).exists():
            # The only application (a dedicated benchmark database): TRUNCATE the app's tables,
            # seconds instead of minutes of row-by-row foreign-key checks at commit.
            tables = [
                model._meta.db_table
                for model in apps.get_app_config("channels_app").get_models(
                    include_auto_created=True
                )
            ]
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("TRUNCATE " + ", ".join(qn(t) for t in tables))
                    if application.oauth_client_id is not None:
                        OAuthClient.objects.filter(pk=application.oauth_client_id).delete()
                return
            except DatabaseError:
                pass  # another app's table points at these: delete row by row below
        channel = qn(Channel._meta.db_table)
        tables_by_channel = [
            (ReadReceipt, "channel_id"),
            (Membership, "channel_id"),
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            for model, column in tables_by_channel:
                table = qn(model._meta.db_table)
                where = f"{qn(column)} IN (SELECT id FROM {channel} WHERE application_id = %s)"  # noqa: S608
                cursor.execute(f"DELETE FROM {table} WHERE {where}", [application.pk])  # noqa: S608
            cursor.execute(
                f"DELETE FROM {qn(Message._meta.db_table)} WHERE application_id = %s",  # noqa: S608
                [application.pk],
            )
            client = application.oauth_client
            application.delete()
            if client is not None:
                client.delete()

    # --- seeding -------------------------------------------------------------------------------

    def seed(self, application: Application, client_secret: str) -> dict[str, Any]:
        o, rng = self.options, self.rng
        n_users, n_channels = o["users"], o["channels"]
        n_memberships, n_messages = o["memberships"], o["messages"]
        app_id = application.pk
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
        now = timezone.now().timestamp()
        epoch = now - 400 * 86400

        # Users.
        user0 = reserve_ids(ChatUser, n_users)
        user_ids = list(range(user0, user0 + n_users))
        Copier(
            ChatUser,
            ["id", "application_id", "name", "display_name", "created_time"],
        ).run(
            (
                f"{uid}\t{app_id}\tscale-user-{i:05d}\tScale User {i}\t{ts(epoch + i)}"
                for i, uid in enumerate(user_ids)
            ),
            Progress("users", n_users),
        )

        # Channel types (interleaved: 8 PUBLIC, 1 PRIVATE, 1 DIRECT in every 10) and members.
        channel0 = reserve_ids(Channel, n_channels)
        types = ["PUBLIC"] * 8 + ["PRIVATE", "DIRECT"]
        channel_types = [types[i % 10] for i in range(n_channels)]
        direct_indexes = [i for i, t in enumerate(channel_types) if t == "DIRECT"]
        group_indexes = [i for i, t in enumerate(channel_types) if t != "DIRECT"]
        members: list[list[int]] = [[] for _ in range(n_channels)]
        direct_keys: dict[int, str] = {}
        seen_keys: set[str] = set()
        for i in direct_indexes:
            size = 2 if rng.random() < 0.9 else rng.randint(3, 5)
            while True:
                chosen = rng.sample(user_ids, size)
                key = ",".join(str(pk) for pk in sorted(chosen))
                if key not in seen_keys:
                    break
            seen_keys.add(key)
            members[i] = chosen  # chosen[0] is the creator
            direct_keys[i] = key
        remaining = n_memberships - sum(len(members[i]) for i in direct_indexes)
        # A few large channels (up to every user), the rest small: sizes sum to the target.
        n_big = max(1, len(group_indexes) // 200)
        big_high = n_users
        big_low = min(big_high, max(2, n_users // 5))
        big_total = min(remaining - (len(group_indexes) - n_big), n_big * (big_low + big_high) // 2)
        big_total = max(big_total, n_big * 1)
        big_sizes = spread(big_total, n_big, rng, low=1, high=n_users)
        small_sizes = spread(
            remaining - big_total, len(group_indexes) - n_big, rng, low=1, high=n_users
        )
        sizes = big_sizes + small_sizes
        big_positions = set(rng.sample(range(len(group_indexes)), n_big))
        order = [p for p in range(len(group_indexes)) if p in big_positions] + [
            p for p in range(len(group_indexes)) if p not in big_positions
        ]
        for position, size in zip(order, sizes, strict=True):
            members[group_indexes[position]] = rng.sample(user_ids, size)

        # Messages: per channel counts (busy channels get more), senders are members, 1% system
        # messages. Times grow with the sequence inside a channel; ids are assigned in time order
        # across the application, so they grow with the sequence inside each channel too.
        created = [
            epoch + 86400 + (i * (now - epoch - 2 * 86400) / n_channels) for i in range(n_channels)
        ]
        weights = [len(m) for m in members]
        total_weight = sum(weights)
        counts = [0] * n_channels
        if n_messages:
            raw = [n_messages * w / total_weight for w in weights]
            counts = [int(x) for x in raw]
            short = n_messages - sum(counts)
            for i in sorted(range(n_channels), key=lambda i: raw[i] - counts[i], reverse=True)[
                :short
            ]:
                counts[i] += 1
        msg_channel = array("l")
        msg_user = array("l")
        msg_time = array("d")
        first_msg = array("l", [0] * n_channels)
        sent_max: list[dict[int, int]] = [{} for _ in range(n_channels)]
        for i in range(n_channels):
            count = counts[i]
            first_msg[i] = len(msg_channel)
            if not count:
                continue
            start = created[i]
            span = now - start
            offsets = sorted(rng.random() for _ in range(count))
            channel_members = members[i]
            last_sent = sent_max[i]
            for seq, offset in enumerate(offsets, start=1):
                if rng.random() < 0.01:
                    sender = 0
                else:
                    sender = rng.choice(channel_members)
                    last_sent[sender] = seq
                msg_channel.append(i)
                msg_user.append(sender)
                msg_time.append(start + 1 + offset * (span - 2))
        message0 = reserve_ids(Message, n_messages) if n_messages else 0
        by_time = sorted(range(n_messages), key=msg_time.__getitem__)
        msg_id = array("l", [0] * n_messages)
        for rank, index in enumerate(by_time):
            msg_id[index] = message0 + rank
        last_message = [
            msg_id[first_msg[i] + counts[i] - 1] if counts[i] else 0 for i in range(n_channels)
        ]

        # Channels.
        def channel_rows() -> Iterator[str]:
            for i in range(n_channels):
                kind = channel_types[i]
                chosen = members[i]
                if kind == "DIRECT":
                    name, display, key = NULL, "", direct_keys[i]
                else:
                    prefix = "channel" if kind == "PUBLIC" else "private"
                    name = f"{prefix}-{i:06d}"
                    display, key = f"{prefix.title()} {i}", NULL
                last = str(last_message[i]) if counts[i] else NULL
                yield (
                    f"{channel0 + i}\t{app_id}\t{kind}\t{name}\t{display}\t{chosen[0]}\t"
                    f"{ts(created[i])}\t{last}\t{counts[i]}\t{key}"
                )

        Copier(
            Channel,
            [
                "id",
                "application_id",
                "type",
                "name",
                "display_name",
                "creator_id",
                "created_time",
                "last_message_id",
                "last_sequence",
                "direct_key",
            ],
        ).run(channel_rows(), Progress("channels", n_channels))
        # The total the channel services keep (create_application made the row at 0).
        ApplicationCounters.objects.filter(pk=app_id).update(channels=n_channels)

        # Memberships: the creator first (MODERATOR of PUBLIC/PRIVATE, MEMBER of DIRECT).
        membership0 = reserve_ids(Membership, n_memberships)

        def membership_rows() -> Iterator[str]:
            pk = membership0
            for i in range(n_channels):
                stamp = ts(created[i])
                cid = channel0 + i
                first_role = "MEMBER" if channel_types[i] == "DIRECT" else "MODERATOR"
                for position, uid in enumerate(members[i]):
                    role = first_role if position == 0 else "MEMBER"
                    yield f"{pk}\t{cid}\t{uid}\t{role}\t{stamp}"
                    pk += 1

        Copier(Membership, ["id", "channel_id", "user_id", "role", "created_time"]).run(
            membership_rows(), Progress("memberships", n_memberships)
        )

        # Messages.
        bodies = [copy_literal(body) for body in BODIES]
        n_bodies = len(bodies)

        def message_rows() -> Iterator[str]:
            for index in range(n_messages):
                i = msg_channel[index]
                seq = index - first_msg[i] + 1
                sender = msg_user[index]
                if sender:
                    user, kind = str(sender), "TEXT"
                else:
                    user, kind = NULL, "SYSTEM_TEXT"
                yield (
                    f"{msg_id[index]}\t{app_id}\t{channel0 + i}\t{user}\t{kind}\t"
                    f"{bodies[(index * 7 + seq) % n_bodies]}\t{seq}\t{ts(msg_time[index])}"
                )

        Copier(
            Message,
            [
                "id",
                "application_id",
                "channel_id",
                "user_id",
                "type",
                "body",
                "sequence",
                "created_time",
            ],
        ).run(message_rows(), Progress("messages", n_messages))

        # Read receipts: one per membership. Senders have read at least their last message;
        # about half the members are fully caught up, the rest somewhere behind.
        receipt0 = reserve_ids(ReadReceipt, n_memberships)

        def receipt_rows() -> Iterator[str]:
            pk = receipt0
            random_ = rng.random
            for i in range(n_channels):
                count = counts[i]
                cid = channel0 + i
                sent = sent_max[i]
                base = first_msg[i]
                for uid in members[i]:
                    floor = sent.get(uid, 0)
                    roll = random_()
                    if roll < 0.5:
                        read = count
                    elif roll < 0.8:
                        read = floor + int(random_() * (count - floor + 1))
                    else:
                        read = floor
                    when = msg_time[base + read - 1] if read else created[i]
                    yield f"{pk}\t{cid}\t{uid}\t{read}\t{ts(when)}"
                    pk += 1

        Copier(ReadReceipt, ["id", "channel_id", "user_id", "last_read_sequence", "read_time"]).run(
            receipt_rows(), Progress("read receipts", n_memberships)
        )

        # Ids the benchmark uses: the user with the most channels, its busiest PUBLIC channel.
        per_user: dict[int, int] = {}
        for chosen in members:
            for uid in chosen:
                per_user[uid] = per_user.get(uid, 0) + 1
        bench_user = max(user_ids, key=lambda uid: (per_user.get(uid, 0), -uid))
        mine = [i for i in range(n_channels) if bench_user in members[i]]
        public = [i for i in mine if channel_types[i] == "PUBLIC"] or mine
        hot = max(public, key=lambda i: (counts[i], -i))
        posts = [i for i in mine if channel_types[i] != "DIRECT"][:50]
        self.bench = {
            "benchUserId": bench_user,
            "hotChannelId": channel0 + hot,
            "postChannelIds": [channel0 + i for i in posts],
            "counts": {
                "users": n_users,
                "channels": n_channels,
                "memberships": n_memberships,
                "messages": n_messages,
                "readReceipts": n_memberships,
            },
        }
        return self.describe(application, client_secret)

    def analyze(self) -> None:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model in (ChatUser, Channel, Membership, Message, ReadReceipt):
                cursor.execute(f"VACUUM (ANALYZE) {qn(model._meta.db_table)}")
