"""Permission matrices over every endpoint: tokens, tenancy, unknown and malformed ids."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import World, assert_api_error, assert_wire, snapshot
from tests.api.endpoints import ALL_ENDPOINTS, COLLECTION_ENDPOINTS, ID_ENDPOINTS, Endpoint

names = lambda endpoints: [e.name for e in endpoints]  # noqa: E731


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=names(ALL_ENDPOINTS))
def test_the_application_succeeds_on_every_endpoint(
    endpoint: Endpoint, world: World, as_role: Callable[[str], APIClient]
) -> None:
    response = endpoint.send(as_role("application"), world)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    assert_wire(response.json())


def test_head_users_answers_without_a_body(world: World, app_client: APIClient) -> None:
    found = app_client.head("/v1/users?name=jane")
    missing = app_client.head("/v1/users?name=nobody")
    assert (found.status_code, missing.status_code) == (200, 404)
    assert found.content == b"" and missing.content == b""


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=names(ALL_ENDPOINTS))
@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token"], ids=["no-token", "bad-token"]
)
def test_missing_or_bad_tokens_are_401_and_write_nothing(
    endpoint: Endpoint, authorization: str | None, world: World
) -> None:
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    before = snapshot()
    response = endpoint.send(client, world)
    if endpoint.method == "head":
        assert response.status_code == 401
    else:
        assert_api_error(response, 401, "UnauthorizedError")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


@pytest.mark.parametrize(
    "authorization",
    ["Bearer ckut_forged", "Basic dXNlcjpwYXNz", "Bearer", "bearer  ", "Token abc"],
)
def test_malformed_authorization_headers_are_401(
    authorization: str, world: World, api: APIClient
) -> None:
    api.credentials(HTTP_AUTHORIZATION=authorization)
    before = snapshot()
    assert_api_error(api.post("/v1/channels", {"type": "PUBLIC", "name": "x"}, format="json"), 401)
    assert_api_error(api.get(f"/v1/channels/{world.general.pk}"), 401)
    assert snapshot() == before


def test_an_expired_application_token_is_401(world: World) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from tests.conftest import application_token

    token = application_token(world.application)
    AccessToken.objects.filter(token=token).update(expires=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_api_error(client.get("/v1/channels"), 401)


def test_a_revoked_user_token_is_401(world: World, app_client: APIClient) -> None:
    minted = app_client.post(f"/v1/users/{world.john.pk}/access-tokens").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {minted['accessToken']}")
    assert client.get("/v1/channels").status_code == 200
    assert app_client.delete(f"/v1/users/{world.john.pk}/access-tokens").json() == {"count": 1}
    assert_api_error(client.get("/v1/channels"), 401)


@pytest.mark.parametrize("endpoint", ID_ENDPOINTS, ids=names(ID_ENDPOINTS))
def test_another_applications_token_reads_our_ids_as_missing(
    endpoint: Endpoint, world: World, other_app_client: APIClient
) -> None:
    before = snapshot()
    response = endpoint.send(other_app_client, world)
    assert_api_error(response, 404, "ResourceNotFoundError")
    assert snapshot() == before


@pytest.mark.parametrize(
    "endpoint",
    [e for e in COLLECTION_ENDPOINTS if e.method == "get"],
    ids=names([e for e in COLLECTION_ENDPOINTS if e.method == "get"]),
)
def test_another_applications_lists_hold_none_of_our_rows(
    endpoint: Endpoint, world: World, other_app_client: APIClient
) -> None:
    body = endpoint.send(other_app_client, world).json()
    if "_embedded" in body:
        assert all(not items for items in body["_embedded"].values())
    else:
        assert body.get("id") != world.application.pk


def test_another_applications_delete_all_leaves_our_messages(
    world: World, other_app_client: APIClient
) -> None:
    before = snapshot()
    assert other_app_client.delete("/v1/messages").status_code == 200
    assert snapshot() == before


def _id_cases() -> list[tuple[Endpoint, str]]:
    return [(endpoint, key) for endpoint in ID_ENDPOINTS for key in endpoint.ids]


BAD_IDS = [
    "999999999",
    "abc",
    "1.5",
    "-1",
    "0",
    "0x1f",
    "%C2%B2",
    "%EF%BC%91",
    "1e3",
    "99999999999999999999999",
    "%20",
    "9223372036854775808",
]


@pytest.mark.parametrize(
    ("endpoint", "key"), _id_cases(), ids=[f"{e.name}-{k}" for e, k in _id_cases()]
)
def test_unknown_and_non_integer_ids_are_404_and_write_nothing(
    endpoint: Endpoint, key: str, world: World, as_role: Callable[[str], APIClient]
) -> None:
    client = as_role("application")
    before = snapshot()
    for bad in ("999999999", "abc"):
        assert_api_error(endpoint.send(client, world, **{key: bad}), 404)
    assert snapshot() == before


@pytest.mark.parametrize(
    "endpoint",
    [e for e in ID_ENDPOINTS if e.method != "get"],
    ids=names([e for e in ID_ENDPOINTS if e.method != "get"]),
)
def test_every_malformed_id_shape_is_404_and_writes_nothing(
    endpoint: Endpoint, world: World, as_role: Callable[[str], APIClient]
) -> None:
    client = as_role("application")
    before = snapshot()
    for bad in BAD_IDS:
        for key in endpoint.ids:
            assert_api_error(endpoint.send(client, world, **{key: bad}), 404)
    assert snapshot() == before


def test_unknown_routes_and_trailing_slashes_are_json_404s(app_client: APIClient) -> None:
    for path in ("/v1/nope", "/v1/channels/", "/v1/users/", "/v1/channels/1/nope"):
        response = app_client.get(path)
        assert_api_error(response, 404)


def test_unsupported_methods_are_405_in_the_error_shape(app_client: APIClient) -> None:
    assert_api_error(app_client.put("/v1/channels", {}, format="json"), 405)


def _accept(client: APIClient, accept: str) -> Any:
    return client.get("/v1/application", HTTP_ACCEPT=accept)


@pytest.mark.parametrize(
    "accept",
    ["application/json", "application/hal+json;charset=UTF-8", "application/hal+json", "*/*"],
)
def test_json_and_hal_json_are_both_acceptable(
    accept: str, world: World, app_client: APIClient
) -> None:
    response = _accept(app_client, accept)
    assert response.status_code == 200
    assert response.json()["id"] == world.application.pk
