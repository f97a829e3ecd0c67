"""/docs and /redoc work on a closed network: every script, style sheet and icon they load
is served by ragqa itself (nothing from a CDN)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

ASSET_TYPES = {
    "/docs/assets/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "/docs/assets/swagger-ui.css": "text/css; charset=utf-8",
    "/docs/assets/redoc.standalone.js": "text/javascript; charset=utf-8",
    "/docs/assets/favicon.png": "image/png",
}


def _loaded(html: str) -> set[str]:
    return set(re.findall(r'(?:src|href)="([^"]+)"', html)) | set(
        re.findall(r"url: '([^']+)'", html)
    )


def test_the_docs_pages_load_only_what_ragqa_serves(client: TestClient) -> None:
    swagger, redoc = client.get("/docs"), client.get("/redoc")
    assert (swagger.status_code, redoc.status_code) == (200, 200)
    assert _loaded(swagger.text) == {
        "/docs/assets/swagger-ui.css",
        "/docs/assets/favicon.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/openapi.json",
    }
    assert _loaded(redoc.text) == {"/docs/assets/favicon.png", "/docs/assets/redoc.standalone.js"}
    assert "cdn" not in (swagger.text + redoc.text).lower()
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    assert re.search(r'"5\.\d+\.\d+"', bundle)  # Swagger UI 5: it reads OpenAPI 3.1


def test_every_docs_asset_is_served_with_its_type_and_nothing_else_is(client: TestClient) -> None:
    for path, media_type in ASSET_TYPES.items():
        response = client.get(path)
        assert (response.status_code, response.headers["content-type"]) == (200, media_type)
        assert len(response.content) > 1000
    missing = client.get("/docs/assets/core.py")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == (
        "no docs asset 'core.py': the docs serve favicon.png, redoc.standalone.js, "
        "swagger-ui-bundle.js, swagger-ui.css"
    )
    assert client.get("/docs/assets/..%2Fcore.py").status_code == 404
