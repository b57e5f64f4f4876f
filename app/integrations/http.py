"""The HTTP base every provider client builds on: timeouts, retries, error mapping, safe logs.

A provider module subclasses :class:`HttpClient`, sets ``provider`` and its credentials, and
overrides the hooks where its wire format differs::

    class ZoomClient(HttpClient):
        provider = "zoom"

        def __init__(self, token: str, base_url: str, **options):
            super().__init__(base_url, **options)
            self.session.headers["Authorization"] = f"Bearer {token}"

        def create_meeting(self, ...) -> Meeting:
            body = self.post_json("/users/me/meetings", {...})
            ...

What the base does on every call:

* **Timeout.** ``(connect, read)`` seconds, :data:`DEFAULT_TIMEOUT` unless the client or the call
  says otherwise; a call without one cannot happen (the transport adapter fills it in).
* **Retries** (urllib3 :class:`~urllib3.util.Retry` on a requests ``HTTPAdapter``; urllib3 2.x
  "Retry" reference): connection failures for every method (the request never left); 429, 500,
  502, 503 and 504 and read failures only for idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS,
  TRACE; RFC 9110 section 9.2.2), and for POST/PATCH only when the caller passes
  ``idempotent=True`` (the request carries an idempotency key, a Google ``requestId``, a Graph
  ``transactionId``...). Exponential backoff with jitter; ``Retry-After`` (seconds or an HTTP
  date) is honoured, up to :attr:`RetryPolicy.max_retry_after`: a longer wait is not slept but
  raised as :class:`RateLimited` / :class:`TemporaryError` with ``retry_after``, so the outbox job
  retries later and the worker is free meanwhile.
* **Errors** (:mod:`app.integrations.errors`): 401 -> AuthenticationRequired; 403 ->
  :attr:`HttpClient.forbidden_error` (PermanentError by default: RFC 9110 section 15.5.4, the
  credentials were understood and are not enough); 408 and 5xx, timeouts, connection errors ->
  TemporaryError; 429 -> RateLimited; any other non-2xx -> PermanentError. The provider's code and
  message come from :meth:`HttpClient.error_details`; :meth:`HttpClient.check_body` turns a 2xx
  that reports an error (JSON-RPC) into one.
* **Logs.** Each failed attempt is logged at WARNING on this module's logger with provider,
  method, host + path and status (or the connection failure): never a query string, header or body.
  urllib3's own retry warnings carry the query string, so their query strings are hidden here.

One :class:`requests.Session` (one connection pool) per client instance; an instance is used by one
thread at a time (a job builds its own), as requests does not promise a Session is thread-safe.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, InvalidHeader, MaxRetryError, NewConnectionError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry

from app.integrations.errors import AuthenticationRequired, IntegrationError, PermanentError, RateLimited, TemporaryError
from app.redaction import redact

log = logging.getLogger(__name__)

#: ``(connect, read)`` seconds. The connect timeout sits just above a multiple of 3 s, TCP's
#: initial retransmission window (requests docs, "Timeouts").
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 15.0)
USER_AGENT = f"Flowkey python-requests/{requests.__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SAFE_METHODS = frozenset(Retry.DEFAULT_ALLOWED_METHODS)  # RFC 9110 section 9.2.2 idempotent methods
MESSAGE_LIMIT = 300  # characters of a provider's own error message kept in ours

Timeout = float | tuple[float, float]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a client tries before raising.

    ``retries``: extra attempts after the first (connection failures, retryable statuses).
    ``read_retries``: of those, how many may follow a read timeout or a dropped response (each
    costs up to the read timeout). Backoff before retry n (n >= 2; the first is immediate):
    ``backoff_factor * 2**(n-1)`` plus ``uniform(0, backoff_jitter)``, at most ``backoff_max``
    seconds (urllib3 ``Retry.get_backoff_time``). ``max_retry_after``: the longest
    ``Retry-After`` (seconds) slept in-process; longer ones are raised with ``retry_after``.
    """

    retries: int = 3
    read_retries: int = 1
    backoff_factor: float = 0.5
    backoff_jitter: float = 0.5
    backoff_max: float = 10.0
    max_retry_after: float = 10.0


class _Retry(Retry):
    """urllib3's Retry, plus: give up (return the response) instead of sleeping when
    ``Retry-After`` asks for more than ``max_retry_after`` seconds, and log each attempt retried."""

    def __init__(self, *args: Any, max_retry_after: float = 10.0, provider: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after
        self.provider = provider

    def new(self, **kw: Any) -> "_Retry":
        retry = super().new(**kw)
        retry.max_retry_after, retry.provider = self.max_retry_after, self.provider
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # noqa: ANN001 (urllib3's signature)
        if response is not None and self.respect_retry_after_header:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > self.max_retry_after:
                # urlopen returns the response when increment gives up (raise_on_status=False),
                # and HttpClient maps it to RateLimited/TemporaryError with retry_after.
                raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {wait:g}s exceeds {self.max_retry_after:g}s"))
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        host, port = getattr(_pool, "host", "") or "", getattr(_pool, "port", None)
        if port and port not in (80, 443):
            host = f"{host}:{port}"
        outcome = f"HTTP {response.status}" if response is not None else _failure_reason(error)
        log.warning("%s %s %s%s failed (%s); retry %d", self.provider, method, host, _path(url), outcome, len(retry.history))
        return retry


class _Adapter(HTTPAdapter):
    """An ``HTTPAdapter`` that fills in a timeout when none is given, and sends requests marked
    idempotent (``request.flowkey_idempotent``) through a second retry policy that also retries
    POST and PATCH."""

    def __init__(self, retry: Retry, idempotent_retry: Retry, timeout: Timeout):
        super().__init__(max_retries=retry)
        self._idempotent = HTTPAdapter(max_retries=idempotent_retry)
        self.default_timeout = timeout

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # noqa: ANN001 (requests' signature)
        timeout = self.default_timeout if timeout is None else timeout
        if getattr(request, "flowkey_idempotent", False):
            return self._idempotent.send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)

    def close(self) -> None:
        self._idempotent.close()
        super().close()


class HttpClient:
    """Base of the HTTP provider clients; see the module docstring for what every call gets.

    ``base_url``: the provider's API root from config (tests point it at a local fake);
    ``timeout``: ``(connect, read)`` seconds, or one number for both; ``retry``: a
    :class:`RetryPolicy`; ``user_agent``: sent on every request. Raises ``ValueError`` for a base URL
    that is not http(s) or a timeout that is not positive.
    """

    #: The registry name, used in messages and logs.
    provider: ClassVar[str] = "http"
    #: What a 403 means for this provider. PermanentError by default (RFC 9110 section 15.5.4);
    #: a provider whose 403 means "reconnect with more scopes" sets AuthenticationRequired, and one
    #: that throttles with a 403 (Google's ``rateLimitExceeded``) overrides :meth:`classify`.
    forbidden_error: ClassVar[type[IntegrationError]] = PermanentError

    def __init__(self, base_url: str, *, timeout: Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy = RetryPolicy(), user_agent: str = USER_AGENT):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{self.provider}: base URL must be http(s)://host[/path], got {_where(base_url)!r}")
        _check_timeout(timeout)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry_policy = retry
        self._hidden: set[str] = set()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        common = dict(
            total=retry.retries,
            connect=retry.retries,
            read=retry.read_retries,
            status=retry.retries,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=retry.backoff_factor,
            backoff_jitter=retry.backoff_jitter,
            backoff_max=retry.backoff_max,
            respect_retry_after_header=True,
            raise_on_status=False,  # hand the last response back: request() maps it to an error
            max_retry_after=retry.max_retry_after,
            provider=self.provider,
        )
        adapter = _Adapter(
            _Retry(allowed_methods=SAFE_METHODS, **common),
            _Retry(allowed_methods=SAFE_METHODS | {"POST", "PATCH"}, **common),
            timeout,
        )
        # Mounted on both schemes so that no request from this session escapes the policy.
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    # --- life cycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def hide(self, *values: str | None) -> None:
        """Never show these strings (a token sent in a body, an API key) in messages.
        Header values named like credentials and ``session.auth`` are hidden already."""
        self._hidden.update(v for v in values if v and len(v) >= 4)

    # --- calls ------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """``base_url`` + ``path``. An absolute URL (a provider's next-page link) is accepted only
        on the base URL's scheme and host, so credentials are never sent elsewhere; else
        PermanentError."""
        if "://" not in path:
            return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        base, given = urlsplit(self.base_url), urlsplit(path)
        if (given.scheme, given.netloc) != (base.scheme, base.netloc):
            raise PermanentError(f"{self.provider}: refusing to call {given.netloc or '?'} (not {base.netloc})", provider=self.provider)
        return path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout | None = None,
        idempotent: bool = False,
        allow_redirects: bool = True,
    ) -> requests.Response:
        """Send ``method`` to ``path`` (relative to ``base_url``); return the 2xx response.

        ``params``: query parameters; ``json`` / ``data``: the body (JSON, or form fields/bytes);
        ``headers``: added to the session's; ``timeout``: ``(connect, read)`` seconds for this
        call (None: the client's); ``idempotent``: True lets a POST/PATCH be retried on a
        retryable status or a read failure, because the provider will not apply it twice
        (idempotency key). Retries and waits as the module docstring says, then raises
        :class:`AuthenticationRequired`, :class:`RateLimited`, :class:`TemporaryError` or
        :class:`PermanentError` (with ``code``, ``status`` and, for 429/503, ``retry_after``).
        """
        method = method.upper()
        url = self.url(path)
        if timeout is not None:
            _check_timeout(timeout)
        prepared = self.session.prepare_request(requests.Request(method, url, params=params, json=json, data=data, headers=headers))
        prepared.flowkey_idempotent = idempotent  # read by _Adapter.send
        secrets = self._secrets(headers, parse_qsl(urlsplit(prepared.url).query))
        settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        try:
            response = self.session.send(prepared, timeout=timeout or self.timeout, allow_redirects=allow_redirects, **settings)
        except requests.RequestException as exc:
            raise self._transport_error(method, url, exc, secrets, timeout or self.timeout) from None
        if 200 <= response.status_code < 300:
            try:
                self.check_body(response)
            except IntegrationError as exc:
                log.warning("%s %s %s failed (HTTP %s with an error body)", self.provider, method, _where(url), response.status_code)
                raise self._scrubbed(exc, secrets) from None
            return response
        log.warning("%s %s %s failed (HTTP %s)", self.provider, method, _where(url), response.status_code)
        code, detail = self.error_details(response)
        kind = self.classify(response, code)
        message = f"{self.provider}: {method} {_where(url)} -> HTTP {response.status_code}"
        if code is not None and code != response.status_code:
            message += f" {code}"
        if detail:
            message += f": {_shorten(detail)}"
        extra = {}
        if issubclass(kind, TemporaryError):
            extra["retry_after"] = retry_after_seconds(response.headers.get("Retry-After"))
        raise kind(self._scrub(message, secrets), provider=self.provider, code=code if code is not None else response.status_code, status=response.status_code, **extra)

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None, timeout: Timeout | None = None) -> Any:
        """GET ``path`` and return the decoded JSON body (None for an empty body). Raises as
        :meth:`request`, and PermanentError when the body is not JSON."""
        return self._json(self.request("GET", path, params=params, headers=headers, timeout=timeout))

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout | None = None,
        idempotent: bool = False,
    ) -> Any:
        """POST ``body`` as JSON to ``path``; return the decoded JSON reply (None when empty).
        ``idempotent``: see :meth:`request`. Raises as :meth:`request`, and PermanentError when
        the reply is not JSON."""
        return self._json(self.request("POST", path, json=body, params=params, headers=headers, timeout=timeout, idempotent=idempotent))

    # --- hooks for provider subclasses ------------------------------------------------------

    def error_details(self, response: requests.Response) -> tuple[str | int | None, str | None]:
        """``(code, message)`` from an error response's body, either may be None.

        Understands the common JSON envelopes: ``{"error": {"code", "message", "status"}}``
        (Google: ``status`` such as ``"INVALID_ARGUMENT"`` is preferred to the numeric code that
        repeats the HTTP status; Microsoft Graph, Meta, JSON-RPC 2.0), OAuth 2.0's ``{"error",
        "error_description"}`` (RFC 6749 section 5.2), and ``{"code", "message"}`` (Zoom, Twilio,
        SimplyBook REST). Override for anything else."""
        try:
            body = response.json()
        except ValueError:
            return None, None
        if not isinstance(body, dict):
            return None, None
        error = body.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            if code == response.status_code and isinstance(error.get("status"), str):
                code = error["status"]
            return _scalar(code if code is not None else error.get("status")), _text(error.get("message"))
        if isinstance(error, str):
            return error, _text(body.get("error_description") or body.get("message"))
        return _scalar(body.get("code")), _text(body.get("message"))

    def classify(self, response: requests.Response, code: str | int | None) -> type[IntegrationError]:
        """The error kind for a non-2xx ``response`` (``code`` from :meth:`error_details`).
        Override to read provider codes (a 403 that means throttling, a 400 ``invalid_grant``
        that means the refresh token was revoked)."""
        status = response.status_code
        if status == 401:
            return AuthenticationRequired
        if status == 403:
            return self.forbidden_error
        if status == 429:
            return RateLimited
        if status == 408 or status >= 500:
            return TemporaryError
        return PermanentError

    def check_body(self, response: requests.Response) -> None:
        """Called with every 2xx response; raise an :class:`IntegrationError` when its body
        reports a failure anyway (SimplyBook's JSON-RPC API answers errors with HTTP 200 and
        ``{"error": {"code", "message"}}``). Use :meth:`error` to build it. Default: accept."""

    def error(self, kind: type[IntegrationError], response: requests.Response, code: str | int | None, message: str | None) -> IntegrationError:
        """An error of ``kind`` for ``response`` in the house format (method, host + path, status,
        the provider's code and message), for :meth:`check_body` and :meth:`classify` overrides."""
        request = response.request
        text = f"{self.provider}: {request.method} {_where(request.url or '')} -> HTTP {response.status_code}"
        if code is not None:
            text += f" {code}"
        if message:
            text += f": {_shorten(message)}"
        return kind(self._scrub(text, set()), provider=self.provider, code=code, status=response.status_code)

    # --- internals --------------------------------------------------------------------------

    def _json(self, response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise PermanentError(
                f"{self.provider}: {response.request.method} {_where(response.url)} -> HTTP {response.status_code}: the reply is not JSON",
                provider=self.provider,
                status=response.status_code,
            ) from None

    def _transport_error(self, method: str, url: str, exc: requests.RequestException, secrets: set[str], timeout: Timeout) -> IntegrationError:
        reason = _failure_reason(exc)
        where = _where(url)
        log.warning("%s %s %s failed (%s)", self.provider, method, where, reason)
        if reason == "timed out":
            connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
            reason = f"timed out (connect {connect:g} s, read {read:g} s)"
        kind = TemporaryError if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)) else PermanentError
        return kind(self._scrub(f"{self.provider}: {method} {where}: {reason}", secrets), provider=self.provider)

    def _secrets(self, headers: Mapping[str, str] | None, query: Iterable[tuple[str, str]]) -> set[str]:
        """Strings to mask in messages: credential-like header values (and the token after
        "Bearer "), ``session.auth``, credential-like query parameters, :meth:`hide`'s values."""
        found = set(self._hidden)
        for name, value in [*self.session.headers.items(), *(headers or {}).items()]:
            if isinstance(value, str) and _SECRET_NAME.search(name):
                found.add(value)
                found.update(value.split(" ", 1)[1:])  # the token after "Bearer " / "Basic "
        auth = self.session.auth
        if isinstance(auth, tuple):
            found.update(str(part) for part in auth)
        found.update(value for name, value in query if _SECRET_PARAM.search(name))
        return {s for s in found if len(s) >= 4}

    def _scrub(self, text: str, secrets: set[str]) -> str:
        for secret in sorted(secrets | self._secrets(None, ()), key=len, reverse=True):
            text = text.replace(secret, "***")
        return redact(_QUERY_SECRET.sub(r"\1***", text))

    def _scrubbed(self, exc: IntegrationError, secrets: set[str]) -> IntegrationError:
        exc.message = self._scrub(exc.message, secrets)
        exc.args = (exc.message,)
        return exc


# --- helpers ----------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"(?i)auth|token|key|secret|password|passwd|cookie|signature|session|credential")
_SECRET_PARAM = re.compile(r"(?i)auth|token|key|secret|password|signature|sig|code|credential")
_QUERY_SECRET = re.compile(r"(?i)([?&;][\w.-]*(?:auth|token|key|secret|password|signature|sig|code|credential)[\w.-]*=)[^&\s\"'#]+")


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` (delay-seconds or an HTTP-date, RFC 9110 section 10.2.3) in seconds from
    now (>= 0), or None when missing or malformed."""
    if not value:
        return None
    try:
        return float(Retry(retry_after_max=10**9).parse_retry_after(value))
    except (InvalidHeader, ValueError, OverflowError):
        return None


def _check_timeout(timeout: Timeout) -> None:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if len(values) not in (1, 2) or not all(isinstance(v, (int, float)) and v > 0 for v in values):
        raise ValueError("timeout must be seconds > 0, or a (connect, read) pair of them")


def _path(url: str | None) -> str:
    """The path of ``url`` (absolute or a request target), without query or fragment."""
    return urlsplit(url or "").path


def _where(url: str) -> str:
    """Host (and port) + path of ``url``: what messages and logs show of a request."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]  # drop user:password@
    return f"{host}{parts.path}"


def _failure_reason(exc: BaseException | None) -> str:
    """A short, secret-free reason for a failed connection ("timed out", "Connection refused")."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, (requests.Timeout, ReadTimeoutError, TimeoutError)) or (isinstance(err, ConnectTimeoutError) and not isinstance(err, NewConnectionError)):
            return "timed out"
        if isinstance(err, OSError) and err.strerror and not isinstance(err, requests.RequestException):
            return err.strerror
        if isinstance(err, MaxRetryError):
            stack.append(err.reason)
        stack.extend([err.__cause__, err.__context__, *(a for a in getattr(err, "args", ()) if isinstance(a, BaseException))])
    return type(exc).__name__ if exc is not None else "unknown error"


def _scalar(value: Any) -> str | int | None:
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


class _HideQueryStrings(logging.Filter):
    """urllib3 logs request targets with their query string ("Retrying (...) after connection
    broken by ...: <path?query>" at WARNING, more at DEBUG); a query string may carry a token
    (Meta's ``access_token``), so it is cut from urllib3's records."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = re.sub(r"\?[^\s'\"]*", "?…", message), None
        return True


# A logger's filters apply only to records created on it, not on its children: one per module.
for _name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager", "urllib3.response", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_HideQueryStrings())
