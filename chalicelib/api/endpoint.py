"""Typed endpoints: one decorator registers a Chalice route with its roles, request and response
models and the errors it may return, parses and authorises the request, and maps every outcome to
HTTP through ``chalicelib.common.http``. ``ENDPOINTS`` is what the OpenAPI document is built from.

A view receives a :class:`Call` (the verified principal, the parsed body and query, path
parameters, headers) and returns a response model (or a list, or an :class:`Outcome` when the
status depends on the result, ``chalicelib.common.http.Outcome``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Mapping, TypeVar

from chalice import Blueprint
from pydantic import BaseModel

from chalicelib.adapters import auth
from chalicelib.common import http
from chalicelib.common.errors import Forbidden, Kind
from chalicelib.wiring import get_services

B = TypeVar("B")
Q = TypeVar("Q")

PUBLIC: tuple[str, ...] = ()  # no token needed
SIGNED_IN = None  # any verified caller


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    name: str
    summary: str
    roles: tuple[str, ...] | None  # PUBLIC, SIGNED_IN, or the roles allowed (any of)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None  # a BaseModel subclass, or list[...] of one
    created: bool = False  # success is 201 Created, not 200
    errors: Mapping[Kind, tuple[str, ...]] = field(default_factory=dict)  # the codes per kind
    content_types: tuple[str, ...] = ("application/json",)
    raw_body: bool = False  # the view parses the body itself (e.g. text/csv)
    body_optional: bool = False  # an empty body is allowed: the view gets ``body=None``
    needs_nip: bool = False  # the caller must be an employee account with a NIP
    headers: Mapping[str, str] = field(default_factory=dict)  # optional request headers read: name -> what
    result_on: tuple[Kind, ...] = ()  # error statuses whose body may be the response model (an Outcome)
    notes: str = ""


ENDPOINTS: list[Endpoint] = []


@dataclass(frozen=True)
class Call(Generic[B, Q]):
    principal: auth.Principal | None
    body: B
    query: Q
    params: dict[str, str]
    headers: Mapping[str, str]
    raw_body: bytes
    lambda_context: Any = None

    @property
    def nip(self) -> str:
        """The caller's NIP (an endpoint with ``needs_nip`` guarantees one)."""
        assert self.principal is not None and self.principal.nip is not None
        return self.principal.nip

    @property
    def caller(self) -> auth.Principal:
        assert self.principal is not None
        return self.principal


def endpoint(bp: Blueprint, method: str, path: str, *, summary: str,
             roles: tuple[str, ...] | None, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Register ``view`` as ``method path`` on ``bp`` (see :class:`Endpoint` for ``options``)."""
    name_hint = options.pop("name", None)

    def register(view: Callable[..., Any]) -> Any:
        ep = Endpoint(method=method, path=path, name=name_hint or view.__name__, summary=summary,
                      roles=roles, **options)
        ENDPOINTS.append(ep)

        @functools.wraps(view)
        def handler(**params: str) -> Any:
            return http.respond(lambda: _run(bp, ep, view, params), created=ep.created)

        return bp.route(path, methods=[method], content_types=list(ep.content_types),
                        name=ep.name)(handler)

    return register


def _run(bp: Blueprint, ep: Endpoint, view: Callable[..., Any], params: dict[str, str]) -> Any:
    request = bp.current_request
    principal = None
    if ep.roles != PUBLIC:
        principal = auth.principal_from_headers(request.headers, ep.roles, get_services().settings)
        if ep.needs_nip and not principal.nip:
            raise Forbidden("This account has no NIP", code="no_nip")
    http.check_path_params(params)
    raw = request.raw_body or b""
    http.check_body_size(raw)
    if ep.raw_body and raw.strip() and "json" in (request.headers.get("content-type") or "application/json"):
        http.check_json(raw)  # a view parsing JSON itself gets the same bounds
    body = None
    if ep.body is not None and not ep.raw_body and not (ep.body_optional and not raw.strip()):
        body = http.parse_body(raw, ep.body)
    query = http.parse_query(request.query_params or {}, ep.query) if ep.query is not None else None
    call: Call[Any, Any] = Call(principal=principal, body=body, query=query, params=params,
                                headers=request.headers, raw_body=raw,
                                lambda_context=getattr(bp, "lambda_context", None))
    return view(call)
