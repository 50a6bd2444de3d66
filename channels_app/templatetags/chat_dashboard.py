"""`{% chat_dashboard as dash %}`: the admin landing page's numbers for the viewer."""

from typing import Any

from django import template

from ..admin.dashboard import CHART_HEIGHT, CHART_WIDTH, dashboard
from ..admin.tenancy import operated_application_ids

register = template.Library()


@register.simple_tag(takes_context=True)
def chat_dashboard(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    stats, more = dashboard(operated_application_ids(request))
    return {
        "applications": stats,
        "more": more,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "superuser": request.user.is_superuser,
    }
