"""HTTP behaviour: CORS, OPTIONS, HEAD, validators (ETag / Last-Modified / 304), Cache-Control,
keep-alive, access log, base URI redirect, media types, Link headers, public URL / forwarded
headers, concurrency."""

import http.client
import os
import shutil
import threading
import time
import urllib.parse

import numpy as np
import pytest
from PIL import Image

import fixtures as fx
from conftest import SOURCE_MTIME

INFO3 = "/iiif/3/grid.png/info.json"
INFO2 = "/iiif/2/grid.png/info.json"
IMG3 = "/iiif/3/grid.png/full/pct:10/0/default.jpg"
IMG2 = "/iiif/2/grid.png/full/100,/0/default.png"

# (path, acceptable statuses)
VARIOUS = [
    ("/health", {200}),
    (INFO3, {200}),
    (INFO2, {200}),
    (IMG3, {200}),
    (IMG2, {200}),
    ("/iiif/3/grid.png", {303}),
    ("/iiif/2/grid.png", {303}),
    ("/iiif/3/nope.png/info.json", {404}),
    ("/iiif/3/nope.png/full/max/0/default.jpg", {404}),
    ("/iiif/3/grid.png/bogus/max/0/default.jpg", {400}),
    ("/iiif/2/grid.png/full/full/0/default.bmp", {400, 415}),
    ("/iiif/3/garbage.tif/info.json", {500}),
    ("/iiif/3/..%2F..%2Fetc%2Fpasswd/info.json", {404}),
]


# ---------------------------------------------------------------------------------------------
# CORS (3.0 section 7.1; cors feature: "on all responses")
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path,statuses", VARIOUS, ids=[v[0] for v in VARIOUS])
def test_cors_on_every_response(server, path, statuses):
    r = server.get(path, headers={"Origin": "http://example.org"})
    assert r.status in statuses, (r.status, r.body[:200])
    assert r.header("Access-Control-Allow-Origin") == "*"


@pytest.mark.parametrize("path", [INFO3, IMG3, INFO2, IMG2])
def test_cors_on_304(server, path):
    etag = server.get(path).header("ETag")
    r = server.get(path, headers={"If-None-Match": etag, "Origin": "http://example.org"})
    assert r.status == 304
    assert r.header("Access-Control-Allow-Origin") == "*"


@pytest.mark.parametrize("path", [INFO3, IMG3, INFO2, "/iiif/3/grid.png"])
def test_options_preflight(server, path):
    r = server.get(path, method="OPTIONS", headers={
        "Origin": "http://example.org", "Access-Control-Request-Method": "GET"})
    assert r.status in (200, 204), r.status
    assert r.header("Access-Control-Allow-Origin") == "*"
    methods = [m.strip().upper() for m in (r.header("Access-Control-Allow-Methods") or "").split(",")]
    assert "GET" in methods, r.headers
    if r.status == 204:
        assert r.body == b""


# ---------------------------------------------------------------------------------------------
# HEAD
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [INFO3, INFO2, IMG3, IMG2, "/iiif/3/grid.png",
                                  "/iiif/3/nope.png/info.json",
                                  "/iiif/3/grid.png/bogus/max/0/default.jpg", "/health"])
def test_head_matches_get(server, path):
    g = server.get(path)
    h = server.get(path, method="HEAD")
    assert h.status == g.status
    assert h.body == b""
    for name in ("Content-Type", "ETag", "Last-Modified", "Cache-Control",
                 "Access-Control-Allow-Origin", "Location"):
        assert h.header(name) == g.header(name), name
    if h.header("Content-Length") is not None:
        assert int(h.header("Content-Length")) == len(g.body)
    assert sorted(h.links()) == sorted(g.links())


# ---------------------------------------------------------------------------------------------
# validators
# ---------------------------------------------------------------------------------------------
VALIDATED = [INFO3, INFO2, IMG3, IMG2, "/iiif/3/src_pyramid.tif/0,0,512,512/256,256/0/default.webp"]


@pytest.mark.parametrize("path", VALIDATED)
def test_etag_and_last_modified_present(server, path):
    r = server.get(path)
    assert r.status == 200
    etag = r.header("ETag")
    assert etag and (etag.startswith('"') or etag.startswith('W/"')) and etag.endswith('"'), etag
    lm = r.header("Last-Modified")
    assert lm, "no Last-Modified"
    ts = fx.parse_http_date(lm)
    assert ts <= time.time() + 1
    assert server.get(path).header("ETag") == etag, "ETag not stable"


@pytest.mark.parametrize("path", VALIDATED)
def test_if_none_match(server, path):
    etag = server.get(path).header("ETag")
    r = server.get(path, headers={"If-None-Match": etag})
    assert r.status == 304
    assert r.body == b""
    assert r.header("ETag") == etag, "a 304 must carry the ETag (RFC 7232 section 4.1)"
    r = server.get(path, headers={"If-None-Match": '"something-else"'})
    assert r.status == 200 and r.body
    r = server.get(path, headers={"If-None-Match": f'"something-else", {etag}'})
    assert r.status == 304


@pytest.mark.parametrize("path", VALIDATED)
def test_if_modified_since(server, path):
    lm = server.get(path).header("Last-Modified")
    t = fx.parse_http_date(lm)
    r = server.get(path, headers={"If-Modified-Since": lm})
    assert r.status == 304 and r.body == b""
    later = min(t + 86400, time.time() - 5)
    if later > t:
        r = server.get(path, headers={"If-Modified-Since": fx.http_date(later)})
        assert r.status == 304
    r = server.get(path, headers={"If-Modified-Since": fx.http_date(t - 86400)})
    assert r.status == 200 and r.body


def test_last_modified_is_file_mtime(server):
    lm = server.get(INFO3).header("Last-Modified")
    assert fx.parse_http_date(lm) == SOURCE_MTIME, lm


def test_if_none_match_takes_precedence_over_if_modified_since(server):
    # RFC 7232 section 6: If-Modified-Since is ignored when If-None-Match is present
    lm = server.get(INFO3).header("Last-Modified")
    r = server.get(INFO3, headers={"If-None-Match": '"nope"', "If-Modified-Since": lm})
    assert r.status == 200


def test_head_conditional(server):
    etag = server.get(IMG3).header("ETag")
    r = server.get(IMG3, method="HEAD", headers={"If-None-Match": etag})
    assert r.status == 304


def test_validators_change_when_file_changes(server_factory, tmp_path, root):
    own = tmp_path / "root"
    own.mkdir()
    shutil.copy(os.path.join(root, "grid.png"), own / "m.png")
    os.utime(own / "m.png", (SOURCE_MTIME, SOURCE_MTIME))
    s = server_factory(root_dir=str(own))
    paths = ["/iiif/3/m.png/info.json", "/iiif/3/m.png/full/max/0/default.png"]
    before = [s.get(p) for p in paths]
    assert before[0].json()["width"] == 1000
    Image.new("RGB", (640, 480), (9, 9, 9)).save(own / "m.png.tmp", format="PNG")
    os.replace(own / "m.png.tmp", own / "m.png")
    os.utime(own / "m.png", (SOURCE_MTIME + 3600, SOURCE_MTIME + 3600))
    after = [s.get(p) for p in paths]
    assert after[0].json()["width"] == 640, "stale info.json after the file changed"
    assert after[1].image().size == (640, 480), "stale image after the file changed"
    for b, a, p in zip(before, after, paths):
        assert a.header("ETag") != b.header("ETag"), p
        r = s.get(p, headers={"If-None-Match": b.header("ETag")})
        assert r.status == 200, p


# ---------------------------------------------------------------------------------------------
# Cache-Control
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [INFO3, IMG3, INFO2, IMG2])
def test_cache_control_default(server, path):
    cc = server.get(path).header("Cache-Control")
    assert cc and cc.strip()


@pytest.mark.parametrize("path", [INFO3, IMG3, INFO2, IMG2])
def test_cache_control_configured(pool, path):
    s = pool.get("--cache-control", "public, max-age=4242")
    assert s.get(path).header("Cache-Control") == "public, max-age=4242"


# ---------------------------------------------------------------------------------------------
# keep-alive
# ---------------------------------------------------------------------------------------------
def _same_connection(server, paths):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        sock = None
        out = []
        for p in paths:
            conn.request("GET", p)
            r = conn.getresponse()
            body = r.read()
            out.append((r.status, len(body)))
            if sock is None:
                sock = conn.sock
            assert conn.sock is sock and sock is not None, f"connection closed after {p}"
        return out
    finally:
        conn.close()


def test_keep_alive(server):
    out = _same_connection(server, ["/health", INFO3, IMG3, INFO2, IMG2, INFO3])
    assert all(s == 200 for s, _ in out), out
    assert all(n > 0 for _, n in out)


def test_keep_alive_across_errors(server):
    out = _same_connection(server, [INFO3, "/iiif/3/nope.png/info.json",
                                    "/iiif/3/grid.png/bogus/max/0/default.jpg", IMG3])
    assert [s for s, _ in out] == [200, 404, 400, 200], out


# ---------------------------------------------------------------------------------------------
# access log
# ---------------------------------------------------------------------------------------------
def test_access_log_line(server_factory):
    s = server_factory()
    ok = s.get("/iiif/3/tiny.png/info.json")
    miss = s.get("/iiif/3/missing-thing.png/info.json")
    assert ok.status == 200 and miss.status == 404
    deadline = time.time() + 3
    while time.time() < deadline:
        lines = s.stderr_text().splitlines()
        hit = [l for l in lines if "GET" in l and "/iiif/3/tiny.png/info.json" in l]
        hit404 = [l for l in lines if "/iiif/3/missing-thing.png/info.json" in l]
        if hit and hit404:
            break
        time.sleep(0.1)
    assert hit, f"no access log line for the request; stderr:\n{s.stderr_text()[-2000:]}"
    line = hit[-1]
    toks = line.replace("=", " ").replace(",", " ").split()
    assert "200" in toks, line
    assert str(len(ok.body)) in toks, f"byte count {len(ok.body)} not in: {line}"
    toks_wo_status = list(toks)
    toks_wo_status.remove("200")
    numeric = [t for t in toks_wo_status if t.rstrip("ms").replace(".", "", 1).isdigit()]
    assert len(numeric) >= 2, f"expected a byte count and a duration in: {line}"
    assert hit404 and "404" in hit404[-1].replace("=", " ").split(), hit404


# ---------------------------------------------------------------------------------------------
# base URI redirect (baseUriRedirect)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ident", ["grid.png", "sub%2Fgrid.png", "solo", "src_multipage.tif;2"])
@pytest.mark.parametrize("version", [3, 2])
def test_base_uri_redirect(server, version, ident):
    r = server.get(f"/iiif/{version}/{ident}")
    assert r.status == 303
    loc = r.header("Location")
    # an encoded ';' (%3B) is equivalent (3.0 section 9: encoding other characters is harmless)
    assert loc and urllib.parse.unquote(loc).endswith(
        urllib.parse.unquote(f"/iiif/{version}/{ident}/info.json")), loc
    assert "/" not in loc.split(f"/iiif/{version}/", 1)[1][:-len("/info.json")], loc
    target = loc[len(server.base):] if loc.startswith("http") else loc
    assert loc.startswith(server.base) or loc.startswith("/")
    assert server.get(target).status == 200


def test_base_uri_unknown_is_404(server):
    assert server.get("/iiif/3/nope.png").status == 404


# ---------------------------------------------------------------------------------------------
# media types (3.0 section 5.1, 2.1 section 5.1, 4.5)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", [3, 2])
@pytest.mark.parametrize("accept,expect", [
    (None, "application/json"),
    ("application/json", "application/json"),
    ("application/ld+json", 'application/ld+json;profile="http://iiif.io/api/image/{v}/context.json"'),
    ('application/ld+json;profile="http://iiif.io/api/image/{v}/context.json"',
     'application/ld+json;profile="http://iiif.io/api/image/{v}/context.json"'),
], ids=["none", "json", "ld+json", "ld+json-profile"])
def test_info_content_type(server, version, accept, expect):
    accept = accept.format(v=version) if accept else None
    r = server.get(f"/iiif/{version}/grid.png/info.json",
                   headers={"Accept": accept} if accept else None)
    assert r.status == 200
    ct = r.content_type.replace(" ", "")
    want = expect.format(v=version)
    if want == "application/json":
        assert ct.split(";")[0] == want, ct
    else:
        assert ct == want, ct
    r.json()


@pytest.mark.parametrize("fmt", fx.SUPPORTED_FORMATS)
def test_image_content_type(server, fmt):
    r = server.get(f"/iiif/3/tiny.png/full/max/0/default.{fmt}")
    assert r.status == 200
    assert r.content_type.split(";")[0].strip() == fx.MIME[fmt]


# ---------------------------------------------------------------------------------------------
# Link headers (profileLinkHeader, canonicalLinkHeader)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path,level", [(INFO3, fx.V3_LEVEL2), (IMG3, fx.V3_LEVEL2),
                                        (INFO2, fx.V2_LEVEL2), (IMG2, fx.V2_LEVEL2)])
def test_profile_link_header(server, path, level):
    r = server.get(path)
    assert fx.link_for(r, "profile") == [level], r.header_all("Link")


CANON_V3 = [
    ("full/max/0/default.jpg", "full/max/0/default.jpg"),
    ("0,0,1000,1000/max/0/default.jpg", "full/max/0/default.jpg"),
    ("square/max/0/default.jpg", "full/max/0/default.jpg"),
    ("pct:10,20,30,40/max/0/default.png", "100,200,300,400/max/0/default.png"),
    ("full/pct:50/0/default.jpg", "full/500,500/0/default.jpg"),
    ("full/500,/0/default.jpg", "full/500,500/0/default.jpg"),
    ("full/,500/0/default.jpg", "full/500,500/0/default.jpg"),
    ("full/!400,300/0/default.jpg", "full/300,300/0/default.jpg"),
    ("full/1000,1000/0/default.jpg", "full/max/0/default.jpg"),
    ("full/^1500,/0/default.jpg", "full/^1500,1500/0/default.jpg"),
    ("100,100,200,200/pct:50/0/default.jpg", "100,100,200,200/100,100/0/default.jpg"),
    ("full/max/90.0/default.jpg", "full/max/90/default.jpg"),
    ("full/max/22.50/default.png", "full/max/22.5/default.png"),
    ("full/max/!0/default.jpg", "full/max/!0/default.jpg"),
    ("full/max/0/gray.png", "full/max/0/gray.png"),
]
CANON_V2 = [
    ("full/full/0/default.jpg", "full/full/0/default.jpg"),
    ("square/full/0/default.jpg", "full/full/0/default.jpg"),
    ("full/pct:50/0/default.jpg", "full/500,/0/default.jpg"),
    ("full/!400,300/0/default.jpg", "full/300,/0/default.jpg"),
    ("full/500,500/0/default.jpg", "full/500,/0/default.jpg"),
    ("full/300,200/0/default.jpg", "full/300,200/0/default.jpg"),
    ("pct:10,20,30,40/full/0/default.jpg", "100,200,300,400/full/0/default.jpg"),
    ("full/full/!90/gray.png", "full/full/!90/gray.png"),
]


@pytest.mark.parametrize("req,canon", CANON_V3, ids=[c[0] for c in CANON_V3])
def test_canonical_link_v3(server, req, canon):
    r = server.get(f"/iiif/3/grid.png/{req}")
    assert r.status == 200
    assert fx.link_for(r, "canonical") == [f"{server.base}/iiif/3/grid.png/{canon}"], \
        r.header_all("Link")


@pytest.mark.parametrize("req,canon", CANON_V2, ids=[c[0] for c in CANON_V2])
def test_canonical_link_v2(server, req, canon):
    r = server.get(f"/iiif/2/grid.png/{req}")
    assert r.status == 200
    assert fx.link_for(r, "canonical") == [f"{server.base}/iiif/2/grid.png/{canon}"], \
        r.header_all("Link")


def test_canonical_link_keeps_identifier_encoded(server):
    r = server.get("/iiif/3/sub%2Fgrid.png/full/max/0/default.jpg")
    assert fx.link_for(r, "canonical") == [f"{server.base}/iiif/3/sub%2Fgrid.png/full/max/0/default.jpg"]


def test_canonical_url_is_served(server):
    r = server.get("/iiif/3/grid.png/pct:10,20,30,40/pct:50/!90/default.png")
    canon = fx.link_for(r, "canonical")[0]
    c = server.get(canon[len(server.base):])
    assert c.status == 200
    assert np.array_equal(np.asarray(c.image()), np.asarray(r.image()))


# ---------------------------------------------------------------------------------------------
# public URL and forwarded headers
# ---------------------------------------------------------------------------------------------
PUBLIC = "https://images.example.org/prefix"


def test_public_url_in_info(pool):
    s = pool.get("--public-url", PUBLIC)
    assert s.get(INFO3).json()["id"] == f"{PUBLIC}/iiif/3/grid.png"
    assert s.get(INFO2).json()["@id"] == f"{PUBLIC}/iiif/2/grid.png"


def test_public_url_in_canonical_link(pool):
    s = pool.get("--public-url", PUBLIC)
    r = s.get("/iiif/3/grid.png/full/pct:50/0/default.jpg")
    assert fx.link_for(r, "canonical") == [f"{PUBLIC}/iiif/3/grid.png/full/500,500/0/default.jpg"]


def test_public_url_redirect(pool):
    s = pool.get("--public-url", PUBLIC)
    r = s.get("/iiif/3/grid.png")
    assert r.status == 303 and r.header("Location").endswith("/iiif/3/grid.png/info.json")


def test_public_url_ignores_forwarded_by_default(pool):
    s = pool.get("--public-url", PUBLIC)
    r = s.get(INFO3, headers={"X-Forwarded-Host": "evil.example.com", "X-Forwarded-Proto": "http"})
    assert r.json()["id"] == f"{PUBLIC}/iiif/3/grid.png"


FWD = [
    ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example.com"},
     "https://proxy.example.com"),
    ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example.com:8443"},
     "https://proxy.example.com:8443"),
    ({"X-Forwarded-Host": "proxy.example.com"}, "http://proxy.example.com"),
]


@pytest.mark.parametrize("headers,base", FWD, ids=["proto+host", "host-with-port", "host-only"])
def test_trusted_forwarded_headers(pool, headers, base):
    s = pool.get("--trust-forwarded", "true")
    assert s.get(INFO3, headers=headers).json()["id"] == f"{base}/iiif/3/grid.png"
    assert s.get(INFO2, headers=headers).json()["@id"] == f"{base}/iiif/2/grid.png"
    r = s.get("/iiif/3/grid.png/full/max/0/default.jpg", headers=headers)
    assert fx.link_for(r, "canonical") == [f"{base}/iiif/3/grid.png/full/max/0/default.jpg"]


def test_trusted_forwarded_without_headers(pool):
    s = pool.get("--trust-forwarded", "true")
    assert s.get(INFO3).json()["id"] == f"{s.base}/iiif/3/grid.png"


@pytest.mark.parametrize("args", [(), ("--trust-forwarded", "false")], ids=["default", "false"])
def test_untrusted_forwarded_headers_ignored(pool, args):
    s = pool.get(*args)
    r = s.get(INFO3, headers=FWD[0][0])
    assert r.json()["id"] == f"{s.base}/iiif/3/grid.png"


# ---------------------------------------------------------------------------------------------
# health and concurrency
# ---------------------------------------------------------------------------------------------
def test_health(server):
    r = server.get("/health")
    assert r.status == 200
    assert r.json()["status"] == "ok"
    assert r.content_type.startswith("application/json")


@pytest.mark.parametrize("threads", ["1", "4"])
def test_concurrent_requests(server_factory, threads):
    s = server_factory(args=["--threads", threads])
    jobs = [("/iiif/3/grid.png/full/pct:20/0/default.jpg", (200, 200)),
            ("/iiif/3/rect.png/100,100,300,200/max/90/default.png", (200, 300)),
            ("/iiif/2/src_pyramid.tif/full/250,/0/default.jpg", (250, 188)),
            ("/iiif/3/tiny.png/full/max/45/default.webp", None),
            ("/iiif/3/grid.png/info.json", None)]
    errors = []

    def worker(i):
        for k in range(3):
            path, size = jobs[(i + k) % len(jobs)]
            try:
                r = s.get(path, timeout=120)
                if r.status != 200:
                    errors.append((path, r.status))
                elif size and abs(r.image().size[0] - size[0]) + abs(r.image().size[1] - size[1]) > 1:
                    errors.append((path, r.image().size))
            except Exception as e:  # noqa: BLE001
                errors.append((path, repr(e)))

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(300)
    assert not errors, errors[:5]
    assert s.get("/health").status == 200


# ---------------------------------------------------------------------------------------------
# repeated requests (the second may come from a cache) are identical
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/iiif/3/rect.png/10,20,300,200/150,/!90/default.png",
    "/iiif/3/rect.png/10,20,300,200/150,/33/gray.jpg",
    "/iiif/2/rect.png/full/200,/0/bitonal.webp",
    "/iiif/3/src_pyramid.tif/256,256,256,256/128,128/0/default.tif",
    "/iiif/3/rect.png/info.json",
])
def test_repeated_request_identical(server, path):
    a = server.get(path)
    b = server.get(path)
    h = server.get(path, method="HEAD")
    assert a.status == b.status == h.status == 200
    assert a.body == b.body, "second response differs from the first"
    for name in ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Content-Length"):
        assert a.header(name) == b.header(name) == h.header(name), name
    assert sorted(a.links()) == sorted(b.links()) == sorted(h.links())


def test_if_none_match_star(server):
    r = server.get(INFO3, headers={"If-None-Match": "*"})
    assert r.status == 304  # RFC 7232 section 3.2: '*' matches any current representation


def test_simultaneous_identical_requests(server_factory):
    """The same uncached derivative requested by many clients at once: all get the same bytes."""
    s = server_factory()
    path = "/iiif/3/grid.png/37,59,611,577/301,/!17/default.png"
    bodies, errors = [], []

    def worker():
        try:
            r = s.get(path, timeout=120)
            (bodies if r.status == 200 else errors).append(r.body if r.status == 200 else r.status)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    for _round in range(2):
        ts = [threading.Thread(target=worker) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
    assert not errors, errors
    assert len(bodies) == 16 and len(set(bodies)) == 1, f"{len(set(bodies))} different bodies"
    w, h = fx.open_image(bodies[0]).size
    bw, bh = fx.rotated_bbox(301, round(577 * 301 / 611), 17)
    assert abs(w - bw) <= 2 and abs(h - bh) <= 2
