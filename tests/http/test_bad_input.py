"""Bad input: malformed parameters (400 with a reason), unsupported formats, unknown identifiers,
path escapes (404, never serve), broken files (500, server stays up), oversize requests."""

import time

import pytest

import fixtures as fx

ID = "tiny.png"  # 120x80


def assert_reason(r, *words):
    assert r.body.strip(), "error body is empty"
    ct = r.content_type.lower()
    assert ct.startswith("text/"), f"error body should be text or html, got {ct!r}"
    text = r.body.decode("utf-8", "replace").lower()
    assert any(c.isalpha() for c in text)
    if words:
        assert any(w in text for w in words), f"reason does not name the parameter {words}: {text[:200]!r}"


# ---------------------------------------------------------------------------------------------
# malformed parameters -> 400 with a reason naming the parameter
# ---------------------------------------------------------------------------------------------
BAD_REGION = ["foo", "1,2,3", "1,2,3,4,5", "-1,0,10,10", "0,-1,10,10", "0,0,0,10", "0,0,10,0",
              "200,0,10,10", "0,100,10,10", "120,0,10,10", "pct:", "pct:0,0,0,10", "pct:a,b,c,d",
              "pct:-5,0,10,10", "pct:100,0,10,10", "pct:0,0,10", "1.5,0,10,10", "0x10,0,5,5",
              "Full", "square1", "full,", ",,,", "pct:10,10,+5,5", "1e1,0,5,5",
              "99999999999999999999999,0,1,1", "nan,0,1,1"]
BAD_SIZE_V3 = ["foo", "0,", ",0", "0,0", "pct:0", "pct:-1", "pct:abc", "-5,", "!5,", "!,5",
               "1,2,3", "^", "^^max", "max^", "full", "10.5,", "^pct:", "!0,0", ",", "pct:",
               "^!0,10", "Max", "pct:1e1", "pct:+5", "5,,"]
BAD_SIZE_V2 = ["foo", "0,", ",0", "pct:0", "pct:-1", "!5,", "^max", "^50,", "1,2,3", ",",
               "Full"]
BAD_ROTATION = ["361", "-90", "abc", "!!90", "90!", "1e2", "+90", "360.5", "nan", "inf",
                "0x5a", "90,", "!", "-0.5", "9%200"]
BAD_QUALITY = ["grey", "colour", "Default", "bitonal2", "best", "native"]


def _get400(server, path, words):
    r = server.get(path)
    assert r.status == 400, (path, r.status, r.body[:200])
    assert_reason(r, *words)
    assert r.header("Access-Control-Allow-Origin") == "*"


@pytest.mark.parametrize("region", BAD_REGION)
@pytest.mark.parametrize("version", [3, 2])
def test_bad_region(server, version, region):
    _get400(server, f"/iiif/{version}/{ID}/{region}/max/0/default.jpg", ("region",))


@pytest.mark.parametrize("size", BAD_SIZE_V3)
def test_bad_size_v3(server, size):
    _get400(server, f"/iiif/3/{ID}/full/{size}/0/default.jpg", ("size",))


@pytest.mark.parametrize("size", BAD_SIZE_V2)
def test_bad_size_v2(server, size):
    _get400(server, f"/iiif/2/{ID}/full/{size}/0/default.jpg", ("size",))


@pytest.mark.parametrize("rot", BAD_ROTATION)
@pytest.mark.parametrize("version", [3, 2])
def test_bad_rotation(server, version, rot):
    _get400(server, f"/iiif/{version}/{ID}/full/max/{rot}/default.jpg", ("rotation", "rotate"))


@pytest.mark.parametrize("quality", BAD_QUALITY)
@pytest.mark.parametrize("version", [3, 2])
def test_bad_quality(server, version, quality):
    _get400(server, f"/iiif/{version}/{ID}/full/max/0/{quality}.jpg", ("quality",))


@pytest.mark.parametrize("tail", ["default", "default.", ".jpg", "default.JPG", "default.jpg.png",
                                  "default.jpeg", "default.tiff"])
def test_bad_quality_format_segment(server, tail):
    r = server.get(f"/iiif/3/{ID}/full/max/0/{tail}")
    assert r.status in (400, 415), (tail, r.status)
    assert_reason(r)


@pytest.mark.parametrize("fmt", ["bmp", "svg", "heic", "exe", "json", "txt"])
@pytest.mark.parametrize("version", [3, 2])
def test_unsupported_format(server, version, fmt):
    r = server.get(f"/iiif/{version}/{ID}/full/max/0/default.{fmt}")
    assert r.status in (400, 415), r.status
    assert_reason(r, "format", fmt)


def test_v2_size_full_ok_but_v3_size_full_rejected(server):
    assert server.get(f"/iiif/2/{ID}/full/full/0/default.jpg").status == 200
    assert server.get(f"/iiif/3/{ID}/full/full/0/default.jpg").status == 400


@pytest.mark.parametrize("path", [f"/iiif/3/{ID}/full/max/0", f"/iiif/3/{ID}/full/max",
                                  f"/iiif/3/{ID}/full", f"/iiif/3/{ID}/full/max/0/default.jpg/x",
                                  f"/iiif/3/{ID}/info.json/x", "/iiif/4/tiny.png/info.json",
                                  "/iiif/3/", "/iiif/3", "/iiif/", "/nothing-here"])
def test_unmatched_paths_are_client_errors(server, path):
    r = server.get(path)
    assert r.status in (400, 404), (path, r.status)
    assert r.header("Access-Control-Allow-Origin") == "*"


@pytest.mark.parametrize("path", [f"/iiif/3/{ID}/full/max//default.jpg",
                                  f"/iiif/3/{ID}//max/0/default.jpg",
                                  f"/iiif/3/{ID}/full//0/default.jpg"])
def test_empty_parameter_segments(server, path):
    r = server.get(path)
    assert r.status in (400, 404), (path, r.status)


# ---------------------------------------------------------------------------------------------
# unknown identifiers, path escapes, hidden files -> 404, and never the file
# ---------------------------------------------------------------------------------------------
UNKNOWN = ["nope.png", "nope", "sub%2Fnope.png", "nosuchdir%2Fgrid.png", "sub", "sub%2F",
           "GRID.PNG", "grid.png.",
           "grid.png%2F"]
ESCAPES = [
    "..%2F..%2Fetc%2Fpasswd", "..%2Foutside%2Fsecret.png", "..%2Foutside%2Fpasswd",
    "%2e%2e%2Foutside%2Fsecret.png", "%2E%2E%2Foutside%2Fsecret.png",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%2Fetc%2Fpasswd", "%2F{outside}%2Fsecret.png",
    "sub%2F..%2F..%2Foutside%2Fsecret.png", "sub%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "..", "%2e%2e", ".", "%2e", "..%5C..%5Cetc%5Cpasswd", "....%2F....%2Foutside%2Fsecret.png",
    "link_out.png", "link_out", "linkdir%2Fsecret.png", "linkdir%2Fpasswd", "linkdir",
    ".hidden.png", ".hidden", ".hiddendir%2Fvisible.png", "sub%2F.hidden.png",
    "grid.png%00", "grid.png%00.txt", "%00", "%00grid.png", "grid%00.png",
    "%252e%252e%252Foutside%252Fsecret.png",
    "A" * 5000, "a%2F" * 1200 + "x.png",
]


def _never_served(r):
    assert b"root:x:0:0" not in r.body
    if r.body.startswith(b"\x89PNG") or r.body.startswith(b"\xff\xd8"):
        raise AssertionError("an image was served")
    assert b'"width"' not in r.body


@pytest.mark.parametrize("ident", UNKNOWN)
@pytest.mark.parametrize("kind", ["info", "image", "base"])
def test_unknown_identifier_404(server, ident, kind):
    tail = {"info": "/info.json", "image": "/full/max/0/default.png", "base": ""}[kind]
    r = server.get(f"/iiif/3/{ident}{tail}")
    assert r.status == 404, (ident, r.status, r.body[:200])
    _never_served(r)


@pytest.mark.parametrize("path", ["/iiif/3/sub/grid.png/info.json",
                                  "/iiif/2/sub/grid.png/info.json",
                                  "/iiif/3/sub/grid.png/full/max/0/default.jpg",
                                  "/iiif/2/nosuchdir/x.png/full/full/0/default.jpg",
                                  "/iiif/3/a/b/c/info.json"])
def test_unescaped_slash_in_identifier_is_404(server, path):
    """IIIF validator id_error_escapedslash: an identifier's own '/' must be %2F; with a raw
    '/' there is no such image (404, saying how to write it), not a malformed request."""
    r = server.get(path)
    assert r.status == 404, (path, r.status, r.body[:200])
    assert_reason(r, "%2f")
    _never_served(r)


@pytest.mark.parametrize("ident", ["src_multipage.tif;9", "src_multipage.tif;0",
                                   "src_multipage.tif;-1", "src_multipage.tif;x", "grid.png;2"])
def test_missing_page(server, ident):
    r = server.get(f"/iiif/3/{ident}/info.json")
    assert r.status in (400, 404), (ident, r.status)
    _never_served(r)


@pytest.mark.parametrize("ident", ESCAPES, ids=[e[:40] for e in ESCAPES])
@pytest.mark.parametrize("kind", ["info", "image", "base"])
@pytest.mark.parametrize("version", [3, 2])
def test_path_escape_404(server, outside, version, ident, kind):
    ident = ident.replace("{outside}", outside.strip("/").replace("/", "%2F"))
    tail = {"info": "/info.json", "image": "/full/max/0/default.png", "base": ""}[kind]
    r = server.get(f"/iiif/{version}/{ident}{tail}")
    assert r.status == 404, (ident[:80], r.status, r.body[:200])
    _never_served(r)


@pytest.mark.parametrize("path", ["/iiif/3/../../etc/passwd/info.json",
                                  "/iiif/3/../../../etc/passwd",
                                  "/../../etc/passwd", "/iiif/3/%2e%2e/%2e%2e/etc/passwd/info.json"])
def test_raw_dot_segments(server, path):
    r = server.get(path)
    assert r.status in (400, 404), (path, r.status)
    _never_served(r)


def test_symlink_target_exists_outside(outside, root):
    # guard: the escape tests are meaningful only if the outside files really exist
    import os
    assert os.path.isfile(os.path.join(outside, "secret.png"))
    assert os.path.islink(os.path.join(root, "link_out.png"))
    assert os.path.isfile(os.path.join(root, "link_out.png"))


# ---------------------------------------------------------------------------------------------
# broken files -> 500, and the server keeps working
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path,statuses", [
    ("/iiif/3/garbage.tif/info.json", {500}),
    ("/iiif/3/garbage.tif/full/max/0/default.jpg", {500}),
    ("/iiif/2/garbage.tif/info.json", {500}),
    ("/iiif/3/truncated.jpg/full/max/0/default.jpg", {500}),
    ("/iiif/3/truncated.jpg/full/max/0/default.png", {500}),
    ("/iiif/2/truncated.jpg/full/full/0/default.jpg", {500}),
    ("/iiif/3/truncated.jpg/info.json", {200, 500}),
])
def test_broken_files(server, path, statuses):
    for _ in range(2):
        r = server.get(path)
        assert r.status in statuses, (path, r.status, r.body[:200])
        assert r.header("Access-Control-Allow-Origin") == "*"
        assert server.get("/health").status == 200
        ok = server.get("/iiif/3/tiny.png/full/max/0/default.png")
        assert ok.status == 200 and ok.image().size == (120, 80)


# ---------------------------------------------------------------------------------------------
# oversize requests: 400, quickly, server stays up
# ---------------------------------------------------------------------------------------------
HUGE = [
    (3, "full/^pct:100000"), (3, "full/^99999999,"), (3, "full/^,99999999"),
    (3, "full/^99999999,99999999"), (3, "full/99999999,"),
    (3, "full/pct:100000"), (3, "full/^pct:99999999999"), (3, "full/^2147483648,"),
    (3, "full/^4294967297,1"), (3, "full/^18446744073709551617,"), (3, "full/^20001,5000"),
    (2, "full/pct:100000"), (2, "full/99999999,"), (2, "full/99999999,99999999"),
    (2, "full/20001,5000"),
]


@pytest.mark.parametrize("version,rs", HUGE, ids=[f"v{v}|{s}" for v, s in HUGE])
def test_huge_sizes_rejected_fast(server, version, rs):
    t0 = time.monotonic()
    r = server.get(f"/iiif/{version}/grid.png/{rs}/0/default.jpg", timeout=30)
    dt = time.monotonic() - t0
    assert r.status == 400, (r.status, r.body[:200])
    assert dt < 2.0, f"took {dt:.2f}s"
    assert server.get("/health").status == 200


def test_over_max_area_small_limit(pool):
    s = pool.get("--max-area", "5000")
    r = s.get(f"/iiif/3/{ID}/full/max/0/default.png")
    assert r.status == 200
    w, h = r.image().size
    assert w * h <= 5000 and w >= 80, (w, h)
    r = s.get(f"/iiif/3/{ID}/full/120,80/0/default.jpg")
    assert r.status == 400
    assert_reason(r)
    assert s.get(f"/iiif/3/{ID}/full/100,50/0/default.jpg").status == 200
    assert s.get(f"/iiif/3/{ID}/full/101,50/0/default.jpg").status == 400
    assert s.get(f"/iiif/2/{ID}/full/101,50/0/default.jpg").status == 400


def test_huge_region_numbers(server):
    r = server.get(f"/iiif/3/{ID}/99999999999,0,10,10/max/0/default.jpg")
    assert r.status == 400
    # beyond the image: cropped (3.0 section 4.1 SHOULD); absurd numbers may be rejected early
    r = server.get(f"/iiif/3/{ID}/0,0,99999999999,99999999999/max/0/default.png")
    assert r.status in (200, 400)
    if r.status == 200:
        assert r.image().size == (120, 80)
    r = server.get(f"/iiif/3/{ID}/10,10,5000,5000/max/0/default.png")
    assert r.status == 200 and r.image().size == (110, 70)


def test_long_garbage_parameters(server):
    r = server.get(f"/iiif/3/{ID}/{'9' * 3000}/max/0/default.jpg")
    assert r.status in (400, 414)
    r = server.get(f"/iiif/3/{ID}/full/pct:{'1' * 3000}/0/default.jpg")
    assert r.status in (400, 414)
    r = server.get(f"/iiif/3/{ID}/full/max/{'1' * 3000}/default.jpg")
    assert r.status in (400, 414)
    assert server.get("/health").status == 200
