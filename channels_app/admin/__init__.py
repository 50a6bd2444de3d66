"""The operator admin: every model, scoped to the operator's applications, moderated through
services. Importing this package (Django's admin autodiscovery does) registers everything."""

from django.contrib import admin

from . import applications, channels, messages, moderation, users

admin.site.site_header = "Chat server administration"
admin.site.site_title = "Chat admin"
admin.site.index_title = "Dashboard"
# The landing page is the dashboard (channels_app/templatetags/chat_dashboard.py renders it).
admin.site.index_template = "admin/channels_app/dashboard.html"

__all__ = ["applications", "channels", "messages", "moderation", "users"]
