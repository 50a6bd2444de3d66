"""Sign in, sign out and (where the application allows it) sign up."""

from typing import Any

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from ..exceptions import ChatError
from ..services.accounts import sign_up
from .forms import LoginForm, SignupForm, add_chat_error
from .site import site_application


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        application = site_application()
        context["application"] = application
        context["signup_enabled"] = application is not None and application.signup_enabled
        return context


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET): the header's sign-out button is a form."""


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    application = site_application()
    if application is None or not application.signup_enabled:
        raise Http404("Sign-up is closed.")
    if request.user.is_authenticated:
        return redirect("web:channel-list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = sign_up(
                application=application,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"] or None,
            )
        except ChatError as error:
            add_chat_error(
                form,
                error,
                {"username": "username", "displayName": "display_name", "password": "password1"},
            )
        else:
            assert user.account is not None
            login(request, user.account, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("web:channel-list")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "web/signup.html", {"form": form, "application": application}, status=status
    )
