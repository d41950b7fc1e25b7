"""Image requests: region, size, rotation, quality, format (dimensions and basic content).
Pixel accuracy of the grid lives in test_accuracy.py."""

import math

import numpy as np
import pytest

import fixtures as fx

RECT = "rect.png"  # 800x600


def img(server, path, status=200):
    r = server.get(path)
    assert r.status == status, (path, r.status, r.body[:300])
    return r


# ---------------------------------------------------------------------------------------------
# region x size -> output dimensions
# ---------------------------------------------------------------------------------------------
# (region, size, expected w, expected h, slack in px for implementation-defined rounding)
V3_GEOMETRY = [
    ("full", "max", 800, 600, 0),
    ("full", "400,", 400, 300, 0),
    ("full", ",300", 400, 300, 0),
    ("full", "pct:50", 400, 300, 0),
    ("full", "pct:12.5", 100, 75, 0),
    ("full", "pct:.5", 4, 3, 0),                # n is a floating point number: .5 = 0.5
    ("pct:.5,0,50,50", "max", 400, 300, 1),
    ("full", "400,100", 400, 100, 0),
    ("full", "!400,400", 400, 300, 0),
    ("full", "!400,100", 133, 100, 1),
    ("full", "!1000,1000", 800, 600, 0),   # never larger than the region without ^
    ("full", "800,", 800, 600, 0),
    ("full", "800,600", 800, 600, 0),
    ("full", "8,", 8, 6, 0),
    ("full", "^1600,", 1600, 1200, 0),
    ("full", "^,1200", 1600, 1200, 0),
    ("full", "^pct:200", 1600, 1200, 0),
    ("full", "^1000,100", 1000, 100, 0),
    ("full", "^!1600,1600", 1600, 1200, 0),
    ("full", "^!400,400", 400, 300, 0),
    ("full", "^800,", 800, 600, 0),
    ("square", "max", 600, 600, 0),
    ("square", "300,", 300, 300, 0),
    ("100,100,200,100", "max", 200, 100, 0),
    ("100,100,200,100", "100,", 100, 50, 0),
    ("0,0,1,1", "max", 1, 1, 0),
    ("pct:25,25,50,50", "max", 400, 300, 0),
    ("pct:0,0,100,100", "max", 800, 600, 0),
    ("pct:12.5,0,25,50", "max", 200, 300, 0),
    ("700,500,300,300", "max", 100, 100, 0),       # cropped at the image edge
    ("700,500,300,300", "pct:50", 50, 50, 0),
    ("0,0,2000,2000", "max", 800, 600, 0),
    ("pct:75,75,50,50", "max", 200, 150, 0),
    ("pct:41.6,7.5,40,70", "max", 320, 420, 1),
    ("pct:41.6,7.5,66.6,100", "max", 467, 555, 1),   # cropped at the edge
    ("799,599,1,1", "^10,10", 10, 10, 0),
]

V2_GEOMETRY = [
    ("full", "full", 800, 600, 0),
    ("full", "max", 800, 600, 0),
    ("full", "400,", 400, 300, 0),
    ("full", ",300", 400, 300, 0),
    ("full", "pct:50", 400, 300, 0),
    ("full", "400,100", 400, 100, 0),
    ("full", "!400,400", 400, 300, 0),
    ("full", "1600,", 1600, 1200, 0),     # v2 allows upscaling without ^
    ("full", "pct:200", 1600, 1200, 0),
    ("full", "1000,100", 1000, 100, 0),
    ("square", "full", 600, 600, 0),
    ("100,100,200,100", "full", 200, 100, 0),
    ("pct:25,25,50,50", "full", 400, 300, 0),
    ("700,500,300,300", "full", 100, 100, 0),
]


def _ids(rows):
    return [f"{r}|{s}" for r, s, *_ in rows]


@pytest.mark.parametrize("region,size,w,h,slack", V3_GEOMETRY, ids=_ids(V3_GEOMETRY))
def test_v3_geometry(pool, region, size, w, h, slack):
    # the spec's geometry alone: no max-upscale (tested in test_image_limits.py)
    r = img(pool.get("--max-upscale", "0"), f"/iiif/3/{RECT}/{region}/{size}/0/default.png")
    im = r.image()
    assert abs(im.size[0] - w) <= slack and abs(im.size[1] - h) <= slack, im.size


@pytest.mark.parametrize("region,size,w,h,slack", V2_GEOMETRY, ids=_ids(V2_GEOMETRY))
def test_v2_geometry(server, region, size, w, h, slack):
    r = img(server, f"/iiif/2/{RECT}/{region}/{size}/0/default.png")
    im = r.image()
    assert abs(im.size[0] - w) <= slack and abs(im.size[1] - h) <= slack, im.size


# Requests that need upscaling without ^ are errors in v3 (3.0 section 4.2).
@pytest.mark.parametrize("size", ["801,", ",601", "pct:101", "pct:200", "801,600", "800,601",
                                  "1600,1200"])
def test_v3_upscale_without_caret_is_400(server, size):
    r = server.get(f"/iiif/3/{RECT}/full/{size}/0/default.jpg")
    assert r.status == 400, (size, r.status)


@pytest.mark.parametrize("region,size", [("100,100,200,100", "201,"),
                                         ("100,100,200,100", ",101"),
                                         ("pct:0,0,50,50", "401,")])
def test_v3_upscale_of_region_without_caret_is_400(server, region, size):
    r = server.get(f"/iiif/3/{RECT}/{region}/{size}/0/default.jpg")
    assert r.status == 400


# ---------------------------------------------------------------------------------------------
# limits: max / ^max / over-limit sizes
# ---------------------------------------------------------------------------------------------
LIMIT_CASES = [
    # args, version, size, expected (w,h) or status
    (("--max-width", "500"), 3, "max", (500, 375)),
    (("--max-width", "500"), 3, "^max", (500, 375)),
    (("--max-width", "500"), 3, "500,", (500, 375)),
    (("--max-width", "500"), 3, "501,", 400),
    (("--max-width", "500"), 3, "^600,", 400),
    (("--max-width", "500", "--max-height", "300"), 3, "max", (400, 300)),
    (("--max-width", "500", "--max-height", "300"), 3, ",301", 400),
    (("--max-width", "1200"), 3, "^max", (1200, 900)),
    (("--max-width", "1200"), 3, "^!2000,2000", (1200, 900)),
    (("--max-area", "120000"), 3, "max", (400, 300)),
    (("--max-area", "120000"), 3, "^max", (400, 300)),
    (("--max-area", "120000"), 3, "400,300", (400, 300)),
    (("--max-area", "120000"), 3, "401,300", 400),
    (("--max-area", "120000"), 3, "pct:60", 400),
    (("--max-area", "120000"), 3, "^pct:150", 400),
    (("--max-area", "120000"), 2, "max", (400, 300)),
    (("--max-area", "120000"), 2, "pct:60", 400),
    (("--max-area", "120000"), 2, "1600,", 400),
    (("--max-width", "500"), 2, "max", (500, 375)),
    (("--max-width", "500"), 2, "501,", 400),
]


@pytest.mark.parametrize("args,version,size,expect", LIMIT_CASES,
                         ids=[f"{' '.join(a)}|v{v}|{s}" for a, v, s, _ in LIMIT_CASES])
def test_limits(pool, args, version, size, expect):
    s = pool.get(*args)
    r = s.get(f"/iiif/{version}/{RECT}/full/{size}/0/default.jpg")
    if isinstance(expect, int):
        assert r.status == expect, (r.status, r.body[:200])
    else:
        assert r.status == 200, (r.status, r.body[:200])
        assert r.image().size == expect


def test_max_respects_limits_on_non_square_region(pool):
    s = pool.get("--max-area", "120000")
    r = img(s, f"/iiif/3/grid.png/0,0,1000,250/max/0/default.png")
    w, h = r.image().size
    assert w * h <= 120000 and abs(w / h - 4) < 0.05 and w >= 680, (w, h)


# ---------------------------------------------------------------------------------------------
# rotation
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rot,w,h", [("0", 200, 100), ("90", 100, 200), ("180", 200, 100),
                                     ("270", 100, 200), ("360", 200, 100), ("!0", 200, 100),
                                     ("!90", 100, 200), ("!180", 200, 100), ("!270", 100, 200),
                                     ("90.0", 100, 200)])
@pytest.mark.parametrize("version", [3, 2])
def test_rotation_by_90s_dimensions(server, version, rot, w, h):
    r = img(server, f"/iiif/{version}/{RECT}/100,100,200,100/max/{rot}/default.png")
    assert r.image().size == (w, h)


ARBITRARY = ["45", "22.5", "0.5", "359.9", "123.456", "!45", "!300", "1", "89.99"]


@pytest.mark.parametrize("rot", ARBITRARY)
@pytest.mark.parametrize("version", [3, 2])
def test_arbitrary_rotation_bounding_box(server, version, rot):
    r = img(server, f"/iiif/{version}/{RECT}/100,100,300,200/max/{rot}/default.png")
    bw, bh = fx.rotated_bbox(300, 200, float(rot.lstrip("!")))
    w, h = r.image().size
    assert abs(w - bw) <= 2 and abs(h - bh) <= 2, ((w, h), (bw, bh))


CENTRE_GRID = fx.GRID  # 1000x1000; region 300,300,300,300 -> the 3x3 squares around (4,4)


@pytest.mark.parametrize("fmt", ["png", "webp", "gif"])
@pytest.mark.parametrize("rot", ["45", "!30", "22.5"])
def test_arbitrary_rotation_transparent_background(server, fmt, rot):
    r = img(server, f"/iiif/3/grid.png/300,300,300,300/max/{rot}/default.{fmt}")
    im = r.image().convert("RGBA")
    a = np.asarray(im).astype(int)
    H, W = a.shape[:2]
    for y, x in [(1, 1), (1, W - 2), (H - 2, 1), (H - 2, W - 2)]:
        assert a[y, x, 3] == 0, f"corner ({x},{y}) not transparent: {a[y, x].tolist()}"
    want = fx.GRID.colours[4, 4]
    c = a[H // 2, W // 2]
    assert c[3] == 255
    tol = fx.TOL_LOSSY if fmt == "webp" else fx.TOL_COARSE if fmt == "gif" else fx.TOL_LOSSLESS
    assert np.abs(c[:3] - want).max() <= tol, (c.tolist(), want.tolist())


@pytest.mark.parametrize("rot", ["45", "!30"])
def test_arbitrary_rotation_jpg_white_background(server, rot):
    r = img(server, f"/iiif/3/grid.png/300,300,300,300/max/{rot}/default.jpg")
    a = np.asarray(r.image().convert("RGB")).astype(int)
    H, W = a.shape[:2]
    for y, x in [(2, 2), (2, W - 3), (H - 3, 2), (H - 3, W - 3)]:
        assert (a[y, x] >= 245).all(), f"corner ({x},{y}) not white: {a[y, x].tolist()}"
    want = fx.GRID.colours[4, 4]
    assert np.abs(a[H // 2, W // 2] - want).max() <= fx.TOL_LOSSY


def test_rotation_45_places_corners_correctly(server):
    # rotating a 2-square-wide strip by 90+45: check the rotated content is not mirrored
    r = img(server, "/iiif/3/grid.png/0,0,200,100/max/45/default.png")
    a = np.asarray(r.image().convert("RGBA")).astype(int)
    H, W = a.shape[:2]
    # clockwise 45: the left square's centre (50,50) moves up-left of the image centre
    cx, cy = W / 2, H / 2
    t = math.radians(45)
    def at(px, py):  # source point relative to region centre -> output pixel
        dx, dy = px - 100, py - 50
        return (int(cx + dx * math.cos(t) - dy * math.sin(t)),
                int(cy + dx * math.sin(t) + dy * math.cos(t)))
    for (sx, sy), col in (((50, 50), fx.GRID.colours[0, 0]), ((150, 50), fx.GRID.colours[0, 1])):
        x, y = at(sx, sy)
        assert np.abs(a[y, x, :3] - col).max() <= fx.TOL_LOSSLESS, ((x, y), a[y, x].tolist(), col)


# ---------------------------------------------------------------------------------------------
# quality
# ---------------------------------------------------------------------------------------------
def _arr(im):
    return fx.to_rgb_array(im)[:, :, :3]


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp", "tif", "gif", "jp2"])
@pytest.mark.parametrize("version", [3, 2])
def test_gray_quality(server, version, fmt):
    r = img(server, f"/iiif/{version}/grid.png/0,0,500,500/pct:50/0/gray.{fmt}")
    im = r.image()
    assert im.size == (250, 250)
    a = _arr(im)
    spread = (a.max(axis=2) - a.min(axis=2))
    lim = 0 if fmt in ("png", "tif", "gif") else 6
    assert spread.max() <= lim if lim == 0 else np.percentile(spread, 99) <= lim, \
        f"not gray: max channel spread {spread.max()}"
    # each square's gray lies between its min and max channel (any luminance formula)
    for r_ in range(5):
        for c_ in range(5):
            col = fx.GRID.colours[r_, c_].astype(int)
            v = a[r_ * 50 + 25, c_ * 50 + 25, 0]
            assert col.min() - 8 <= v <= col.max() + 8, ((r_, c_), v, col.tolist())


@pytest.mark.parametrize("fmt", ["png", "tif", "gif"])
@pytest.mark.parametrize("version", [3, 2])
def test_bitonal_quality_lossless(server, version, fmt):
    r = img(server, f"/iiif/{version}/grid.png/full/pct:30/0/bitonal.{fmt}")
    im = r.image()
    assert im.size == (300, 300)
    vals = set(np.unique(_arr(im)).tolist())
    assert vals <= {0, 255}, f"bitonal values {sorted(vals)[:10]}"
    assert vals == {0, 255}, "expected both black and white in a colour grid"


@pytest.mark.parametrize("fmt", ["jpg", "webp", "jp2"])
def test_bitonal_quality_lossy(server, fmt):
    # lossy encoders ring at edges: at least 97% of pixels within 10 of 0 or 255
    r = img(server, f"/iiif/3/grid.png/full/pct:30/0/bitonal.{fmt}")
    a = _arr(r.image())
    near = (a <= 10) | (a >= 245)
    assert near.mean() >= 0.97, f"only {near.mean():.3f} of pixels near black/white"


def test_bitonal_white_and_black_squares(server):
    # a square of (255,255,255)-ish and (0,0,0)-ish must map to white and black
    cols = fx.GRID.flat_colours()
    lum = cols.mean(axis=1)
    bright, dark = int(lum.argmax()), int(lum.argmin())
    r = img(server, "/iiif/3/grid.png/full/max/0/bitonal.png")
    a = _arr(r.image())
    for idx, want in ((bright, 255), (dark, 0)):
        y, x = (idx // 10) * 100 + 50, (idx % 10) * 100 + 50
        assert a[y, x, 0] == want, (idx, cols[idx].tolist(), a[y, x].tolist())


@pytest.mark.parametrize("quality", ["default", "color"])
@pytest.mark.parametrize("version", [3, 2])
def test_color_quality_keeps_colour(server, version, quality):
    r = img(server, f"/iiif/{version}/grid.png/0,0,300,300/max/0/{quality}.png")
    fx.assert_grid(r.image(), fx.GRID, (0, 0, 300, 300), 300, 300, fx.TOL_LOSSLESS, min_checked=9)


# ---------------------------------------------------------------------------------------------
# formats
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", fx.SUPPORTED_FORMATS)
@pytest.mark.parametrize("version", [3, 2])
def test_format(server, version, fmt):
    r = img(server, f"/iiif/{version}/grid.png/200,300,400,300/pct:50/0/default.{fmt}")
    assert r.content_type.split(";")[0].strip() == fx.MIME[fmt]
    assert any(r.body.startswith(m) for m in fx.MAGIC[fmt]), r.body[:16]
    if fmt == "webp":
        assert r.body[8:12] == b"WEBP"
    im = r.image()
    assert im.size == (200, 150)
    tol = {"png": fx.TOL_LOSSLESS, "tif": fx.TOL_LOSSLESS, "jpg": fx.TOL_LOSSY,
           "webp": fx.TOL_LOSSY}.get(fmt, fx.TOL_COARSE)
    fx.assert_grid(im, fx.GRID, (200, 300, 400, 300), 200, 150, tol, min_checked=12)


def test_pdf_is_valid_or_400(server):
    info = server.get("/iiif/3/grid.png/info.json").json()
    r = server.get("/iiif/3/grid.png/full/pct:20/0/default.pdf")
    if "pdf" in info.get("extraFormats", []):
        assert r.status == 200, "pdf is advertised in extraFormats but not served"
    assert r.status in (200, 400), r.status
    if r.status == 200:
        assert r.body.startswith(b"%PDF-"), r.body[:16]
        assert r.content_type.split(";")[0] == "application/pdf"
        assert b"%%EOF" in r.body[-1024:]


# ---------------------------------------------------------------------------------------------
# identifiers
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ident,w,h", [("solo", 150, 100), ("sub%2Fgrid.png", 1000, 1000),
                                       ("sub%2fgrid.png", 1000, 1000),
                                       ("sub%2Fdeeper%2Fsmall.png", 90, 120),
                                       ("sub%2Fdeeper%2Fsmall", 90, 120),
                                       ("with%20space.png", 70, 50), ("caf%C3%A9.png", 80, 60),
                                       ("semi.png;2", 40, 30), ("semi.png", 30, 40),
                                       ("src_multipage.tif;2", 200, 300),
                                       ("src_multipage.tif%3B3", 150, 150)])
@pytest.mark.parametrize("version", [3, 2])
def test_identifier_resolution(server, version, ident, w, h):
    r = img(server, f"/iiif/{version}/{ident}/full/max/0/default.png")
    assert r.image().size == (w, h)


def test_literal_semicolon_file_wins(server):
    a = np.asarray(img(server, "/iiif/3/semi.png;2/full/max/0/default.png").image().convert("RGB"))
    assert np.abs(a[5, 5].astype(int) - (250, 240, 230)).max() <= 2


@pytest.mark.parametrize("page,colour", [(1, fx.PAGES[0][2]), (2, fx.PAGES[1][2]),
                                         (3, fx.PAGES[2][2])])
def test_multipage_pages(server, page, colour):
    r = img(server, f"/iiif/3/src_multipage.tif;{page}/full/max/0/default.png")
    w, h, _ = fx.PAGES[page - 1]
    im = r.image()
    assert im.size == (w, h)
    a = np.asarray(im.convert("RGB")).astype(int)
    assert np.abs(a[h // 2, w // 2] - colour).max() <= fx.TOL_LOSSLESS


def test_ambiguous_extensionless_identifier_is_not_served(server):
    # amb.png and amb.jpg both exist: the extension may only be omitted when unique
    r = server.get("/iiif/3/amb/info.json")
    assert 400 <= r.status < 500, r.status


# ---------------------------------------------------------------------------------------------
# percent-encoding (3.0 section 9: encoding other characters is harmless, decode exactly once)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params,size", [
    ("full/%5E1000,/0/default.png", (1000, 750)),
    ("full/pct%3A50/0/default.png", (400, 300)),
    ("full/%21400,400/0/default.png", (400, 300)),
    ("0%2C0%2C100%2C50/max/0/default.png", (100, 50)),
    ("full/max/%2190/default.png", (600, 800)),
    ("full/max/0/default%2Epng", (800, 600)),
])
def test_encoded_parameters(server, params, size):
    r = img(server, f"/iiif/3/{RECT}/{params}")
    assert r.image().size == size


@pytest.mark.parametrize("ident,size", [
    ("x%2541.png", (13, 11)),    # file literally named x%41.png
    ("x%41.png", (19, 17)),      # %41 is 'A'
    ("xA.png", (19, 17)),
    ("a+b.png", (29, 23)),       # '+' is not a space in a path
    ("a%2Bb.png", (29, 23)),
    ("a%20b.png", (37, 31)),
])
def test_identifier_decoded_exactly_once(server, ident, size):
    j = server.get(f"/iiif/3/{ident}/info.json")
    assert j.status == 200, j.status
    assert (j.json()["width"], j.json()["height"]) == size
    assert img(server, f"/iiif/3/{ident}/full/max/0/default.png").image().size == size


@pytest.mark.parametrize("path", ["/iiif/3/rect.png/info.json?x=1",
                                  "/iiif/3/rect.png/full/100,/0/default.jpg?foo=bar&baz"])
def test_query_string_ignored(server, path):
    # 3.0 section 4.9: extensions may pass query parameters; the request itself still works
    r = server.get(path)
    assert r.status == 200
    if path.endswith("info.json?x=1"):
        assert r.json()["id"] == f"{server.base}/iiif/3/rect.png"
    else:
        assert r.image().size == (100, 75)
