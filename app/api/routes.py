"""Routes: the public booking endpoints, the owner endpoints and the OpenAPI document."""
from app.api import openapi, routes_owner, routes_public, routes_team  # noqa: F401
from app.api import routes_onboarding  # noqa: F401
