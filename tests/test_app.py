"""The application shell: OpenAPI docs served from the package, nothing fetched from elsewhere."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


def test_the_api_docs_load_swagger_ui_from_the_package(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert not EXTERNAL.search(page.text), "the docs page links an asset on another host"
    for asset in re.findall(r"""["'](/static/[^"']+)["']""", page.text):
        assert client.get(asset).status_code == 200, asset
    assert "/api/persons" in client.get("/openapi.json").json()["paths"]
