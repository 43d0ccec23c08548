"""create_app(): plugins, routers and the one place where errors become responses."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, Router, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    InternalServerException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.flash import FlashConfig, FlashPlugin, flash
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE, HTTP_500_INTERNAL_SERVER_ERROR
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from litestar.types import ExceptionHandlersMap

from webapp import routes
from webapp.audit import service as audit
from webapp.core import public_pages, queries
from webapp.core.api import NumberUnionSchema
from webapp.core.api_document import state_input_limits
from webapp.core.assets import FAVICON, static_url
from webapp.core.audit_trail import AuditTrailMiddleware
from webapp.core.config import get_settings
from webapp.core.deps import provide_db_session
from webapp.core.errors import Conflict, DomainError, NotFound, TooManyAttempts, ValidationFailed
from webapp.core.headers import add_security_headers
from webapp.core.history import keep_address_after_a_post
from webapp.core.http import AnyRequest, AnyResponse, AppRequest
from webapp.core.i18n import N_
from webapp.core.options import complete_allow
from webapp.core.parameters import check_parameters
from webapp.core.redis import get_redis
from webapp.core.security import (
    PUBLIC_PATHS,
    SAFE_METHODS,
    AuthenticationMiddleware,
    BearerExemptCSRFMiddleware,
    PrincipalSources,
    TwoStepDue,
    role_guard,
)
from webapp.core.server_timing import server_timing_middleware
from webapp.core.sessions import SESSION_COOKIE, SESSION_STORE, SessionConfig
from webapp.core.static_files import serve_favicon, serve_static
from webapp.core.template_helpers import register_template_helpers
from webapp.imports.service import reading
from webapp.staff.pages.account import TWO_STEP_SETUP
from webapp.staff.service import api_keys, users

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("mailroom")


@get("/healthz", include_in_schema=False)
async def healthz() -> Response[dict[str, str]]:
    checks = {"database": "ok", "redis": "ok"}
    try:
        await queries.ping()
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        await get_redis().ping()
    except Exception as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return Response(checks, status_code=200 if healthy else 503)


# ---- errors -> responses -------------------------------------------------------------------


def _is_api(request: AnyRequest) -> bool:
    """The JSON API, and the providers' webhooks, which answer errors in JSON too."""
    return request.url.path.startswith(("/api", "/webhooks/"))


def _json_error(
    status: int,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> AnyResponse:
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


PUBLIC_TITLES = {404: N_("This page does not exist"), 500: N_("Something went wrong")}
PUBLIC_TITLE = N_("This request is not valid")
INTERNAL_ERROR = N_("The error has been logged. Please try again.")
# In place of Litestar's bare "Not Found" for an address no route has (a cut-off link, say).
NO_SUCH_PAGE = N_("The link may be incomplete: check it, or follow the one in our email again.")
# In place of "Method Not Allowed": a request no browser sends from our pages or emails.
NOT_THIS_WAY = N_("This address is not opened that way: follow the link in our email, or use the page's button.")


def _error_page(
    request: AnyRequest, status: int, title: str, message: str, headers: dict[str, str] | None = None
) -> AnyResponse:
    if request.url.path.startswith(public_pages.SUBSCRIBER_PATHS):
        language = public_pages.language_of(request)
        if status == 404 and message == HTTPStatus.NOT_FOUND.phrase:
            message = NO_SUCH_PAGE
        elif status == 405:
            message = NOT_THIS_WAY
        shown = {"title": PUBLIC_TITLES.get(status, PUBLIC_TITLE), "message": message}
        return public_pages.page(
            "public_error.html", language, public_pages.Unnamed(), status_code=status, headers=headers, **shown
        )
    context = {"status": status, "title": title, "message": message}
    return Template("error.html", context=context, status_code=status, headers=headers)


def _domain_status(exc: DomainError) -> int:
    if isinstance(exc, ValidationFailed):
        return 422
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, TooManyAttempts):
        return 429
    return 400


def handle_domain_error(request: AnyRequest, exc: DomainError) -> AnyResponse:
    status = _domain_status(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
    if _is_api(request):
        if isinstance(exc, ValidationFailed):
            by_field = [{"field": f, "message": m} for f, m in exc.errors.items()]
            return _json_error(status, "Validation failed.", by_field)
        errors = [{"field": exc.field, "message": exc.message}] if exc.field else None
        extra = {"existing_id": exc.existing_id} if isinstance(exc, Conflict) and exc.existing_id else {}
        return _json_error(status, exc.message, errors, headers, **extra)
    titles = {404: "Not found", 409: "Conflict", 422: "Check your input", 429: "Slow down"}
    return _error_page(request, status, titles.get(status, "Error"), exc.message)


def _validation_error(item: dict[str, Any]) -> dict[str, str]:
    field, message = str(item.get("key") or item.get("source") or "body"), str(item.get("message"))
    if field == "data":  # the body as a whole: Litestar names no field, msgspec names it in backticks
        if named := re.search(r"field `([^`]+)`", message):
            field = named.group(1)
        elif message == "'data'":  # Litestar's KeyError when there is no body at all
            field, message = "body", "Send a JSON object in the request body."
        else:
            field = "body"
    return {"field": field, "message": message}


# Litestar names a missing parameter only in its message (litestar/_kwargs/extractors.py).
MISSING_PARAMETER = re.compile(r"Missing required (?P<where>\w+) parameter '(?P<name>[^']+)'")


def handle_validation_exception(request: AnyRequest, exc: ValidationException) -> AnyResponse:
    """Malformed requests (bad JSON, wrong types, bad path/query parameters) -> 400 naming the field."""
    errors = [
        _validation_error(item) for item in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(item, dict)
    ]
    if not errors and (missing := MISSING_PARAMETER.match(exc.detail)):
        errors = [
            {"field": missing["name"], "message": f"The {missing['where']} parameter {missing['name']} is required."}
        ]
    if _is_api(request):
        return _json_error(400, "The request is not valid.", errors or None)
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or exc.detail
    return _error_page(request, 400, "Bad request", message)


def handle_not_authorized(request: AnyRequest, exc: NotAuthorizedException) -> AnyResponse:
    if _is_api(request):
        return _json_error(401, exc.detail, headers={"WWW-Authenticate": "Bearer"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login = "/login" + (f"?next={target}" if target not in {"/", "/login"} else "")
    if request.headers.get("hx-request"):
        return Response(None, status_code=204, headers={"HX-Redirect": login})
    return Redirect(login, status_code=303)


def handle_two_step_due(request: AnyRequest, exc: TwoStepDue) -> AnyResponse:
    """Every staff page leads to the two-step setup until it is done (a flash says why); a change
    is refused (403, so the audit log records no change)."""
    if request.method not in SAFE_METHODS:
        return _error_page(request, 403, "Set up two-step sign-in first", exc.detail)
    flash(request, exc.detail, "warning")
    if request.headers.get("hx-request"):
        return Response(None, status_code=204, headers={"HX-Redirect": TWO_STEP_SETUP})
    return Redirect(TWO_STEP_SETUP, status_code=303)


def handle_forbidden(request: AnyRequest, exc: PermissionDeniedException) -> AnyResponse:
    if _is_api(request):
        return _json_error(403, exc.detail)
    return _error_page(request, 403, "Not allowed", exc.detail)


def handle_http_exception(request: AnyRequest, exc: HTTPException) -> AnyResponse:
    headers = dict(exc.headers or {})  # such as a 405's Allow, which RFC 9110 requires
    if _is_api(request) and isinstance(exc.__cause__, SerializationException):  # the body is not JSON
        why = exc.detail.removeprefix("JSON is malformed: ")  # msgspec's words
        problem = {"field": "body", "message": f"The body is not valid JSON: {why[:1].lower()}{why[1:]}."}
        return _json_error(400, "The request is not valid.", [problem])
    if _is_api(request) and exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        return _json_error(exc.status_code, exc.detail, [_too_large(request)], headers)
    if _is_api(request):
        return _json_error(exc.status_code, exc.detail, headers=headers)
    title = "Page not found" if isinstance(exc, NotFoundException) else "Error"
    return _error_page(request, exc.status_code, title, exc.detail, headers)


def _too_large(request: AnyRequest) -> dict[str, str]:
    """The part of a request over the body's limit: an upload's `file`, or the body itself."""
    field = "file" if request.content_type[0] == "multipart/form-data" else "body"
    limit = request.route_handler.resolve_request_max_body_size()
    most = f", {limit:,} bytes," if limit else ""
    return {"field": field, "message": f"The request is larger than the most{most} this endpoint takes."}


# What Litestar raises when the client leaves before its request's body has arrived
# (litestar/connection/request.py): a page abandoned mid-request, no fault of ours.
CLIENT_GONE = "client disconnected prematurely"


def handle_internal_error(request: AnyRequest, exc: Exception) -> AnyResponse:
    if isinstance(exc, InternalServerException) and exc.detail == CLIENT_GONE:
        log.info("the client left during %s %s", request.method, request.url.path)
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _is_api(request):
        return _json_error(500, "Internal server error.")
    return _error_page(request, 500, "Something went wrong", INTERNAL_ERROR)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_exception,
    NotAuthorizedException: handle_not_authorized,
    TwoStepDue: handle_two_step_due,
    PermissionDeniedException: handle_forbidden,
    HTTPException: handle_http_exception,
    HTTP_500_INTERNAL_SERVER_ERROR: handle_internal_error,
}


# ---- the app -------------------------------------------------------------------------------

# Only the API's responses are compressed here (static files are gzipped once, in core/assets.py).
# Staff and public pages are not: they hold secrets (the CSRF token, signed links) next to text an
# attacker can choose (a search), and compressing them would let another site read those secrets
# from response sizes (BREACH). The API takes only Bearer keys, which no other site can make a
# browser send. Leaving pages alone also keeps event streams unbuffered and images as they are.
API_COMPRESSION = DefineMiddleware(
    CompressionMiddleware, config=CompressionConfig(backend="gzip", gzip_compress_level=6)
)


def create_app() -> Litestar:
    settings = get_settings()
    reading.import_ahead()
    secret = settings.secret_key()
    template_config = TemplateConfig(
        directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=register_template_helpers
    )
    session_config = SessionConfig(
        store=SESSION_STORE,
        key=SESSION_COOKIE,
        max_age=settings.security.session_max_age,
        renew_on_access=True,
        secure=settings.security.secure_cookies,
        httponly=True,
        samesite="lax",
        # Only the staff UI has sessions: no cookie or Redis entry for API calls, health checks,
        # static files or subscriber and tracking URLs.
        exclude=[
            "^/api",
            "^/healthz",
            "^/static/",
            "^/favicon.ico",
            "^/u/",
            "^/subscribe/",
            "^/webhooks/",
            "^/archive",
        ],
    )
    csrf_config = CSRFConfig(
        secret=secret,
        cookie_name="mailroom_csrf",
        cookie_secure=settings.security.secure_cookies,
        cookie_samesite="lax",
        header_name="x-csrftoken",
        # /u/ is for subscribers and mail clients, e.g. RFC 8058 one-click unsubscribe POSTs;
        # /subscribe/ takes posts from forms embedded on other sites (honeypot and rate limit guard
        # it). API calls with a Bearer key are let through by the middleware itself. Static files
        # are cached publicly: a CSRF cookie set on one would reach everyone behind a shared cache.
        # /webhooks/ takes mail providers' posts, each checked by the provider's own signature. The
        # public archive is read-only, for anyone: no cookie for its readers.
        exclude=["^/u/", "^/subscribe/", "^/static/", "^/favicon.ico", "^/webhooks/", "^/archive"],
    )
    api_router = Router(
        path="/api",
        route_handlers=routes.API,
        security=[{"BearerAuth": []}],
        tags=None,
        middleware=[API_COMPRESSION],
    )
    ui_router = Router(path="/", route_handlers=routes.STAFF_PAGES, include_in_schema=False)
    app = Litestar(
        route_handlers=[
            healthz,
            api_router,
            ui_router,
            *routes.PUBLIC,
            serve_static,
            serve_favicon,
        ],
        guards=[role_guard],
        before_send=[add_security_headers, complete_allow, keep_address_after_a_post],
        state=State({"principals": PrincipalSources(api_keys.principal_for_key, users.principal_for_session)}),
        # Not named like any request body field: Litestar reports a body error under a dependency's
        # name as a server error (tests/integration/test_api_fuzz.py checks the names).
        dependencies={"db": Provide(provide_db_session)},
        middleware=[
            server_timing_middleware,
            check_parameters,
            session_config.middleware,
            DefineMiddleware(AuthenticationMiddleware, exclude=PUBLIC_PATHS),
            DefineMiddleware(AuditTrailMiddleware, record=audit.record_change),
            DefineMiddleware(BearerExemptCSRFMiddleware, config=csrf_config),
        ],
        stores={SESSION_STORE: RedisStore(get_redis(), namespace="mailroom-sessions", handle_client_shutdown=False)},
        template_config=template_config,
        plugins=[HTMXPlugin(), FlashPlugin(config=FlashConfig(template_config=template_config)), NumberUnionSchema()],
        openapi_config=OpenAPIConfig(
            title="Mailroom API",
            version="1.0.0",
            description="Contacts, lists and segments, templates, campaigns and A/B tests, automations, "
            "analytics, transactional email, suppression and webhooks. Authenticate with "
            "`Authorization: Bearer <key>`; an admin creates keys under Settings → API keys. Every error is "
            "JSON naming the field; a body over an endpoint's size limit (10 MB unless it says) is a 413 "
            "naming `body` (or `file`).",
            path="/api/docs",
            render_plugins=[
                SwaggerRenderPlugin(
                    path="/",
                    js_url=static_url("vendor/swagger-ui/swagger-ui-bundle.js"),
                    css_url=static_url("vendor/swagger-ui/swagger-ui.css"),
                    standalone_preset_js_url=static_url("vendor/swagger-ui/swagger-ui-standalone-preset.js"),
                    favicon=f"<link rel='icon' href='{static_url(FAVICON)}' type='image/svg+xml'>",  # not a CDN's
                )
            ],
            components=Components(security_schemes={"BearerAuth": SecurityScheme(type="http", scheme="bearer")}),
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=AppRequest,
        debug=False,
    )
    state_input_limits(app.openapi_schema)
    return app
