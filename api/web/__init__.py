"""The pages: server-rendered HTML for employers (HR clerks) and dispatchers, in the same
FastAPI app as the JSON API. Pages call the API's own route functions, crud and rules; only
the presentation lives here (docs/web.md)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
FONTS_DIR = Path(__file__).resolve().parents[1] / "documents" / "fonts"


def install_pages(app: FastAPI) -> None:
    """Add the pages, their static files (vendored htmx, Swagger UI, ReDoc: nothing from a CDN)
    and the offline /docs and /redoc to `app`."""
    from api.web import common, dispatcher, employer

    # The documents' CJK font (WenQuanYi Micro Hei, shipped with its licence) doubles as the
    # pages' last-resort font: a browser fetches it only for characters no local font has.
    app.mount("/static/fonts", StaticFiles(directory=FONTS_DIR), name="fonts")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (common, employer, dispatcher):
        app.include_router(module.router)
    common.install_page_errors(app)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="chunyun API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html

        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="chunyun API",
            redoc_js_url="/static/vendor/redoc/redoc.standalone.js",
            redoc_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
