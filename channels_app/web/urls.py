from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="channel-list"),
    path("login", views.login_placeholder, name="login"),
]
