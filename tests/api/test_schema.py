"""OpenAPI 3 at /v1/schema with the contract's operation names; Swagger UI at /v1/docs from our
own static files; and the product doc's curl calls, verbatim but for the host."""

import re
from typing import Any

import pytest
import yaml
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from tests.api.conftest import World, assert_page
from tests.api.endpoints import ALL_ENDPOINTS

# Every operation of chatkitty-server-side-sdk 1.0.0, by the SDK method name (contract section 2).
SDK_OPERATIONS = {
    # channels_api (16)
    "create_channel": ("post", "/v1/channels"),
    "retrieve_channels": ("get", "/v1/channels"),
    "retrieve_channel": ("get", "/v1/channels/{id}"),
    "update_channel": ("patch", "/v1/channels/{id}"),
    "delete_channel": ("delete", "/v1/channels/{id}"),
    "add_channel_member": ("post", "/v1/channels/{id}/members"),
    "retrieve_channel_members": ("get", "/v1/channels/{id}/members"),
    "remove_channel_member": ("delete", "/v1/channels/{id}/members/{user_id}"),
    "add_channel_moderator": ("post", "/v1/channels/{id}/moderators"),
    "retrieve_channel_memberships": ("get", "/v1/channels/{id}/memberships"),
    "retrieve_channel_participants": ("get", "/v1/channels/{id}/participants"),
    "send_channel_invite": ("post", "/v1/channels/{id}/invites"),
    "retrieve_channel_invites": ("get", "/v1/channels/{id}/invites"),
    "send_channel_message": ("post", "/v1/channels/{id}/messages"),
    "retrieve_channel_messages": ("get", "/v1/channels/{id}/messages"),
    "send_channel_event": ("post", "/v1/channels/{id}/events"),
    # users_api (13)
    "create_user": ("post", "/v1/users"),
    "retrieve_users": ("get", "/v1/users"),
    "check_user_exists": ("head", "/v1/users"),
    "retrieve_user": ("get", "/v1/users/{id}"),
    "update_user": ("patch", "/v1/users/{id}"),
    "delete_user": ("delete", "/v1/users/{id}"),
    "retrieve_user_channels": ("get", "/v1/users/{id}/channels"),
    "retrieve_user_messages": ("get", "/v1/users/{id}/messages"),
    "retrieve_user_notifications": ("get", "/v1/users/{id}/notifications"),
    "update_user_display_picture": ("post", "/v1/users/{id}/display-picture"),
    "set_user_secret": ("put", "/v1/users/{id}/secrets/{name}"),
    "retrieve_user_secret": ("get", "/v1/users/{id}/secrets/{name}"),
    "remove_user_secret": ("delete", "/v1/users/{id}/secrets/{name}"),
    # messages_api (5)
    "retrieve_messages": ("get", "/v1/messages"),
    "retrieve_message": ("get", "/v1/messages/{id}"),
    "retrieve_message_read_receipts": ("get", "/v1/messages/{id}/read-receipts"),
    "delete_message": ("delete", "/v1/messages/{id}"),
    "delete_messages": ("delete", "/v1/messages"),
    # application_api (3)
    "retrieve_authenticated_application": ("get", "/v1/application"),
    "retrieve_authenticated_application_settings": ("get", "/v1/application/settings"),
    "update_authenticated_application_settings": ("put", "/v1/application/settings"),
    # threads_api (3)
    "retrieve_thread": ("get", "/v1/threads/{id}"),
    "retrieve_thread_messages": ("get", "/v1/threads/{id}/messages"),
    "send_thread_message": ("post", "/v1/threads/{id}/messages"),
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    generated: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return generated


def operations(schema: dict[str, Any]) -> dict[str, tuple[str, str]]:
    found = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method, path)
    return found


def test_the_schema_is_valid_openapi_3(schema: dict[str, Any]) -> None:
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_every_sdk_operation_is_in_the_schema_by_its_contract_name(schema: dict[str, Any]) -> None:
    found = operations(schema)
    for name, (method, path) in SDK_OPERATIONS.items():
        assert found.get(name) == (method, path), name
    assert len(SDK_OPERATIONS) == 40


def test_every_tested_endpoint_is_documented(schema: dict[str, Any]) -> None:
    found = operations(schema)
    for endpoint in ALL_ENDPOINTS:
        assert endpoint.name in found, endpoint.name


def test_schema_shapes(schema: dict[str, Any]) -> None:
    components = schema["components"]
    assert "application_authorization" in components["securitySchemes"]
    assert (
        components["securitySchemes"]["application_authorization"]["flows"]["clientCredentials"][
            "tokenUrl"
        ]
        == "/oauth/token"
    )
    page = components["schemas"]["PagedModelChannelResource"]["properties"]
    assert set(page) == {"_embedded", "_links", "page"}
    assert set(components["schemas"]["PageMetadata"]["required"]) == {
        "size",
        "totalElements",
        "totalPages",
        "number",
    }
    patch = schema["paths"]["/v1/channels/{id}"]["patch"]["requestBody"]["content"]
    assert "application/json+merge-patch" in patch
    list_params = {p["name"] for p in schema["paths"]["/v1/channels"]["get"]["parameters"]}
    assert {
        "page",
        "size",
        "sort",
        "type",
        "members",
        "startTime",
        "endTime",
        "properties",
    } <= list_params
    size = next(
        p for p in schema["paths"]["/v1/channels"]["get"]["parameters"] if p["name"] == "size"
    )
    assert size["schema"]["maximum"] == 100


def test_schema_endpoint_serves_without_credentials(db: Any) -> None:
    response = Client().get("/v1/schema")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["paths"]["/v1/channels"]["post"]["operationId"] == "create_channel"
    as_json = Client().get("/v1/schema?format=json")
    assert as_json.json()["info"]["title"]


def test_docs_page_uses_only_our_own_static_files(db: Any) -> None:
    client = Client()
    page = client.get("/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    for source in sources:
        assert not source.startswith(("http:", "https:", "//")), source
    assert "<style>" not in html and "<script>" not in html  # CSP: script-src/style-src 'self'
    assert any("swagger-ui-bundle.js" in source for source in sources)
    script_url = next(s for s in sources if "script" in s and "swagger-ui" not in s)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert "/v1/schema" in script.content.decode()


# --- the product doc's curl calls (shared/reference/chatkitty-channels-doc.txt) ---------------


def test_product_doc_create_channel(world: World, app_client: APIClient) -> None:
    # curl --location --request 'POST' 'https://api.chatkitty.com/v1/channels' \
    #   -H 'accept: application/json' -H 'Authorization: Bearer ACCESS-TOKEN' \
    #   -H 'Content-Type: application/json' \
    #   -d '{"type": "PUBLIC", "name": "b0a0bd55-921a-4f72-8ee3-f26c6fda0bb7"}'
    response = app_client.post(
        "/v1/channels",
        '{\n"type": "PUBLIC",\n"name": "b0a0bd55-921a-4f72-8ee3-f26c6fda0bb7"\n}',
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json()["name"] == "b0a0bd55-921a-4f72-8ee3-f26c6fda0bb7"


def test_product_doc_list_channels(world: World, app_client: APIClient) -> None:
    # curl --location --request 'GET' 'https://api.chatkitty.com/v1/channels?page=0&size=5' \
    #   -H 'accept: application/json' -H 'Authorization: Bearer ACCESS-TOKEN'
    response = app_client.get("/v1/channels?page=0&size=5", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert_page(response.json(), "channels", size=5, number=0, total=3)


def test_product_doc_delete_channel(world: World, app_client: APIClient) -> None:
    # curl -X DELETE "https://api.chatkitty.com/v1/applications/APP-ID/channels/CHANNEL-ID" \
    #   -H  "Authorization: Bearer OAUTH-TOKEN"
    url = f"/v1/applications/{world.application.pk}/channels/{world.general.pk}"
    response = app_client.delete(url)
    assert response.status_code == 200
    assert app_client.get(f"/v1/channels/{world.general.pk}").status_code == 404
