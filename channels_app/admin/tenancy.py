"""Operators and tenancy for every ModelAdmin.

Superusers see every application. A staff account listed in `Application.operators` sees and
changes only its applications' rows: querysets, change pages (404 otherwise), search and
autocomplete (they start from `get_queryset`), filter choices, actions and form choices. Being an
operator *is* the permission here: Django model permissions are not consulted for these models.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import cached_property

from ..actors import Actor
from ..exceptions import ChatError
from ..models import Application, Channel, ChatUser, Message

M = TypeVar("M", bound=Model)

COUNT_CAP = 10_000


def operated_application_ids(request: HttpRequest) -> frozenset[int] | None:
    """None for superusers (everything), else the ids of the applications the staff account
    operates (empty for anyone else). Computed once per request."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return frozenset()
    if user.is_superuser:
        return None
    cached: frozenset[int] | None = getattr(request, "_operated_application_ids", None)
    if cached is None:
        cached = frozenset(Application.objects.filter(operators=user).values_list("pk", flat=True))
        request._operated_application_ids = cached  # type: ignore[attr-defined]
    return cached


def scoped_applications(request: HttpRequest) -> QuerySet[Application]:
    ids = operated_application_ids(request)
    queryset = Application.objects.order_by("pk")
    return queryset if ids is None else queryset.filter(pk__in=ids)


def operator_actor(request: HttpRequest, application: Application) -> Actor:
    return Actor.for_operator(application, request.user)  # type: ignore[arg-type]


class BoundedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows (`SELECT COUNT(*) FROM (... LIMIT n)`), never the whole
    table. Beyond the cap the pages stop there (deep OFFSETs are slow too: filter instead) and the
    page says "more than"; for an unfiltered PostgreSQL table it adds the planner's estimate."""

    capped = False
    estimate: int | None = None

    @property
    def cap(self) -> int:
        return COUNT_CAP

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        bounded = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
        if bounded > COUNT_CAP:
            self.capped = True
            self.estimate = _estimated_rows(queryset)
        return bounded


def _estimated_rows(queryset: QuerySet[Any]) -> int | None:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or queryset.query.where:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] and row[0] > 0 else None


class ReasonActionForm(helpers.ActionForm):
    reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Reason",
        widget=forms.TextInput(
            attrs={"placeholder": "optional, kept in the audit log", "size": 28}
        ),
    )


class ApplicationFilter(admin.SimpleListFilter):
    """Choices are the applications the viewer may see, nothing else."""

    title = "application"
    parameter_name = "application"

    def __init__(
        self,
        request: HttpRequest,
        params: dict[str, Any],
        model: type[Model],
        model_admin: Any,
    ) -> None:
        self.tenant_field: str = model_admin.tenant_field
        super().__init__(request, params, model, model_admin)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(pk), name)
            for pk, name in scoped_applications(request).values_list("pk", "name")[:100]
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(**{f"{self.tenant_field}_id": int(value)})
        return queryset


class TenantAdmin(admin.ModelAdmin):
    """Scopes everything to the viewer's applications. `tenant_field` is the path to the row's
    Application foreign key (`application`, `channel__application`, ...)."""

    tenant_field = "application"
    can_add = False
    can_change = False
    paginator = BoundedCountPaginator
    show_full_result_count = False
    action_form = ReasonActionForm
    list_per_page = 50
    add_form: type[forms.ModelForm] | None = None
    add_fieldsets: Any = None

    # --- scope -----------------------------------------------------------------------------------

    def scope(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        ids = operated_application_ids(request)
        if ids is None:
            return queryset
        return queryset.filter(**{f"{self.tenant_field}_id__in": ids})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scope(request, super().get_queryset(request))

    def tenant_id_of(self, obj: Model) -> int:
        *path, last = self.tenant_field.split("__")
        target: Any = obj
        for part in path:
            target = getattr(target, part)
        return int(getattr(target, f"{last}_id"))

    def has_tenant_access(self, request: HttpRequest, obj: Model | None = None) -> bool:
        ids = operated_application_ids(request)
        if ids is None:
            return True
        if not ids:
            return False
        return obj is None or self.tenant_id_of(obj) in ids

    # --- permissions: operators get them from their applications ---------------------------------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_tenant_access(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_tenant_access(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.can_add and self.has_tenant_access(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.can_change and self.has_tenant_access(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Deletes go through services (actions); the generic delete view would bypass them and
        # collect every related row of a big channel onto one page.
        return False

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        # Another application's id reads exactly like a missing one.
        raise Http404

    # --- search: bounded, index-friendly; a number also finds the row's id -----------------------

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        results, may_have_duplicates = super().get_search_results(request, queryset, term)
        if term.isdigit() and len(term) <= 18:
            results = results | queryset.filter(pk=int(term))
        return results, may_have_duplicates

    # --- forms -----------------------------------------------------------------------------------

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        ids = operated_application_ids(request)
        model = db_field.related_model
        if ids is not None:
            if model is Application:
                kwargs["queryset"] = Application.objects.filter(pk__in=ids)
            elif model in (ChatUser, Channel, Message):
                kwargs["queryset"] = model.objects.filter(application_id__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None and self.add_fieldsets:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None and self.add_form is not None:
            return ()
        return super().get_readonly_fields(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None and self.add_form is not None:
            kwargs.setdefault("form", self.add_form)
        form = super().get_form(request, obj, change=change, **kwargs)
        # The form calls the service itself and needs the operator and the row.
        return type(form.__name__, (form,), {"request": request, "admin_object": obj})

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """The form's service call already saved everything (see ServiceModelForm)."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing: related rows change only through services."""

    # --- actions ---------------------------------------------------------------------------------

    def run_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[M],
        call: Callable[[Actor, list[M], str], int],
        done: str,
    ) -> None:
        """Run `call(actor, rows, reason)` once per application of the selected rows; report how
        many rows it affected (`done` takes `{count}`) or the service's error."""
        reason = request.POST.get("reason", "")
        total = 0
        for application, rows in group_by_application(self, queryset):
            try:
                total += call(operator_actor(request, application), rows, reason)
            except ChatError as error:
                self.message_user(request, f"{application.name}: {error.message}", messages.ERROR)
        self.message_user(request, done.format(count=total), messages.SUCCESS)


def group_by_application[R: Model](
    model_admin: TenantAdmin, rows: Iterable[R]
) -> list[tuple[Application, list[R]]]:
    grouped: dict[int, list[R]] = defaultdict(list)
    for row in rows:
        grouped[model_admin.tenant_id_of(row)].append(row)
    applications = Application.objects.in_bulk(list(grouped))
    return [(applications[pk], grouped[pk]) for pk in sorted(grouped)]
