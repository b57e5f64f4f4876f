"""Routes: the public booking endpoints, the owner endpoints and the OpenAPI document."""
from app.api import openapi, routes_owner, routes_public  # noqa: F401
