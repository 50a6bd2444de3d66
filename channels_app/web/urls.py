from django.urls import path

from . import auth_views, views

urlpatterns = [
    path("", views.channel_list, name="channel-list"),
    path("login", auth_views.LoginView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path("signup", auth_views.signup, name="signup"),
    path("unread", views.unread, name="unread"),
    path("channels/new", views.channel_create, name="channel-create"),
    path("channels/<int:channel_id>", views.channel_detail, name="channel"),
    path("channels/<int:channel_id>/history", views.channel_history, name="channel-history"),
    path("channels/<int:channel_id>/messages", views.message_create, name="message-create"),
    path("channels/<int:channel_id>/join", views.channel_join, name="channel-join"),
    path("channels/<int:channel_id>/leave", views.channel_leave, name="channel-leave"),
    path("channels/<int:channel_id>/members", views.member_add, name="member-add"),
    path("channels/<int:channel_id>/delete", views.channel_delete, name="channel-delete"),
]
