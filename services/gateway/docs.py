"""``GET /docs``: the OpenAPI document rendered for people (Swagger UI).

The page and its scripts come from the ``swagger-ui-py`` package (Swagger UI
5, which reads OpenAPI 3.1), served by the gateway itself: no CDN, so the
page works where machines have no internet. Only the files the page needs
are served; the document itself is ``/v1/openapi.json``.
"""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path

import swagger_ui
from werkzeug.wrappers import Response

from chassis.errors import NotFound

from .http import route

ASSETS = Path(swagger_ui.__file__).parent / "static"
SERVED = (
    "swagger-ui.css",
    "index.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>Partner Center API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="stylesheet" href="/docs/index.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({
        url: "/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout"
      });
    };
  </script>
</body>
</html>
"""


@cache
def asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


class DocsPage:
    @route("GET", "/docs", summary="the API reference for people (Swagger UI)", hidden=True)
    def docs(self, request):
        return Response(PAGE, mimetype="text/html")

    @route("GET", "/docs/<name>", summary="the docs page's scripts and styles", hidden=True)
    def docs_asset(self, request, name):
        if name not in SERVED:
            raise NotFound("not_found", "no such file")
        return Response(
            asset(name),
            mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream",
            headers={"Cache-Control": "public, max-age=86400"},
        )
