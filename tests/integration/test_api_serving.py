"""How the app answers on the wire: large bodies compressed for clients that accept gzip,
small ones sent as they are (compressing them costs more CPU than it saves)."""

from __future__ import annotations

import json

from safetynet.api.app import GZIP_MINIMUM_BYTES


def test_large_answers_are_gzipped_and_small_ones_are_not(client_as):
    client = client_as.anonymous()
    large = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert large.status_code == 200
    assert large.headers["content-encoding"] == "gzip"
    # the client decodes the body: what came over the wire is the shorter, compressed one
    assert int(large.headers["content-length"]) < len(large.content)
    assert "paths" in large.json()
    small = client.get("/api/v1/health", headers={"Accept-Encoding": "gzip"})
    assert len(small.content) < GZIP_MINIMUM_BYTES and "content-encoding" not in small.headers
    plain = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and json.loads(plain.content) == large.json()

