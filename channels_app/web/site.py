"""Which application the web pages serve, and who is signed in."""

from functools import wraps
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..actors import Actor
from ..models import Application, ChatUser


def site_application() -> Application | None:
    """`WEB_APPLICATION_ID` when set, else the first application. Sign-in and sign-up resolve
    usernames within it; once signed in, people see their own chat user's application."""
    application_id = getattr(settings, "WEB_APPLICATION_ID", None)
    queryset = Application.objects.order_by("id")
    if application_id:
        return queryset.filter(pk=application_id).first()
    return queryset.first()


class ChatRequest(HttpRequest):
    chat_user: ChatUser
    actor: Actor


class ChatView(Protocol):
    def __call__(self, request: ChatRequest, *args: Any, **kwargs: Any) -> HttpResponse: ...


def chat_view(view: ChatView) -> Any:
    """Signed in with a login linked to an active chat user: sets `request.chat_user` and
    `request.actor`. Logins without one (an operator's) get a page saying so."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        chat_user = (
            ChatUser.objects.select_related("application")
            .filter(account_id=request.user.pk)
            .first()
        )
        if chat_user is None or not chat_user.is_active:
            return render(
                request, "web/no_chat_user.html", {"deactivated": chat_user is not None}, status=403
            )
        request.chat_user = chat_user  # type: ignore[attr-defined]
        request.actor = Actor.for_user(chat_user)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)  # type: ignore[arg-type]

    return wrapper
