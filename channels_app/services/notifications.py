"""Offline members: a Notification row and a signed webhook for members with no active session.

Placeholder hook point only until the live-sessions work lands: see issue 3.
"""

from ..models import Message


def schedule_offline_notifications(message: Message) -> None:
    """After commit, notify the channel's members that have no active chat session."""
    # Implemented with the chat sessions (issue 3); sending must not depend on it.
    return None
