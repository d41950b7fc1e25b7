"""/viewer/{mirador,uv,clover}?manifest=... pages and /viewer/assets/ (docs/viewers.md), against a
small assets folder made here (web-assets-dir), so these checks need no npm install: the page's
headers and settings, the files' types and caching, path tricks, refusals, and the page that says
how to install the viewers when they are absent. The viewers themselves run in tests/browser."""

import gzip
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from fixtures import Server  # noqa: E402

MANIFEST = "/iiif/presentation/book/manifest"


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    d = tmp_path_factory.mktemp("web-assets")
    files = {
        "VERSIONS": "mirador 4.0.0\ninputs abc\n",
        "mirador/mirador.min.js": "window.Mirador = {}; // \u00e9\n",
        "uv/uv.css": "body{}\n",
        "uv/umd/UV.js": "window.UV = {};\n",
        "uv/umd/1000.abc.js": "1;\n",
        "boot/mirador.js": "0;\n",
        "boot/viewer.css": "html{}\n",
        "boot/notes.xyz": "unknown type\n",
        ".hidden.js": "0;\n",
    }
    for rel, text in files.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    (d / "mirador/mirador.min.js.gz").write_bytes(
        gzip.compress((d / "mirador/mirador.min.js").read_bytes()))
    (tmp_path_factory.getbasetemp() / "secret.js").write_text("secret\n")
    return d


@pytest.fixture(scope="module")
def server(iiifd_bin, assets, tmp_path_factory):
    root = tmp_path_factory.mktemp("viewer-root")
    s = Server(iiifd_bin, root, tmp_path_factory.mktemp("viewer-work"),
               args=["--web-assets-dir", str(assets)], name="viewer")
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def bare(iiifd_bin, tmp_path_factory):
    """A server whose web-assets-dir has no viewers installed."""
    root = tmp_path_factory.mktemp("viewer-bare-root")
    empty = tmp_path_factory.mktemp("no-assets")
    s = Server(iiifd_bin, root, tmp_path_factory.mktemp("viewer-bare-work"),
               args=["--web-assets-dir", str(empty)], name="viewer-bare")
    s.start()
    yield s
    s.stop()


def settings(page):
    m = re.search(r'<script type="application/json" id="iiifd-viewer-config">(.*?)</script>', page,
                  re.S)
    assert m, page
    return json.loads(m.group(1))


@pytest.mark.parametrize("viewer,script", [("mirador", "mirador/mirador.min.js"),
                                           ("uv", "uv/umd/UV.js"),
                                           ("clover", "clover/clover.js")])
def test_page(server, viewer, script):
    r = server.get(f"/viewer/{viewer}?manifest={MANIFEST}")
    assert r.status == 200, r
    assert r.content_type == "text/html; charset=utf-8"
    csp = r.header("Content-Security-Policy")
    assert csp and "script-src 'self'" in csp and "unsafe-eval" not in csp, csp
    assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert r.header("X-Content-Type-Options") == "nosniff"
    page = r.body.decode("utf-8")
    assert f'src="assets/{script}?v=' in page
    assert f'src="assets/boot/{viewer}.js?v=' in page
    # no inline script code (script-src 'self'): only the JSON settings element
    assert len(re.findall(r"<script>", page)) == 0
    assert settings(page) == {"manifest": server.base + MANIFEST}


def test_page_canvas_region_query(server):
    canvas = server.base + MANIFEST + "/canvas/2"
    r = server.get(f"/viewer/mirador?manifest={server.base}{MANIFEST}&canvas={canvas}"
                   "&xywh=10,20,300,40&q=%3C%2Fscript%3E")
    assert r.status == 200, r
    page = r.body.decode("utf-8")
    assert "</script></script>" not in page
    s = settings(page)
    assert s["canvas"] == canvas and s["xywh"] == [10, 20, 300, 40] and s["q"] == "</script>"


@pytest.mark.parametrize("query,word", [
    ("", "manifest"),
    ("manifest=http://example.org/iiif/m", "own"),
    ("manifest=//example.org/m", "own"),
    ("manifest=javascript:alert(1)", "own"),
    (f"manifest={MANIFEST}&canvas=http://example.org/c", "own"),
    (f"manifest={MANIFEST}&xywh=1,2,3", "xywh"),
    (f"manifest={MANIFEST}&xywh=nan,0,1,1", "xywh"),
    ("manifest=%zz", "manifest"),
])
def test_page_refusals(server, query, word):
    r = server.get("/viewer/mirador?" + query)
    assert r.status == 400, r
    assert word in r.body.decode("utf-8", "replace")


def test_unknown_viewer(server):
    assert server.get(f"/viewer/openseadragon?manifest={MANIFEST}").status == 404
    assert server.get("/viewer/").status == 404


def test_assets(server, assets):
    r = server.get("/viewer/assets/mirador/mirador.min.js?v=1")
    assert r.status == 200, r
    assert r.content_type == "text/javascript; charset=utf-8"
    assert r.body == (assets / "mirador/mirador.min.js").read_bytes()
    assert "immutable" in r.header("Cache-Control") and "31536000" in r.header("Cache-Control")
    assert r.header("ETag")
    r = server.get("/viewer/assets/uv/umd/1000.abc.js")
    assert r.status == 200 and "max-age=86400" in r.header("Cache-Control"), r.headers
    r = server.get("/viewer/assets/uv/uv.css")
    assert r.status == 200 and r.content_type == "text/css; charset=utf-8"
    etag = server.get("/viewer/assets/boot/mirador.js").header("ETag")
    assert server.get("/viewer/assets/boot/mirador.js",
                      headers={"If-None-Match": etag}).status == 304


def test_assets_gzip(server, assets):
    plain = (assets / "mirador/mirador.min.js").read_bytes()
    r = server.get("/viewer/assets/mirador/mirador.min.js?v=1",
                   headers={"Accept-Encoding": "gzip, deflate"})
    assert r.status == 200, r
    assert r.header("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in (r.header("Vary") or "")
    assert r.content_type == "text/javascript; charset=utf-8"
    assert gzip.decompress(r.body) == plain
    r2 = server.get("/viewer/assets/mirador/mirador.min.js?v=1",
                    headers={"Accept-Encoding": "gzip;q=0"})
    assert r2.status == 200 and not r2.header("Content-Encoding") and r2.body == plain
    assert r.header("ETag") != r2.header("ETag")
    # a file without a .gz copy is sent as it is
    r3 = server.get("/viewer/assets/uv/uv.css", headers={"Accept-Encoding": "gzip"})
    assert not r3.header("Content-Encoding") and r3.body == b"body{}\n"
    # the copies themselves are not files of a served type
    assert server.get("/viewer/assets/mirador/mirador.min.js.gz").status == 404


@pytest.mark.parametrize("path", [
    "/viewer/assets/../VERSIONS",
    "/viewer/assets/%2e%2e/secret.js",
    "/viewer/assets/%2E%2E%2Fsecret.js",
    "/viewer/assets/boot/..%2f..%2fsecret.js",
    "/viewer/assets/.hidden.js",
    "/viewer/assets/boot/notes.xyz",      # a type the viewers never need
    "/viewer/assets/VERSIONS",            # no extension
    "/viewer/assets/boot",                # a folder
    "/viewer/assets/boot/%00.js",
    "/viewer/assets/nothing.js",
])
def test_assets_refused(server, path):
    r = server.get(path)
    assert r.status == 404, (path, r)
    assert b"secret" not in r.body


def test_not_installed(bare):
    r = bare.get(f"/viewer/mirador?manifest={MANIFEST}")
    assert r.status == 503, r
    assert r.content_type == "text/html; charset=utf-8"
    body = r.body.decode("utf-8")
    assert "make web" in body and "scripts/install-web" in body
    assert bare.get("/viewer/assets/mirador/mirador.min.js").status == 404
    # and everything else works
    assert bare.get("/health").status == 200
