from rest_framework.renderers import JSONRenderer


class ApiJSONRenderer(JSONRenderer):
    """`application/json`, compact; HAL clients asking for `application/hal+json` get the same."""

    media_type = "application/json"
    charset = None


class HalJSONRenderer(JSONRenderer):
    media_type = "application/hal+json"
