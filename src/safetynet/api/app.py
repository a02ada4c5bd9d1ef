"""The web application: API under /api/v1 and the caseworker's pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Engine, text

import safetynet
from safetynet.errors import NotFoundError, SafetynetError
from safetynet.linkage.api import router as linkage_router
from safetynet.registry.api import router as registry_router
from safetynet.rules.api import router as rules_router
from safetynet.simulation.api import router as simulation_router
from safetynet.standards.service import store_lookup

STATIC = Path(__file__).parent / "static"


def create_app(engine: Engine | None = None) -> FastAPI:
    if engine is None:
        from safetynet.db import get_engine

        engine = get_engine()
    app = FastAPI(title="safetynet 低收入人口动态监测平台", version=safetynet.__version__,
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs")
    app.state.engine = engine
    app.state.standards_lookup = store_lookup(engine)

    @app.exception_handler(NotFoundError)
    async def not_found(_request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"code": "not_found", "message": str(exc)})

    @app.exception_handler(SafetynetError)
    async def bad_request(_request: Request, exc: SafetynetError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"code": "invalid", "message": str(exc)})

    @app.get("/api/v1/health", tags=["system"])
    def health() -> dict:
        """Liveness plus a real round trip to the database."""
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": safetynet.__version__, "database": engine.dialect.name}

    app.include_router(registry_router, prefix="/api/v1")
    app.include_router(rules_router, prefix="/api/v1")
    app.include_router(linkage_router, prefix="/api/v1")
    app.include_router(simulation_router, prefix="/api/v1")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return (STATIC / "index.html").read_text(encoding="utf-8")

    return app
