"""Admin forms that save through a service, so they apply exactly the API's rules.

The service runs where a ModelForm would validate its instance (`_post_clean`), inside the admin's
transaction: a service error (InvalidInput, Conflict, ...) becomes a form error and nothing is
written; success leaves the saved row in `self.instance` and the admin's `save_model` does nothing.
"""

from typing import Any

from django import forms
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.db.models import Model
from django.http import HttpRequest

from ..actors import Actor
from ..exceptions import ChatError
from ..models import Application


class ServiceModelForm(forms.ModelForm):
    request: HttpRequest
    admin_object: Model | None

    def apply(self) -> Model:
        """Call the service with `self.cleaned_data`; return the saved row."""
        raise NotImplementedError

    def actor(self, application: Application) -> Actor:
        return Actor.for_operator(application, self.request.user)  # type: ignore[arg-type]

    def _post_clean(self) -> None:
        if self.errors:  # `full_clean` has filled them by now
            return
        try:
            self.instance = self.apply()
        except ChatError as error:
            self.add_error(None, error.message)

    def save(self, commit: bool = True) -> Any:
        return self.instance

    def save_m2m(self) -> None:
        """Nothing: the service saved everything."""


def merge_patch_from(old: Any, new: Any) -> Any:
    """The JSON merge patch that turns `old` into `new` (so a form's full JSON replaces it)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key in old and isinstance(old[key], dict) and isinstance(value, dict):
            patch[key] = merge_patch_from(old[key], value)
        elif old.get(key, object()) != value:
            patch[key] = value
    return patch


def user_autocomplete_multiple(admin_site: Any) -> AutocompleteSelectMultiple:
    """An autocomplete over chat users for a field that is not a model field (the lookup goes
    through Membership.user, so it searches the ChatUser admin, scoped as usual)."""
    from ..models import Membership

    return AutocompleteSelectMultiple(Membership._meta.get_field("user"), admin_site)
