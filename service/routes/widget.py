"""The embeddable widget script (`/widget.js`) and a demo page using it (`/demo`)."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse

from service.errors import NotFound
from service.routing import api_router

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
# Short cache: pages embedding the widget pick up a new version within minutes.
WIDGET_CACHE = "public, max-age=300"

router = api_router(tags=["widget"])


@router.get("/widget.js", response_class=FileResponse)
async def widget_js() -> FileResponse:
    """The widget script, to include with `<script src=".../widget.js">`."""
    return FileResponse(
        _static("widget.js"),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": WIDGET_CACHE},
    )


@router.get("/demo", response_class=FileResponse)
async def demo() -> FileResponse:
    """A page showing the widget against this server."""
    return FileResponse(
        _static("demo.html"),
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def _static(name: str) -> Path:
    path = STATIC_DIR / name
    if not path.is_file():
        raise NotFound(f"{name} is not installed in {STATIC_DIR}")
    return path
