"""Who is connecting: a websocket handshake's credentials resolved to a chat user, or a refusal.

Shared by every protocol adapter. Credentials, in order: `Authorization: Bearer <user token>`,
`?token=<user token>`, guest `?apiKey=&username=` (only where the application allows guests), the
Django session cookie of a web login (a ChatUser linked through `ChatUser.account`). The `Origin`
header, when sent, must be one of ALLOWED_HOSTS; cookie sessions require it (cross-site websocket
hijacking), and the opaque origin `null` is refused.
"""

from dataclasses import dataclass
from datetime import datetime
from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from .. import ratelimit
from ..actors import Actor
from ..exceptions import ChatError, RateLimited
from ..models import Application, ChatUser, UserAccessToken
from ..services import users as user_services

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RATE_LIMITED = 4429


class Refused(Exception):
    """The handshake is refused: the socket is closed with `code`."""

    def __init__(self, code: int, error: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.error = error
        self.message = message


def unauthenticated(message: str) -> Refused:
    return Refused(CLOSE_UNAUTHENTICATED, "UnauthorizedError", message)


def forbidden(message: str) -> Refused:
    return Refused(CLOSE_FORBIDDEN, "AccessDeniedError", message)


@dataclass(frozen=True, slots=True)
class Credential:
    user: ChatUser
    kind: str  # "token", "session" or "guest"
    token_id: int | None = None
    expires: datetime | None = None
    session_key: str | None = None  # cookie sessions: the web login's session

    def token_still_valid(self) -> bool:
        """For token sessions: not revoked, not expired (one query). For cookie sessions: the
        web login is still signed in."""
        if self.session_key is not None:
            engine = import_module(settings.SESSION_ENGINE)
            return engine.SessionStore(session_key=self.session_key).get(SESSION_KEY) is not None
        if self.token_id is None:
            return True
        return UserAccessToken.objects.filter(
            pk=self.token_id, revoked_time__isnull=True, expires__gt=timezone.now()
        ).exists()


def headers_of(scope: dict[str, Any]) -> dict[str, str]:
    return {
        name.decode("latin1").lower(): value.decode("latin1")
        for name, value in scope.get("headers", [])
    }


def query_of(scope: dict[str, Any]) -> dict[str, str]:
    raw = scope.get("query_string", b"")
    parsed = parse_qs(raw.decode("latin1") if isinstance(raw, bytes) else raw)
    return {key: values[-1] for key, values in parsed.items()}


def origin_allowed(origin: str) -> bool:
    if origin == "null":
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    domain, _port = split_domain_port(parts.netloc)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def authenticate(scope: dict[str, Any]) -> Credential:
    """Resolve the handshake (sync: run it through `database_sync_to_async`), then count the
    connect against the user's and the application's connect rate limits."""
    credential = _credential(scope)
    try:
        ratelimit.check_connect(Actor.for_user(credential.user))
    except RateLimited as error:
        raise Refused(CLOSE_RATE_LIMITED, error.error, error.message) from None
    return credential


def _credential(scope: dict[str, Any]) -> Credential:
    headers = headers_of(scope)
    query = query_of(scope)
    origin = headers.get("origin")
    if origin is not None and not origin_allowed(origin):
        raise forbidden("This origin may not open chat sessions.")

    token = None
    authorization = headers.get("authorization", "")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthenticated("Authorization must be `Bearer <token>`.")
        token = value.strip()
    elif query.get("token"):
        token = query["token"]
    if token is not None:
        return _token_credential(token)

    if query.get("apiKey") is not None or query.get("username") is not None:
        return _guest_credential(
            query.get("apiKey", ""), query.get("username", ""), query.get("displayName")
        )

    session_key = _session_key(headers.get("cookie", ""))
    if session_key:
        if origin is None:
            raise forbidden("A cookie session needs an Origin header.")
        return _session_credential(session_key)
    raise unauthenticated("A user token, guest credentials or a web login is required.")


def _token_credential(token: str) -> Credential:
    record = (
        UserAccessToken.objects.select_related("user__application")
        .filter(token_checksum=user_services.token_checksum(token))
        .first()
    )
    if record is None or record.revoked_time is not None or record.expires <= timezone.now():
        raise unauthenticated("The access token is invalid, expired or revoked.")
    if not record.user.is_active:
        raise forbidden("This user is deactivated.")
    return Credential(user=record.user, kind="token", token_id=record.pk, expires=record.expires)


def _guest_credential(api_key: str, username: str, display_name: str | None) -> Credential:
    application = Application.objects.filter(api_key=api_key).first() if api_key else None
    if application is None:
        raise unauthenticated("Unknown application API key.")
    try:
        user = user_services.get_or_create_guest(
            application=application, username=username, display_name=display_name
        )
    except ChatError as error:
        if error.status == 400:
            raise unauthenticated(error.message) from None
        raise forbidden(error.message) from None
    user.application = application
    return Credential(user=user, kind="guest")


def _session_key(cookie_header: str) -> str | None:
    if not cookie_header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except Exception:
        return None
    morsel = cookies.get(settings.SESSION_COOKIE_NAME)
    return morsel.value if morsel is not None else None


def _session_credential(session_key: str) -> Credential:
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore(session_key=session_key)
    try:
        account_id = session[SESSION_KEY]
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        raise unauthenticated("The web session is not logged in.") from None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        raise unauthenticated("The web session is not logged in.")
    account = load_backend(backend_path).get_user(account_id)
    if account is None or not constant_time_compare(
        session.get(HASH_SESSION_KEY, ""), account.get_session_auth_hash()
    ):
        raise unauthenticated("The web session has expired.")
    user = ChatUser.objects.select_related("application").filter(account=account).first()
    if user is None:
        raise unauthenticated("This login has no chat user.")
    if not user.is_active:
        raise forbidden("This user is deactivated.")
    return Credential(user=user, kind="session", session_key=session_key)
