"""Web forms, and the one mapping from the error vocabulary (`exceptions.py`) to form errors."""

import re
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from ..exceptions import ChatError, Conflict
from ..models import Channel
from ..services.accounts import clean_password, login_name
from ..validation import MAX_NAME_LENGTH
from .site import site_application

_FIELD_LABELS = {
    "name": "Name",
    "displayName": "Display name",
    "body": "Message",
    "username": "Username",
    "password": "Password",
    "type": "Type",
    "members": "People",
}
_BACKTICKED = re.compile(r"`([A-Za-z.]+)`")


def human_message(error: ChatError) -> str:
    """The service's message without the API's backticked field names."""
    return _BACKTICKED.sub(
        lambda match: _FIELD_LABELS.get(match.group(1), match.group(1)), error.message
    )


def add_chat_error(
    form: forms.Form, error: ChatError, fields: dict[str, str], *, default: str | None = None
) -> None:
    """Put `error` next to the field it is about. `fields` maps the service's field names
    (`displayName`) to the form's (`display_name`); a Conflict is about `name` (or `username`);
    anything else goes to `default` (None: the whole form)."""
    match = _BACKTICKED.search(error.message)
    field = match.group(1).split(".")[0] if match else None
    if field not in fields and isinstance(error, Conflict):
        field = "name" if "name" in fields else "username"
    form.add_error(fields.get(field or "", default), human_message(error))


class StackedLabels:
    """Labels sit above their fields: no trailing colon."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginForm(StackedLabels, AuthenticationForm):
    """Sign-in with the plain chat user name, resolved within the site's application."""

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        application = site_application()
        return login_name(application, username) if application is not None else username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Show people what they typed, not the stored login.
        if self.errors and "username" in self.cleaned_data:
            self.cleaned_data["username"] = self.data.get("username", "")
        return cleaned


class SignupForm(StackedLabels, forms.Form):
    username = forms.CharField(
        max_length=MAX_NAME_LENGTH,
        help_text="How others mention you; letters, digits and punctuation.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(
        max_length=MAX_NAME_LENGTH,
        required=False,
        help_text="Optional: shown beside your messages.",
    )
    password1 = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Password (again)",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_password1(self) -> str:
        try:
            return clean_password(self.cleaned_data["password1"])
        except ChatError as error:
            raise forms.ValidationError(human_message(error)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class ChannelForm(StackedLabels, forms.Form):
    TYPE_CHOICES = [
        (Channel.Type.PUBLIC, "Public: anyone here can find and join it"),
        (Channel.Type.PRIVATE, "Private: only the people you add"),
        (Channel.Type.DIRECT, "Direct: a conversation with 1 to 9 people"),
    ]
    type = forms.ChoiceField(choices=TYPE_CHOICES, widget=forms.RadioSelect, initial="PUBLIC")
    name = forms.CharField(
        max_length=MAX_NAME_LENGTH,
        required=False,
        help_text="Public and private channels: a unique name, e.g. design-team.",
        widget=forms.TextInput(attrs={"autocapitalize": "none"}),
    )
    display_name = forms.CharField(
        max_length=MAX_NAME_LENGTH,
        required=False,
        help_text="Optional: the title people see, e.g. Design team.",
    )
    members = forms.CharField(
        label="People",
        max_length=2000,
        required=False,
        help_text="Direct channels: usernames of 1 to 9 people, separated by commas or spaces.",
        widget=forms.TextInput(attrs={"autocapitalize": "none"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("type")
        if kind in (Channel.Type.PUBLIC, Channel.Type.PRIVATE) and not cleaned.get("name"):
            self.add_error("name", "Give the channel a name.")
        if kind == Channel.Type.DIRECT:
            names = self.member_names()
            if not names:
                self.add_error("members", "Pick at least one person.")
            elif len(names) > 9:
                self.add_error("members", "A direct channel has at most 9 other people.")
        return cleaned

    def member_names(self) -> list[str]:
        raw = self.cleaned_data.get("members") or ""
        names: list[str] = []
        for part in re.split(r"[\s,]+", raw):
            name = part.removeprefix("@")
            if name and name not in names:
                names.append(name)
        return names


class MessageForm(StackedLabels, forms.Form):
    body = forms.CharField(
        label="Message",
        strip=False,
        max_length=settings.CHAT_MAX_MESSAGE_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        error_messages={"required": "Write a message first."},
    )
    # One key per rendered composer: a double submit stores the message once.
    idempotency_key = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError("Write a message first.")
        return body


class AddMemberForm(StackedLabels, forms.Form):
    username = forms.CharField(
        label="Add someone",
        max_length=MAX_NAME_LENGTH,
        widget=forms.TextInput(attrs={"autocapitalize": "none", "placeholder": "username"}),
    )
