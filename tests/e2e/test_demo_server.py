"""README command 1 in miniature: `safetynet demo` generates, imports, seeds the demo users and
serves the API and the web UI (the session fixture `demo_site` runs it in a subprocess)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import ApiClient, DemoSite

pytestmark = pytest.mark.slow  # starts `safetynet demo` (a minute), still in the suite


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - loopback only
            return r.status, r.headers.get("content-type", ""), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read().decode("utf-8")


def test_demo_generates_imports_and_serves(demo_site: DemoSite):
    base = demo_site.base_url
    status, _, body = _get(f"{base}/api/v1/health")
    health = json.loads(body)
    assert status == 200
    assert health == {"status": "ok", "version": health["version"], "database": demo_site.database}
    # the register needs a signed-in user now, and says so in the shared error body
    status, _, body = _get(f"{base}/api/v1/registry/summary")
    assert status == 401 and json.loads(body)["code"] == "not_signed_in"
    with demo_site.api("province_admin") as admin:
        summary = admin.get("/registry/summary").json()
        assert sum(summary["persons_by_tier"].values()) == demo_site.persons
        assert summary["persons_by_tier"]["dibao"] > 0
        # the demo's county standards are in the store, so assess uses them
        r = admin.post("/assess", json={
            "as_of": "2025-07-01", "region": "370402001001", "registration": "urban",
            "members": [{"id": "p1", "birth_date": "1980-01-01", "relation": "head"}]})
        assert r.status_code == 200, r.text
        sources = next(e for e in r.json()["explanation"] if e["rule"] == "policy.local_standards")
        assert sources["values"]["sources"]["dibao_standard"] == "store"
        assert sources["values"]["sources"]["extremely_poor_basic_standard"] == "store"
    # the embedded database file exists exactly when the server runs on it
    assert (demo_site.data_dir / "safetynet.sqlite3").exists() == (demo_site.database == "sqlite")
    assert (demo_site.data_dir / "demo" / "feeds").is_dir()


def test_demo_users_sign_in_with_the_published_password(demo_site: DemoSite):
    client = ApiClient(base=f"{demo_site.base_url}/api/v1")
    r = client.post("/auth/login", json={"username": "caseworker", "password": "Demo@2026"})
    assert r.status_code == 200
    me = client.get("/auth/me").json()
    assert me["role"] == "township_caseworker" and me["region_code"].startswith("37")


def test_web_ui_is_served_at_the_root_and_for_deep_links(demo_site: DemoSite):
    base = demo_site.base_url
    status, ctype, page = _get(f"{base}/")
    assert status == 200 and ctype.startswith("text/html") and "低收入人口动态监测平台" in page
    asset = page.split('src="', 1)[1].split('"', 1)[0]
    assert asset.startswith("/assets/") and asset.endswith(".js")
    status, ctype, _ = _get(base + asset)
    assert status == 200 and "javascript" in ctype
    # a page of the single-page app reloaded in the browser gets index.html, not a 404
    status, _, deep = _get(f"{base}/households/H000000001")
    assert status == 200 and deep == page
    # an unknown API path stays a JSON error, never the HTML page
    status, ctype, body = _get(f"{base}/api/v1/no-such-route")
    assert status in (401, 404) and ctype.startswith("application/json") and json.loads(body)["code"]
    status, _, _ = _get(f"{base}/assets/no-such-file.js")
    assert status == 404
