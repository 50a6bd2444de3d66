"""`/v1` routes, exactly as the contract spells them: no trailing slashes, integer ids."""

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerSplitView

from .openapi import SchemaView
from .views.application import ApplicationViewSet
from .views.channels import ApplicationChannelViewSet, ChannelViewSet
from .views.chat_sessions import ChatSessionViewSet
from .views.me import MeViewSet
from .views.messages import MessageViewSet, ThreadViewSet
from .views.reports import ReportViewSet
from .views.users import UserViewSet

C, U, M, T = (
    ChannelViewSet.as_view,
    UserViewSet.as_view,
    MessageViewSet.as_view,
    ThreadViewSet.as_view,
)

urlpatterns = [
    path(
        "schema",
        SchemaView.as_view(authentication_classes=[], permission_classes=[]),
        name="schema",
    ),
    # Swagger UI from our own static files (drf-spectacular-sidecar), its init script served
    # separately so the page runs under the site's script-src 'self' policy.
    path(
        "docs",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema",
            template_name="api/swagger_ui.html",
            authentication_classes=[],
            permission_classes=[],
        ),
        name="docs",
    ),
    # channels
    path("channels", C({"get": "list", "post": "create"}), name="channels"),
    path(
        "channels/<str:id>",
        C({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="channel",
    ),
    path("channels/<str:id>/members", C({"get": "members", "post": "add_member"})),
    path("channels/<str:id>/members/<str:user_id>", C({"delete": "remove_member"})),
    path("channels/<str:id>/moderators", C({"get": "moderators", "post": "add_moderator"})),
    path("channels/<str:id>/moderators/<str:user_id>", C({"delete": "remove_moderator"})),
    path("channels/<str:id>/memberships", C({"get": "memberships"})),
    path("channels/<str:id>/participants", C({"get": "participants"})),
    path("channels/<str:id>/invites", C({"get": "invites", "post": "send_invite"})),
    path("channels/<str:id>/messages", C({"get": "messages", "post": "send_message"})),
    path("channels/<str:id>/events", C({"post": "send_event"})),
    path("channels/<str:id>/join", C({"post": "join"})),
    path("channels/<str:id>/leave", C({"post": "leave"})),
    path("channels/<str:id>/read", C({"post": "read"})),
    path("channels/<str:id>/unread", C({"get": "unread"})),
    path("channels/<str:id>/typing", C({"post": "typing"})),
    path(
        "applications/<str:app_id>/channels/<str:id>",
        ApplicationChannelViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
    ),
    # users
    path("users", U({"get": "list", "post": "create", "head": "exists"}), name="users"),
    path("users/<str:id>", U({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})),
    path("users/<str:id>/channels", U({"get": "channels"})),
    path("users/<str:id>/messages", U({"get": "messages"})),
    path("users/<str:id>/messages/unread/count", U({"get": "unread_count"})),
    path("users/<str:id>/notifications", U({"get": "notifications"})),
    path("users/<str:id>/display-picture", U({"post": "display_picture"})),
    path(
        "users/<str:id>/secrets/<str:name>",
        U({"get": "get_secret", "put": "set_secret", "delete": "remove_secret"}),
    ),
    path(
        "users/<str:id>/access-tokens",
        U({"post": "create_access_token", "delete": "revoke_access_tokens"}),
    ),
    # messages
    path("messages", M({"get": "list", "delete": "destroy_all"})),
    path(
        "messages/<str:id>", M({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
    ),
    path("messages/<str:id>/read-receipts", M({"get": "read_receipts"})),
    path("messages/<str:id>/thread", M({"post": "reply_thread"})),
    # reports (moderation)
    path("messages/<str:id>/reports", ReportViewSet.as_view({"post": "create"})),
    path(
        "channels/<str:id>/reported-messages", ReportViewSet.as_view({"get": "reported_messages"})
    ),
    # application
    path("application", ApplicationViewSet.as_view({"get": "retrieve"})),
    path(
        "application/settings",
        ApplicationViewSet.as_view({"get": "retrieve_settings", "put": "update_settings"}),
    ),
    # current user and chat sessions (live chat, issue 3)
    path("me", MeViewSet.as_view({"get": "retrieve"}), name="me"),
    path("me/unread", MeViewSet.as_view({"get": "unread"}), name="me-unread"),
    path("chat-sessions", ChatSessionViewSet.as_view({"get": "list"}), name="chat-sessions"),
    # threads
    path("threads/<str:id>", T({"get": "retrieve"})),
    path("threads/<str:id>/messages", T({"get": "messages", "post": "send_message"})),
]
