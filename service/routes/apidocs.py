"""The interactive API docs (`/docs`, Swagger UI; `/redoc`) with their scripts served from here.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which a closed network cannot reach
and which the README promises nothing needs. The files come from the `fastapi-offline` wheel
(Swagger UI 5, which reads OpenAPI 3.1; ReDoc standalone); FastAPI's page builders are pointed
at them, so the pages are FastAPI's own otherwise.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from service.errors import NotFound
from service.routing import api_router

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
"""The files served under /docs/assets/, by name, with their media types (nothing else is)."""
ASSETS_CACHE = "public, max-age=86400"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"

router = api_router(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - Swagger UI",
        oauth2_redirect_url=OAUTH2_REDIRECT,
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon.png",
    )


@router.get(OAUTH2_REDIRECT, response_class=HTMLResponse)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url="/docs/assets/redoc.standalone.js",
        redoc_favicon_url="/docs/assets/favicon.png",
        with_google_fonts=False,
    )


@router.get("/docs/assets/{name}", response_class=FileResponse)
async def asset(name: str) -> FileResponse:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"no docs asset {name!r}: the docs serve {', '.join(sorted(ASSETS))}")
    return FileResponse(
        ASSETS_DIR / name, media_type=media_type, headers={"Cache-Control": ASSETS_CACHE}
    )
