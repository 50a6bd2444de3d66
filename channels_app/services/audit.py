"""The append-only moderation audit log."""

from typing import Any

from ..actors import Actor
from ..models import AuditLogEntry


def record_moderation(
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_ids: list[int],
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """Record one moderation action; call inside the action's transaction (both land, or none)."""
    return AuditLogEntry.objects.create(
        application=actor.application,
        actor_operator=actor.operator,  # type: ignore[misc]
        actor_user=actor.user,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_ids=list(target_ids),
        details=details or {},
        reason=(reason or "")[:1000],
    )
