"""The API's interactive docs at /docs, with Swagger UI served by the service itself (from the
npm package swagger-ui-dist that `make setup` installs, with its licence), not from a CDN: the
machines that run the service may have no internet."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"


def install(app: FastAPI) -> None:
    if not (SWAGGER_UI / "swagger-ui-bundle.js").exists():
        return  # no npm packages here (a bare pip install): FastAPI's default /docs stays
    app.mount("/docs-assets", StaticFiles(directory=SWAGGER_UI), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title}: API docs",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
