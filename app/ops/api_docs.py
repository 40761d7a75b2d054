"""``/docs``: Swagger UI over ``/openapi.json``, its script and style served from the service's own
files (npm's ``swagger-ui-dist``, pinned in package.json and installed by ``make setup``), so the
page works where no CDN is reachable.

Only the three files the page loads are served, by name: the directory is never exposed.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from app.api.errors import ApiError
from app.api.routing import add_routes

ASSETS_PATH = "/docs/assets"
# The files the page loads, and their media types.
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
# The assets change only with the pinned version, which changes their content, not their names:
# a day's cache, revalidated by the file's ETag after that.
_CACHE = "public, max-age=86400"


def install_api_docs(app: FastAPI, assets_dir: Path) -> None:
    """Serve ``/docs`` from ``assets_dir`` (``swagger-ui-dist``). Create the app with
    ``docs_url=None`` and ``redoc_url=None``: FastAPI's own pages load their scripts from CDNs."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    def docs() -> HTMLResponse:
        _missing_assets(assets_dir)
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    @router.get(ASSETS_PATH + "/{name}")
    def asset(name: str) -> FileResponse:
        media_type = _ASSETS.get(name)
        if media_type is None:
            raise ApiError(404, "not_found", f"No documentation asset {name!r}.")
        _missing_assets(assets_dir)
        return FileResponse(
            assets_dir / name, media_type=media_type, headers={"Cache-Control": _CACHE}
        )

    add_routes(app, router)


def _missing_assets(assets_dir: Path) -> None:
    absent = [name for name in _ASSETS if not (assets_dir / name).is_file()]
    if absent:
        raise ApiError(
            503,
            "docs_assets_missing",
            f"Swagger UI's files are not installed ({', '.join(absent)} not in {assets_dir}): "
            "run `make setup`, or set TRUSTMALL_SWAGGER_UI_DIR. /openapi.json is served.",
        )
