"""SimplyBook.me's JSON-RPC 2.0 "User API": log-in now; clients and bookings come with the CRM sync.

Wire format (api-notes.md section 1a, from SimplyBook's User API guide,
help.simplybook.me/index.php/User_API_guide, and simplybook.me/en/api/developer-api):

* ``POST <base>/<endpoint>`` with ``{"jsonrpc": "2.0", "method": M, "params": [positional...],
  "id": N}``; a success is ``{"result": ..., "id": N}``. Endpoints: ``login`` (tokens), ``""``
  (the public service), ``admin`` (company administration).
* An error comes back with HTTP 200 and ``{"error": {"code": int, "message": str}, "id": N}``.
  The log-in messages are "Company does not exist", "Wrong api key" and "User with this login
  and password not found"; code -32600 "Access denied" means the company has not switched the API
  feature on (or the token is not valid for the call).
* ``getToken(companyLogin, apiKey)`` returns a token for the public service (headers
  ``X-Company-Login`` + ``X-Token``); ``getUserToken(companyLogin, userLogin, password)`` an
  admin token (``X-Company-Login`` + ``X-User-Token`` on ``/admin``). Tokens last about an hour.
* The host differs between accounts (``user-api.simplybook.me``, ``.net``, ``.it``), so it is
  configuration: ``SIMPLYBOOK_API_URL``.

Errors: every call raises the shared kinds of :mod:`app.integrations.errors`; the log-in refusals
are the subclasses below, so a "Test connection" button can name the reason.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from app.integrations.errors import AuthenticationRequired, IntegrationError, PermanentError, TemporaryError
from app.integrations.http import DEFAULT_TIMEOUT, HttpClient, RetryPolicy, Timeout
from app.integrations.registry import CrmBooking, CrmContact, register

DEFAULT_URL = "https://user-api.simplybook.me"
ACCESS_DENIED = -32600


class CompanyNotFound(AuthenticationRequired):
    """No SimplyBook.me company has this company login ("Company does not exist")."""


class WrongApiKey(AuthenticationRequired):
    """The company exists but the API key is not its key ("Wrong api key")."""


class WrongUserCredentials(AuthenticationRequired):
    """No user of the company has this login and password ("User with this login and password
    not found")."""


class ApiNotEnabled(AuthenticationRequired):
    """The company has not switched on the API feature (code -32600, "Access denied"): the owner
    enables it under Custom Features in SimplyBook.me."""


class SimplyBookTimeout(TemporaryError):
    """SimplyBook.me did not answer within the timeout."""


_LOGIN_ERRORS: tuple[tuple[str, type[IntegrationError]], ...] = (
    ("company does not exist", CompanyNotFound),
    ("wrong api key", WrongApiKey),
    ("user with this login and password not found", WrongUserCredentials),
)


class SimplyBookClient(HttpClient):
    """A company's SimplyBook.me account: ``company_login`` with either ``api_key`` (public API
    token) or ``user_login`` + ``password`` (admin token). ``base_url``: the API host (no
    trailing endpoint). Raises ``ValueError`` when neither credential is given."""

    provider = "simplybook"

    def __init__(
        self,
        company_login: str,
        *,
        api_key: str | None = None,
        user_login: str | None = None,
        password: str | None = None,
        base_url: str = DEFAULT_URL,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
    ):
        if not api_key and not (user_login and password):
            raise ValueError("simplybook: give an api_key, or a user_login and password")
        super().__init__(base_url, timeout=timeout, retry=retry)
        self.company_login = company_login
        self.api_key = api_key
        self.user_login = user_login
        self.password = password
        self.token: str | None = None
        self._ids = itertools.count(1)
        self.hide(api_key, password)

    # --- log-in -----------------------------------------------------------------------------

    def authenticate(self) -> str:
        """Log in and return the token (also kept in ``self.token``): ``getUserToken`` when a
        user login is set (an admin token, for the CRM sync), else ``getToken`` with the API
        key. Raises :class:`CompanyNotFound`, :class:`WrongApiKey`,
        :class:`WrongUserCredentials`, :class:`ApiNotEnabled`, :class:`SimplyBookTimeout`,
        TemporaryError (network), PermanentError (anything else it answers)."""
        if self.user_login and self.password:
            token = self._call("login", "getUserToken", [self.company_login, self.user_login, self.password])
        else:
            token = self._call("login", "getToken", [self.company_login, self.api_key])
        if not isinstance(token, str) or not token:
            raise PermanentError("simplybook: the log-in answered no token", provider=self.provider)
        self.hide(token)
        self.token = token
        return token

    # --- JSON-RPC -----------------------------------------------------------------------------

    def _call(self, endpoint: str, method: str, params: list[Any]) -> Any:
        """Call ``method`` with positional ``params`` on ``endpoint`` ("login", "" or "admin");
        return its ``result``. Sends the token headers once logged in (``X-User-Token`` on
        admin). A JSON-RPC request is safe to repeat for reads and log-ins; writes added later
        must pass their own idempotency. Raises as :meth:`authenticate`."""
        headers = {}
        if self.token and endpoint != "login":
            headers["X-Company-Login"] = self.company_login
            headers["X-User-Token" if endpoint == "admin" else "X-Token"] = self.token
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)}
        try:
            reply = self.post_json(f"/{endpoint}" if endpoint else "/", body, headers=headers, idempotent=endpoint == "login")
        except TemporaryError as exc:
            if "timed out" in exc.message:
                raise SimplyBookTimeout(exc.message, provider=self.provider) from None
            raise
        if not isinstance(reply, dict) or "result" not in reply:
            raise PermanentError(f"simplybook: {method}: the reply has no result", provider=self.provider)
        return reply["result"]

    def check_body(self, response: requests.Response) -> None:
        """JSON-RPC errors arrive with HTTP 200: map the log-in messages and -32600."""
        try:
            body = response.json()
        except ValueError:
            return
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return
        code, message = error.get("code"), str(error.get("message") or "")
        kind: type[IntegrationError] = PermanentError
        lowered = message.lower()
        for text, error_kind in _LOGIN_ERRORS:
            if text in lowered:
                kind = error_kind
                break
        else:
            if code == ACCESS_DENIED or "access denied" in lowered:
                kind = ApiNotEnabled
        raise self.error(kind, response, code if isinstance(code, (int, str)) else None, message)

    # --- CRM protocol (filled in by the CRM sync feature) ----------------------------------

    def list_clients(self) -> Iterable[CrmContact]:
        """The company's clients (admin ``getClientList``); needs a user log-in."""
        self._require_admin()
        rows = self._call("admin", "getClientList", ["", None]) or []
        return [
            CrmContact(name=str(r.get("name") or ""), email=r.get("email") or None, phone=r.get("phone") or None, external_id=str(r.get("id")))
            for r in rows if isinstance(r, dict)
        ]

    def upsert_client(self, contact: CrmContact) -> str:
        """Create (admin ``addClient``) or update (``editClient``) a client; returns its id."""
        self._require_admin()
        data = {"name": contact.name, "email": contact.email or "", "phone": contact.phone or ""}
        if contact.external_id:
            self._call("admin", "editClient", [contact.external_id, data])
            return contact.external_id
        return str(self._call("admin", "addClient", [data]))

    def push_booking(self, booking: CrmBooking) -> str:
        raise PermanentError("simplybook: pushing bookings is not available yet", provider=self.provider)

    def _require_admin(self) -> None:
        if not (self.user_login and self.password):
            raise AuthenticationRequired("simplybook: the CRM sync needs a user log-in, not only an API key", provider=self.provider)
        if self.token is None:
            self.authenticate()


@register("crm", "simplybook")
def _crm(credentials: Mapping[str, Any], config: Mapping[str, Any]) -> SimplyBookClient:
    """From a connection's secrets: ``company_login`` and ``api_key``, or ``user_login`` and
    ``password``; the host from ``SIMPLYBOOK_API_URL``."""
    return client_from(credentials, config)


def client_from(credentials: Mapping[str, Any], config: Mapping[str, Any], *, retry: RetryPolicy | None = None) -> SimplyBookClient:
    """A client for ``credentials`` (as :func:`_crm`), with ``SIMPLYBOOK_TIMEOUT`` seconds (read)
    when configured. Raises AuthenticationRequired when the company login or credentials are missing."""
    company = credentials.get("company_login")
    if not company or not (credentials.get("api_key") or (credentials.get("user_login") and credentials.get("password"))):
        raise AuthenticationRequired("simplybook: the connection has no company login and key or password", provider="simplybook")
    read = float(config.get("SIMPLYBOOK_TIMEOUT") or DEFAULT_TIMEOUT[1])
    return SimplyBookClient(
        company,
        api_key=credentials.get("api_key") or None,
        user_login=credentials.get("user_login") or None,
        password=credentials.get("password") or None,
        base_url=config.get("SIMPLYBOOK_API_URL") or DEFAULT_URL,
        timeout=(min(DEFAULT_TIMEOUT[0], read), read),
        retry=retry or RetryPolicy(),
    )
