"""README command 1 in miniature: `safetynet demo` generates, imports and serves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback only
        return r.status, r.read().decode("utf-8")


def test_demo_generates_imports_and_serves(tmp_path):
    port = _free_port()
    env = {**os.environ, "SAFETYNET_DATA_DIR": str(tmp_path / "data")}
    env.pop("SAFETYNET_DATABASE_URL", None)  # the embedded default, as the README runs it
    proc = subprocess.Popen(
        [sys.executable, "-m", "safetynet.cli.main", "demo", "--persons", "3000", "--months", "2",
         "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 180
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = json.loads(_get(f"http://127.0.0.1:{port}/api/v1/health")[1])
                break
            except OSError:
                time.sleep(0.5)
        assert health is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert health == {"status": "ok", "version": health["version"], "database": "sqlite"}
        summary = json.loads(_get(f"http://127.0.0.1:{port}/api/v1/registry/summary")[1])
        assert sum(summary["persons_by_tier"].values()) == 3000
        assert summary["persons_by_tier"]["dibao"] > 0
        # the demo's county standards are in the store, so assess uses them
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/assess", method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"as_of": "2025-07-01", "region": "370402001001", "registration": "urban",
                             "members": [{"id": "p1", "birth_date": "1980-01-01", "relation": "head"}]}
                            ).encode())
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - loopback only
            assessed = json.loads(r.read())
        sources = next(e for e in assessed["explanation"] if e["rule"] == "policy.local_standards")
        assert sources["values"]["sources"]["dibao_standard"] == "store"
        assert sources["values"]["sources"]["extremely_poor_basic_standard"] == "store"
        status, page = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "低收入人口动态监测平台" in page
        assert (tmp_path / "data" / "safetynet.sqlite3").exists()
        assert (tmp_path / "data" / "demo" / "feeds").is_dir()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
