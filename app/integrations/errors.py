"""The error kinds every integration client raises, whatever the provider.

A job or a service catches these, never a provider's own exceptions::

    IntegrationError                  provider, code, status, message; ``permanent`` False
    ├── AuthenticationRequired        credentials missing, expired or revoked: reconnect (permanent)
    ├── TemporaryError                5xx, timeouts, refused or dropped connections: retry later
    │   └── RateLimited               429 (or the provider's throttling code); ``retry_after`` seconds
    └── PermanentError                a 4xx retrying cannot fix (permanent)

``permanent`` is read by the job runner (``getattr(exc, "permanent", False)``): a permanent error
parks the job as failed at once instead of spending its retries. ``retry_after`` (seconds, or None
when the provider did not say) tells the caller the earliest useful retry.

Messages are shown on the dashboard and stored on jobs: they name the provider, the request (method,
host and path, never the query string), the status and the provider's own code and message, and
never a header, token or password (:mod:`app.integrations.http` builds them so).
"""
from __future__ import annotations


class IntegrationError(Exception):
    """A call to a third-party provider failed.

    ``provider``: the provider's registry name (``"google_calendar"``, ``"smtp"``...).
    ``code``: the provider's error code when it gave one (``"invalid_grant"``, ``21211``, an SMTP
    reply code), else the HTTP status, else None. ``status``: the HTTP status, when there was a
    response. ``message``: for people, free of secrets (also ``str(exc)``).
    """

    permanent: bool = False

    def __init__(self, message: str, *, provider: str = "", code: str | int | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.code = code
        self.status = status

    def __str__(self) -> str:
        return self.message


class AuthenticationRequired(IntegrationError):
    """The provider refused the credentials (missing, expired, revoked, insufficient): the
    connection needs reconnecting by its owner, so retrying the same call cannot help."""

    permanent = True


class TemporaryError(IntegrationError):
    """A failure a later retry may fix: a 5xx, a timeout, a refused or dropped connection.

    ``retry_after``: seconds the provider asked us to wait (``Retry-After``, RFC 9110 section
    10.2.3), or None."""

    permanent = False

    def __init__(self, message: str, *, provider: str = "", code: str | int | None = None, status: int | None = None, retry_after: float | None = None):
        super().__init__(message, provider=provider, code=code, status=status)
        self.retry_after = retry_after


class RateLimited(TemporaryError):
    """The provider throttled us (HTTP 429, RFC 6585 section 4, or its own throttling code).
    ``retry_after``: seconds to wait before the next call, or None when it did not say."""


class PermanentError(IntegrationError):
    """The provider refused the request for a reason retrying cannot fix (a 4xx other than 401/429:
    a validation error, an unknown id, a conflict). ``code`` and ``message`` are the provider's."""

    permanent = True


class UnknownProvider(PermanentError, LookupError):
    """No client is registered for this kind and provider (see :mod:`app.integrations.registry`)."""
