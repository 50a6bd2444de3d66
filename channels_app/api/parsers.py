import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """JSON bodies must be objects; NaN/Infinity and invalid UTF-8 are malformed."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if not raw:
            return {}
        if len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise ParseError("The request body is too large.")
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"Malformed JSON: {error}") from None
        if not isinstance(data, dict):
            raise ParseError("The request body must be a JSON object.")
        return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class MergePatchParser(StrictJSONParser):
    """The contract's own spelling of the merge-patch media type."""

    media_type = "application/json+merge-patch"


class MergePatchStandardParser(StrictJSONParser):
    media_type = "application/merge-patch+json"
