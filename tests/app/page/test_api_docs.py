"""``/docs`` works offline: Swagger UI's files come from the service itself, and the page, run in
a headless Chromium that resolves no host but loopback, draws every operation."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from harness.devtools import browser_page
from tests.app.page.serving import served

ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def test_the_docs_page_loads_only_the_services_own_files(
    client: TestClient, settings: Settings
) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "https://" not in page.text
    for name, media_type in ASSET_TYPES.items():
        assert f'"/docs/assets/{name}"' in page.text or f"/docs/assets/{name}" in page.text
        asset = client.get(f"/docs/assets/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(media_type)
        assert asset.content == (settings.swagger_ui_dir / name).read_bytes()
    # Nothing else of the package, nor anything beside it, is reachable.
    for other in ("package.json", "..%2Fpackage.json", "index.html"):
        refused = client.get(f"/docs/assets/{other}")
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "not_found"
    assert client.get("/redoc").status_code == 404  # FastAPI's ReDoc page loads from a CDN


def test_without_the_files_docs_says_what_to_run(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings.model_copy(update={"swagger_ui_dir": tmp_path / "absent"}))
    with TestClient(app) as client:
        answer = client.get("/docs")
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "docs_assets_missing"
        assert "make setup" in answer.json()["error"]["message"]
        assert client.get("/openapi.json").status_code == 200


def test_swagger_ui_draws_every_operation_with_no_internet(
    settings: Settings, tmp_path: Path
) -> None:
    app = create_app(settings)
    operations = sum(
        len([m for m in methods if m in {"get", "post", "put", "delete", "patch"}])
        for methods in app.openapi()["paths"].values()
    )
    with served(app) as base, browser_page(tmp_path) as page:
        page.open(f"{base}/docs")
        drawn = page.evaluate(
            "new Promise(done => { const look = () => {"
            " const n = document.querySelectorAll('.opblock').length;"
            " n > 0 ? done(n) : setTimeout(look, 50); }; look(); })"
        )
        title = page.evaluate("document.querySelector('.info .title').textContent")
    assert drawn == operations
    assert "TrustMall oracle service" in title
