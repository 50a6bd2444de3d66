"""One connection's live subscriptions: the client's ids, the destinations they watch and, for
channel topics, the channel (so leaving a channel ends its subscriptions at once)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Subscription:
    destination: str
    channel_id: int | None


@dataclass
class Subscriptions:
    by_id: dict[str, Subscription] = field(default_factory=dict)
    by_destination: dict[str, list[str]] = field(default_factory=dict)
    per_channel: dict[int, int] = field(default_factory=dict)  # channel id -> live subscriptions
    errors_id: str | None = None  # the `/user/queue/errors` subscription

    def __contains__(self, sub_id: str) -> bool:
        return sub_id in self.by_id

    def __len__(self) -> int:
        return len(self.by_id)

    def ids_for(self, destination: str) -> list[str] | None:
        """Subscription ids watching `destination` (one MESSAGE is due to each)."""
        return self.by_destination.get(destination)

    def watches_channel(self, channel_id: object) -> bool:
        return channel_id in self.per_channel

    def add(self, sub_id: str, destination: str, channel_id: int | None = None) -> None:
        self.by_id[sub_id] = Subscription(destination, channel_id)
        self.by_destination.setdefault(destination, []).append(sub_id)
        if channel_id is not None:
            self.per_channel[channel_id] = self.per_channel.get(channel_id, 0) + 1

    def remove(self, sub_id: str) -> None:
        subscription = self.by_id.pop(sub_id, None)
        if subscription is None:
            return
        ids = self.by_destination.get(subscription.destination, [])
        if sub_id in ids:
            ids.remove(sub_id)
        if not ids:
            self.by_destination.pop(subscription.destination, None)
        if sub_id == self.errors_id:
            self.errors_id = None
        channel_id = subscription.channel_id
        if channel_id is not None:
            left = self.per_channel.get(channel_id, 1) - 1
            if left > 0:
                self.per_channel[channel_id] = left
            else:
                self.per_channel.pop(channel_id, None)

    def drop_channel(self, channel_id: int) -> None:
        for sub_id, subscription in list(self.by_id.items()):
            if subscription.channel_id == channel_id:
                self.remove(sub_id)
