"""Template filters of the web chat pages."""

from typing import Any
from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def safe_url(value: Any) -> str:
    """`value` if it is an http(s) URL, else "" (a `javascript:` link must never render)."""
    if not isinstance(value, str):
        return ""
    try:
        scheme = urlsplit(value.strip()).scheme.lower()
    except ValueError:
        return ""
    return value.strip() if scheme in ("http", "https") else ""
