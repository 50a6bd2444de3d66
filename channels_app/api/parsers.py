"""JSON request bodies: strict objects, size-limited, with the contract's merge-patch spellings."""

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class PayloadTooLarge(APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class StrictJSONParser(JSONParser):
    """JSON bodies must be objects; NaN/Infinity and invalid UTF-8 are malformed; bodies over
    `DATA_UPLOAD_MAX_MEMORY_SIZE` (1 MiB) are 413 (DRF reads the raw stream, which Django's own
    limit does not guard)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = _content_length(request)
        if limit is not None and declared is not None and declared > limit:
            raise PayloadTooLarge(f"The request body must be at most {limit} bytes.")
        raw = stream.read(limit + 1 if limit is not None else -1) if stream is not None else b""
        if not raw:
            return {}
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge(f"The request body must be at most {limit} bytes.")
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"Malformed JSON: {error}") from None
        if not isinstance(data, dict):
            raise ParseError("The request body must be a JSON object.")
        return data


def _content_length(request: Any) -> int | None:
    if request is None:
        return None
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class MergePatchParser(StrictJSONParser):
    """The contract's own spelling of the merge-patch media type."""

    media_type = "application/json+merge-patch"


class MergePatchStandardParser(StrictJSONParser):
    media_type = "application/merge-patch+json"
