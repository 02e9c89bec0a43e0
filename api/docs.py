"""/docs: FastAPI's Swagger UI, its files served from this machine.

FastAPI's default page loads Swagger UI's script, style and icon from a CDN,
and Swagger UI would send the spec to an online validator. seedqa never
reaches the internet, so the page points at the copy of Swagger UI 5 in the
`swagger-ui-py` package, served under /docs/assets, with the validator off.
(Swagger UI 4, as in `swagger-ui-bundle`, cannot read FastAPI's OpenAPI 3.1.)
ReDoc (/redoc, CDN-only) is not served.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def swagger_ui_files() -> Path:
    """Swagger UI's folder in the swagger-ui-py package, found without importing it (the
    package's own code, adapters for other web frameworks, is not needed)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The swagger-ui-py package is missing: pip install 'swagger-ui-py==25.7.1'")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_files())), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title="seedqa API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )
