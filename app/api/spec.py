"""The API's route table, declared once next to each view and read by :mod:`app.api.openapi`.

``@endpoint(...)`` registers a view on the blueprint and records its path, method, query/body
models, response model and status, the error statuses it can answer and whether it needs owner
auth. The schemas are the pydantic models of :mod:`app.api.schemas`, which the views also validate with.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from app.api import bp


@dataclass(frozen=True)
class Endpoint:
    rule: str  # Flask rule relative to /api, e.g. "/services/<int(max=2147483647):service_id>"
    method: str
    summary: str
    view: str
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None  # None: no body (204)
    status: int = 200
    errors: tuple[int, ...] = ()
    owner: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)
    headers: tuple[tuple[str, str], ...] = ()  # (name, description) of request headers read


ENDPOINTS: list[Endpoint] = []

# Path ids are 32-bit: a bigger number is simply not found (and never reaches the database).
ID = "int(min=1, max=2147483647)"


def endpoint(
    rule: str,
    method: str,
    summary: str,
    *,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    owner: bool = False,
    tag: str = "",
    headers: tuple[tuple[str, str], ...] = (),
) -> Callable:
    """Register the decorated view at ``rule`` for ``method`` and record it in :data:`ENDPOINTS`."""

    def decorate(view: Callable) -> Callable:
        ENDPOINTS.append(
            Endpoint(rule, method.upper(), summary, view.__name__, query, body, response, status, errors, owner, (tag,) if tag else (), headers)
        )
        bp.add_url_rule(rule, view_func=view, methods=[method.upper()])
        return view

    return decorate
