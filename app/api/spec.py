"""The API's route table, declared once next to each view and read by :mod:`app.api.openapi`.

``@endpoint(...)`` registers a view on the blueprint and records its path, method, query/body
models, response model and status, the error statuses it can answer and whether it needs owner
auth. The schemas are the pydantic models of :mod:`app.api.schemas`, which the views also validate with.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel
from werkzeug.routing import IntegerConverter

from app.api import bp


@dataclass(frozen=True)
class Endpoint:
    rule: str  # Flask rule relative to /api, e.g. "/services/<id:service_id>"
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

MAX_ID = 2**31 - 1


def _digits_up_to(limit: str) -> str:
    """A regular expression for the decimal numbers 1..``limit`` without leading zeros."""
    n = len(limit)
    shorter = f"[1-9][0-9]{{0,{n - 2}}}" if n > 1 else ""
    same_length = []
    for i, digit in enumerate(limit):
        low = "1" if i == 0 else "0"
        if digit > low:
            top = str(int(digit) - 1)
            same_length.append(limit[:i] + (f"[{low}-{top}]" if top != low else low) + f"[0-9]{{{n - i - 1}}}")
    same_length.append(limit)
    return "|".join(p for p in [shorter, *same_length] if p)


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id, 1..2**31-1 (the database's 32-bit ids). The range is in the
    regular expression, not in a check after the match as ``int(min=1, max=...)`` does: werkzeug
    compares the method before it converts, so ``DELETE /services/0`` would answer 405 from a rule
    whose converter then refuses the value. Here 0, 2**31 or 007 match no rule at all: 404."""

    regex = f"(?:{_digits_up_to(str(MAX_ID))})"

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, fixed_digits=0, min=1, max=MAX_ID)


# Path ids are 32-bit: a bigger number is simply not found (and never reaches the database).
ID = "id"
bp.record_once(lambda state: state.app.url_map.converters.setdefault(ID, IdConverter))


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
