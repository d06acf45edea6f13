"""The ASGI application: API, pages, static files, error handlers."""

from __future__ import annotations

import logging
from importlib.resources import files

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse

from crosspromo import __version__, rate_limits
from crosspromo.db import make_engine, make_sessionmaker
from crosspromo.replica import Replica, RoutedSession
from crosspromo.settings import Settings, get_settings
from crosspromo.web import problems
from crosspromo.web.admission import Admission
from crosspromo.web.fresh_reads import FreshReads
from crosspromo.web.plain_input import refuse_control_characters
from crosspromo.web.security import SecurityHeaders

SWAGGER = "/static/vendor/swagger-ui-5.35.0"
API_DOCS_HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crosspromo API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>"""


def system_pages() -> APIRouter:
    """The API docs page (vendored Swagger UI, no CDN) and the favicon."""
    router = APIRouter(include_in_schema=False)

    @router.get("/api/docs")
    def api_docs() -> HTMLResponse:
        return HTMLResponse(API_DOCS_HTML)

    @router.get("/favicon.ico")
    def favicon() -> FileResponse:
        path = files("crosspromo") / "web" / "static" / "favicon.svg"
        return FileResponse(str(path), media_type="image/svg+xml")

    return router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO)
    app = FastAPI(
        title="crosspromo",
        version=__version__,
        description="Cross-marketing between small and medium businesses.",
        docs_url=None,  # served below from the vendored Swagger UI (works offline)
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(refuse_control_characters)],
    )
    pool = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout,
    }
    engine = make_engine(settings.resolved_database_url(), pooler=settings.database_pooler, **pool)
    replica = None
    if settings.database_replica_url:
        if not engine.dialect.name == "postgresql":
            raise RuntimeError("CROSSPROMO_DATABASE_REPLICA_URL needs a PostgreSQL primary")
        replica = Replica(
            engine,
            make_engine(settings.database_replica_url, pooler=False, **pool),
            max_lag_seconds=settings.replica_max_lag_seconds,
        )
    if settings.redis_url and settings.rate_limit_storage == "database":
        settings = settings.model_copy(update={"rate_limit_storage": settings.redis_url})
    if settings.rate_limit_storage == "database":
        # Counters in the app's own database: shared by every worker, nothing more to run.
        uri = rate_limits.storage_uri(settings.resolved_database_url())
        settings = settings.model_copy(update={"rate_limit_storage": uri})
    if settings.rate_limit_storage.startswith(("redis://", "rediss://")):
        # `limits` checks the redis package's version on first use; two request threads
        # importing it at once read a half-initialised module ("version 0.0.0"): import now.
        import redis  # noqa: F401
    app.state.settings = settings
    app.state.engine = engine
    app.state.replica = replica
    app.state.sessions = make_sessionmaker(engine, RoutedSession if replica else Session)
    app.state.secret_key = settings.resolved_secret_key()
    problems.install(app)
    app.add_middleware(
        Admission,
        slots=settings.db_pool_size,
        wait_seconds=settings.request_queue_seconds,
        retry_after=settings.retry_after_seconds,
    )
    if replica is not None:
        app.add_middleware(FreshReads, seconds=settings.fresh_read_seconds)
    # Added last, so outermost: even Admission's 503 carries the security headers.
    app.add_middleware(SecurityHeaders)

    @app.get("/healthz", tags=["system"])
    def healthz(request: Request) -> JSONResponse:
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"}, status_code=503
            )
        body: dict[str, object] = {"status": "ok", "database": "ok", "version": __version__}
        replica = request.app.state.replica
        if replica is not None:
            lag = replica.lag().seconds
            body["replica"] = {
                "lag_seconds": None if lag is None else round(lag, 3),
                "reads": "replica" if replica.usable() else "primary",
            }
        return JSONResponse(body)

    from crosspromo.accounts import api as accounts_api
    from crosspromo.accounts import pages as accounts_pages
    from crosspromo.accounts import team
    from crosspromo.businesses import api as businesses_api
    from crosspromo.businesses import pages as businesses_pages
    from crosspromo.campaigns import api as campaigns_api
    from crosspromo.campaigns import pages as campaigns_pages
    from crosspromo.imports import api as imports_api
    from crosspromo.imports import pages as imports_pages
    from crosspromo.leads import api as leads_api
    from crosspromo.leads import pages as leads_pages
    from crosspromo.loyalty import api as loyalty_api
    from crosspromo.loyalty import pages as loyalty_pages
    from crosspromo.matching import api as matching_api
    from crosspromo.matching import pages as matching_pages
    from crosspromo.measurement import api as measurement_api
    from crosspromo.measurement import attribution_api, kpi_api, kpi_pages, report_api, report_pages
    from crosspromo.measurement import pages as measurement_pages
    from crosspromo.messaging import api as messaging_api
    from crosspromo.messaging import audience_pages as messaging_audience_pages
    from crosspromo.messaging import business_pages as messaging_business_pages
    from crosspromo.messaging import callbacks as messaging_callbacks
    from crosspromo.messaging import pages as messaging_pages
    from crosspromo.notifications import api as notifications_api
    from crosspromo.notifications import pages as notifications_pages
    from crosspromo.offers import api as offers_api
    from crosspromo.offers import (
        distribution_api,
        print_pages,
        referral_pages,
        statement_api,
        statement_pages,
    )
    from crosspromo.offers import till as offers_till
    from crosspromo.offers import webhook_pages as offers_webhooks
    from crosspromo.overlap import api as overlap_api
    from crosspromo.partnerships import api as partnerships_api
    from crosspromo.partnerships import pages as partnerships_pages
    from crosspromo.pipeline import api as pipeline_api
    from crosspromo.pipeline import pages as pipeline_pages
    from crosspromo.today import pages as today_pages

    routers = (
        accounts_api.router,
        businesses_api.router,
        imports_api.router,
        matching_api.router,
        overlap_api.router,
        partnerships_api.router,
        campaigns_api.router,
        notifications_api.router,
        offers_api.router,
        distribution_api.router,
        pipeline_api.router,
        kpi_api.router,
        accounts_pages.router,
        team.router,
        businesses_pages.router,
        imports_pages.router,
        matching_pages.router,
        partnerships_pages.router,
        campaigns_pages.router,
        offers_till.router,
        print_pages.router,
        notifications_pages.router,
        pipeline_pages.router,
        referral_pages.router,
        statement_api.router,
        statement_pages.router,
        loyalty_api.router,
        loyalty_pages.router,
        attribution_api.router,
        report_api.router,
        report_pages.router,
        measurement_api.router,
        measurement_pages.router,
        kpi_pages.router,
        today_pages.router,
        leads_api.router,
        leads_pages.router,
        messaging_api.router,
        messaging_callbacks.router,
        messaging_pages.router,
        messaging_business_pages.router,
        messaging_audience_pages.router,
        offers_webhooks.router,
    )
    for router in routers:
        app.include_router(router)
    app.include_router(system_pages())
    app.mount(
        "/static", StaticFiles(directory=str(files("crosspromo") / "web" / "static")), "static"
    )
    return app
