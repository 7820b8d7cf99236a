"""`/docs` and `/redoc` work on a closed network: their pages name no other host, and every script, style
and icon they load is served by the service itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings

_REFERENCE = re.compile(r"""(?:src|href|url)\s*[=:]\s*["']([^"']+)["']""")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    state = tmp_path_factory.mktemp("docs") / "state.sqlite3"
    # no lifespan: the pages need no engine
    return TestClient(create_app(Settings(api_keys="docs-key:docs-secret", state_db=state)))


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_nothing_from_another_host(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE), html
    references = _REFERENCE.findall(html)
    assets = [r for r in references if r != "/openapi.json"]
    assert len(assets) >= 2, references  # the script and the icon at least
    for url in references:
        fetched = client.get(url)
        assert fetched.status_code == 200, url
        assert len(fetched.content) > 100, url


def test_a_missing_asset_is_the_vendors_not_found(client: TestClient) -> None:
    response = client.get("/docs-assets/" + Path("nothing.js").name)
    assert response.status_code == 404
