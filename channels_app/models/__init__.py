from .application import Application, ApplicationCounters
from .channels import Channel, ChannelBan, ChannelInvite, Membership, ReadReceipt
from .messages import Message, Notification, Thread
from .moderation import AuditLogEntry, MessageReport
from .sessions import ChatSession
from .users import ChatUser, UserAccessToken

__all__ = [
    "Application",
    "ApplicationCounters",
    "AuditLogEntry",
    "Channel",
    "ChannelBan",
    "ChannelInvite",
    "ChatSession",
    "ChatUser",
    "Membership",
    "Message",
    "MessageReport",
    "Notification",
    "ReadReceipt",
    "Thread",
    "UserAccessToken",
]
