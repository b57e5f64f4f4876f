"""Thin clients for third-party services, one module per provider: each takes its base URL and
credentials from its caller, sets a timeout on every call and maps the provider's errors to
:mod:`app.integrations.errors`. Nothing here imports a service, a model or a job."""
