"""Serve the caseworker's single-page app (web/dist, built by Vite) from the FastAPI app.

`mount_spa(app)` goes after every API router: `/assets/*` are the hashed build files, a
file at the top of dist (favicon) is served as is, every other non-API path answers
index.html so that the browser's router shows the page (deep links, reloads). An unknown
`/api/...` path stays a JSON 404 in the shared error body. When `web/dist` has not been
built, the pages answer a short explanation for the operator instead of a blank screen.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

#: web/dist in a source checkout (src/safetynet/api/spa.py → repository root).
DEFAULT_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"

_NOT_BUILT = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>低收入人口动态监测平台 · safetynet</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:720px;margin:48px auto;
padding:0 16px;color:#303133}}h1{{color:#b71c1c;font-size:22px}}code,pre{{background:#f5f7fa;padding:2px 6px}}
pre{{padding:12px}}</style></head>
<body><h1>低收入人口动态监测平台</h1>
<p><strong>网页界面尚未构建。</strong>接口服务运行正常（<a href="/api/v1/docs">/api/v1/docs</a>），
但未找到前端构建结果 <code>{dist}</code>。请在代码目录执行：</p>
<pre>bash scripts/bootstrap.sh
# 或手动：
cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>然后刷新本页。</p>
<hr>
<p><strong>The web UI has not been built.</strong> The API is running
(<a href="/api/v1/docs">/api/v1/docs</a>) but <code>{dist}</code> is missing. Build it with
<code>bash scripts/bootstrap.sh</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>,
Node 20+) and reload this page.</p>
</body></html>
"""

class _Assets(StaticFiles):
    """The build's /assets; a missing build answers 404 per file instead of a server error."""

    async def check_config(self) -> None:
        if self.directory is not None and Path(self.directory).is_dir():
            await super().check_config()


# index.html names the hashed assets of the current build: never cache it.
_NO_CACHE = {"Cache-Control": "no-cache"}


def mount_spa(app: FastAPI, dist: Path | None = None) -> None:
    """Add the web UI to `app`; call it after all API routers so they match first."""
    dist = (dist or DEFAULT_DIST).resolve()
    # Mounted even before a build exists (check_dir=False), so building later needs no restart.
    app.mount("/assets", _Assets(directory=dist / "assets", check_dir=False), name="assets")

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def spa(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            raise HTTPException(status_code=404, detail=f"No API route /{path}")
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT.format(dist=dist), status_code=503, headers=_NO_CACHE)
        if path and "/" not in path:
            candidate = (dist / path).resolve()
            if candidate.parent == dist and candidate.is_file():
                return FileResponse(candidate)
        return FileResponse(index, media_type="text/html", headers=_NO_CACHE)
