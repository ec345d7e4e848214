"""``create_app``: the HTTP service a form backend or a lead router calls, and the page to try a lead.

The returned object is an ASGI app (:class:`icpkit.api.gateway.Gateway` in front of a FastAPI app); run it with
any ASGI server, or ``icpkit serve``. It serves the spec file it was given, or the version promoted in a store,
and follows either when it changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import orjson
import pyarrow as pa
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException

from icpkit.api.auth import Tokens
from icpkit.api.gateway import Gateway, error_body
from icpkit.api.limits import Limits, RequestError, require_json
from icpkit.api.live import FileSource, LiveSpec, Source, StoreSource
from icpkit.api.logs import JsonLog
from icpkit.api.models import BatchResponse, ErrorBody, Health, IcpResponse, ScoreResponse, request_models
from icpkit.api.scoring import Scoring
from icpkit.api.served import AsOf, Served
from icpkit.errors import InputError
from icpkit.size.enrich import Enricher
from icpkit.spec.model import ICPSpec
from icpkit.store import Store

__all__ = ["StaticSource", "create_app"]

DESCRIPTION = """Score leads and accounts against the Ideal Customer Profile in force, with the reasons.

Every endpoint but `/healthz`, the page and these docs needs `Authorization: Bearer <token>`. Errors are
`{"detail", "field", "request_id"}`; every response carries `X-Request-ID`."""

_ERR = {"model": ErrorBody}
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {401: {**_ERR, "description": "missing or invalid bearer token"}}
_BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTH_ERRORS,
    413: {**_ERR, "description": "body larger than the byte limit"},
    415: {**_ERR, "description": "body not sent as application/json"},
    422: {**_ERR, "description": "a field breaks the rules (or a batch holds too many records); `field` names it"},
}
_SECURED = {"security": [{"bearer": []}]}
_PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class StaticSource:
    """A spec given as an object: served as is, never reloaded."""

    def __init__(self, spec: ICPSpec) -> None:
        self.spec = spec

    def __repr__(self) -> str:
        return f"spec {self.spec.name}"

    def signature(self) -> tuple[()]:
        return ()

    def current_hash(self) -> str | None:
        return None

    def load(self) -> tuple[ICPSpec, int | None]:
        return self.spec, None


def _source(spec: ICPSpec | str | Path | Store | Source) -> Source:
    if isinstance(spec, ICPSpec):
        return StaticSource(spec)
    if isinstance(spec, Store):
        return StoreSource(spec)
    if isinstance(spec, str | Path):
        return FileSource(spec)
    return spec


def _web(name: str) -> str:
    return (resources.files("icpkit.api") / "web" / name).read_text(encoding="utf-8")


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json")


def _served(request: Request, live: LiveSpec) -> Served:
    """The version the gateway read when the request arrived (the one in force, when called without it)."""
    return getattr(request.state, "served", None) or live.current


def _api(live: LiveSpec, scoring: Scoring, limits: Limits, *, auth: bool, docs: bool = True) -> FastAPI:
    score_request, batch_request = request_models(limits)
    api = FastAPI(
        title="icpkit",
        version=_version(),
        description=DESCRIPTION,
        redoc_url=None,
        docs_url="/docs" if docs else None,
        swagger_ui_oauth2_redirect_url="/docs/oauth2-redirect" if docs else None,
    )

    def body_of(model: type) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}

    def rid(request: Request) -> str | None:
        return getattr(request.state, "request_id", None)

    @api.exception_handler(RequestError)
    async def _refused(request: Request, exc: RequestError) -> Response:
        return _json(error_body(exc.status, exc.message, exc.field, rid(request)), exc.status)

    @api.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        out = _json(error_body(exc.status_code, str(exc.detail), None, rid(request)), exc.status_code)
        out.headers.update(exc.headers or {})
        return out

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ()))
        return _json(error_body(422, f"{field}: {first.get('msg', 'invalid')}", field or None, rid(request)), 422)

    @api.head("/healthz", include_in_schema=False)  # what load balancers and uptime checks often send
    @api.get("/healthz", response_model=Health, tags=["service"], summary="Liveness, and which version is served")
    async def healthz(request: Request) -> Response:
        return _json(orjson.dumps({"status": "ok", "spec": _served(request, live).ref}))

    @api.get(
        "/v1/icp",
        response_model=IcpResponse,
        responses=_AUTH_ERRORS,
        openapi_extra=_SECURED,
        tags=["icp"],
        summary="The ICP in force: plain words, points, exclusions, tiers, routing and the fields to send",
    )
    async def icp(request: Request) -> Response:
        return _json(_served(request, live).icp_json)

    @api.post(
        "/v1/score",
        response_model=ScoreResponse,
        responses=_BODY_ERRORS,
        openapi_extra={**body_of(score_request), **_SECURED},
        tags=["score"],
        summary="Score one lead or account: score, tier, route and why",
    )
    async def score(request: Request) -> Response:
        require_json(request.headers.get("content-type", "").encode("latin-1"))
        return _json(scoring.score(await request.body(), _served(request, live)))

    @api.post(
        "/v1/score/batch",
        response_model=BatchResponse,
        responses=_BODY_ERRORS,
        openapi_extra={**body_of(batch_request), **_SECURED},
        tags=["score"],
        summary=f"Score up to {limits.max_batch:,} records in one call, in order",
    )
    async def score_batch(request: Request) -> Response:
        require_json(request.headers.get("content-type", "").encode("latin-1"))
        out, _ = scoring.batch(await request.body(), _served(request, live))
        return _json(out)

    page = jinja2.Environment(autoescape=True).from_string(_web("index.html"))
    index = page.render(auth=auth, max_batch=limits.max_batch)
    script, style = _web("app.js"), _web("app.css")

    @api.get("/", include_in_schema=False)
    async def home() -> Response:
        return Response(index, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)

    @api.get("/ui/app.js", include_in_schema=False)
    async def app_js() -> Response:
        return Response(script, media_type="text/javascript; charset=utf-8", headers=_PAGE_HEADERS)

    @api.get("/ui/app.css", include_in_schema=False)
    async def app_css() -> Response:
        return Response(style, media_type="text/css; charset=utf-8", headers=_PAGE_HEADERS)

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            doc = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
            doc.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a token of ICPKIT_API_TOKENS"}
            }
            api.openapi_schema = doc
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("icpkit")
    except PackageNotFoundError:
        return "0"


def create_app(
    spec: ICPSpec | str | Path | Store | Source,
    *,
    tokens: Tokens | None = None,
    insecure_no_auth: bool = False,
    universe: pa.Table | Enricher | None = None,
    limits: Limits | None = None,
    cors_origins: Iterable[str] = (),
    as_of: AsOf = None,
    poll_seconds: float = 1.0,
    log: JsonLog | None = None,
    fast: bool = True,
    freeze_gc: bool = False,
    docs: bool = True,
) -> Gateway:
    """The service for ``spec`` (an ``ICPSpec``, a YAML path, or a ``Store`` whose promoted version is served).

    ``tokens`` are required unless ``insecure_no_auth`` (the CLI allows that on loopback only). ``as_of`` None
    counts ``within_days`` back from today. ``poll_seconds`` is how often a file or store is checked for a new
    version (0: never). ``fast=False`` routes scoring through FastAPI too (same answers, slower). ``freeze_gc``
    moves everything built before serving out of the garbage collector's reach (``gc.freeze``), for a process
    that only serves: fewer and shorter collections, a lower p99. ``docs=False`` leaves out ``/docs``, whose
    Swagger page loads its script and style from a CDN (``/openapi.json`` stays).
    """
    if tokens is None and not insecure_no_auth:
        raise InputError(
            "no API tokens: set ICPKIT_API_TOKENS or pass a tokens file (or allow unauthenticated use on loopback)"
        )
    limits = limits or Limits()
    log = log if log is not None else JsonLog()
    enricher = Enricher(universe) if isinstance(universe, pa.Table) else universe
    live = LiveSpec(_source(spec), as_of=as_of, enrichment=enricher is not None, poll_seconds=poll_seconds, log=log)
    scoring = Scoring(limits=limits, enricher=enricher)
    api = _api(live, scoring, limits, auth=tokens is not None, docs=docs)
    return Gateway(
        api=api,
        live=live,
        scoring=scoring,
        tokens=tokens,
        limits=limits,
        log=log,
        cors_origins=cors_origins,
        fast=fast,
        freeze_gc=freeze_gc,
    )
