"""info.json (Image API 3.0 section 5, 2.1 section 5) for v3 and v2."""

import urllib.parse

import numpy as np
import pytest
from PIL import Image

import fixtures as fx
from conftest import pyramid_levels

DIMS = [
    ("grid.png", 1000, 1000),
    ("rect.png", 800, 600),
    ("grid.jpg", 1000, 1000),
    ("grid_q95.tif", 1000, 1000),
    ("src_exif6.jpg", 200, 300),          # displayed (rotated) dimensions
    ("src_pyramid.tif", 2000, 1500),
    ("sub%2Fgrid.png", 1000, 1000),
    ("sub%2fgrid.png", 1000, 1000),       # lower-case escape
    ("sub%2Fdeeper%2Fsmall.png", 90, 120),
    ("solo", 150, 100),                   # extension omitted, unique base name
    ("with%20space.png", 70, 50),
    ("caf%C3%A9.png", 80, 60),
    ("semi.png", 30, 40),
    ("semi.png;2", 40, 30),               # a file literally named so wins over page syntax
    ("src_multipage.tif", 300, 200),
    ("src_multipage.tif;1", 300, 200),
    ("src_multipage.tif;2", 200, 300),
    ("src_multipage.tif;3", 150, 150),
]


def info(server, ident, version=3, headers=None):
    r = server.get(f"/iiif/{version}/{ident}/info.json", headers=headers)
    assert r.status == 200, (ident, r.status, r.body[:300])
    return r.json()


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


# ---------------------------------------------------------------------------------------------
# v3 required properties
# ---------------------------------------------------------------------------------------------
def test_v3_required_properties(server):
    j = info(server, "grid.png")
    assert list(j)[0] == "@context", "@context SHOULD be the first key (3.0 section 5.2)"
    ctx = j["@context"]
    assert ctx == fx.V3_CONTEXT or (isinstance(ctx, list) and ctx[-1] == fx.V3_CONTEXT)
    assert j["id"] == f"{server.base}/iiif/3/grid.png"
    assert j["type"] == "ImageService3"
    assert j["protocol"] == "http://iiif.io/api/image"
    assert j["profile"] == "level2"
    assert j["width"] == 1000 and j["height"] == 1000
    assert is_int(j["width"]) and is_int(j["height"])


def test_v3_default_limits(server):
    """The default max-upscale (2) is advertised per image: the 1000x1000 grid may be asked for
    up to 2000x2000, within the default maxArea of 100 MP."""
    j = info(server, "grid.png")
    assert (j["maxWidth"], j["maxHeight"], j["maxArea"]) == (2000, 2000, 4000000)
    j = info(server, "grid.png", version=2)
    prof = j["profile"][1]
    assert (prof["maxWidth"], prof["maxHeight"], prof["maxArea"]) == (2000, 2000, 4000000)


def test_without_max_upscale_only_configured_limits(pool):
    j = info(pool.get("--max-upscale", "0"), "grid.png")
    assert j["maxArea"] == 100000000
    assert "maxWidth" not in j and "maxHeight" not in j


def test_v2_required_properties(server):
    j = info(server, "grid.png", version=2)
    assert j["@context"] == fx.V2_CONTEXT
    assert j["@id"] == f"{server.base}/iiif/2/grid.png"
    assert j["protocol"] == "http://iiif.io/api/image"
    assert j["width"] == 1000 and j["height"] == 1000
    prof = j["profile"]
    assert isinstance(prof, list) and prof[0] == fx.V2_LEVEL2
    assert len(prof) >= 2 and isinstance(prof[1], dict)
    assert "@type" not in j or j["@type"] == "iiif:Image"
    assert "type" not in j, "v2 info.json must not use the v3 'type' key"


@pytest.mark.parametrize("ident,w,h", DIMS, ids=[d[0] for d in DIMS])
@pytest.mark.parametrize("version", [3, 2])
def test_dimensions(server, version, ident, w, h):
    j = info(server, ident, version)
    assert (j["width"], j["height"]) == (w, h)


@pytest.mark.parametrize("ident", ["grid.png", "sub%2Fgrid.png", "solo", "with%20space.png",
                                   "caf%C3%A9.png", "src_multipage.tif;2",
                                   "sub%2Fdeeper%2Fsmall.png"])
@pytest.mark.parametrize("version", [3, 2])
def test_id_is_request_base(server, version, ident):
    j = info(server, ident, version)
    got = j["id"] if version == 3 else j["@id"]
    prefix = f"{server.base}/iiif/{version}/"
    assert got.startswith(prefix), got
    rest = got[len(prefix):]
    assert "/" not in rest, f"slashes in the identifier must stay encoded: {got}"
    assert " " not in rest
    assert urllib.parse.unquote(rest) == urllib.parse.unquote(ident)
    assert not got.endswith("/") and not got.endswith("info.json")


# ---------------------------------------------------------------------------------------------
# sizes and tiles
# ---------------------------------------------------------------------------------------------
SIZE_SOURCES = ["grid.png", "rect.png", "src_pyramid.tif", "src_exif6.jpg"]


@pytest.mark.parametrize("ident", SIZE_SOURCES)
@pytest.mark.parametrize("version", [3, 2])
def test_sizes_valid(server, version, ident):
    j = info(server, ident, version)
    W, H = j["width"], j["height"]
    sizes = j["sizes"]
    assert isinstance(sizes, list) and sizes
    for s in sizes:
        assert is_int(s["width"]) and is_int(s["height"]), s
        assert 1 <= s["width"] <= W and 1 <= s["height"] <= H, s
        assert abs(s["width"] * H / W - s["height"]) <= 1.0, f"{s} distorts {W}x{H}"
        assert s["width"] * s["height"] <= 100000000
        if "type" in s:
            assert s["type"] == ("Size" if version == 3 else "iiif:Size")


@pytest.mark.parametrize("ident", SIZE_SOURCES)
@pytest.mark.parametrize("version", [3, 2])
def test_listed_sizes_are_served(server, version, ident):
    j = info(server, ident, version)
    for s in j["sizes"][:4]:
        w, h = s["width"], s["height"]
        size = f"{w},{h}" if version == 3 else f"{w},"
        r = server.get(f"/iiif/{version}/{ident}/full/{size}/0/default.jpg")
        assert r.status == 200, (s, r.status, r.body[:200])
        im = r.image()
        assert im.size == (w, h), (im.size, s)
        if version == 2:  # 2.1 section 5.2 warning: servers SHOULD support w,h for sizes too
            r = server.get(f"/iiif/2/{ident}/full/{w},{h}/0/default.jpg")
            assert r.status == 200 and r.image().size == (w, h)


@pytest.mark.parametrize("dims", [(750, 1000), (1001, 749), (333, 2000)])
def test_listed_sizes_are_exact_for_odd_dimensions(server_factory, tmp_path, dims):
    """A size listed in info.json is what `w,` (and `w,h`) returns, in both versions, also when
    halving the image does not give whole pixels (750x1000 / 4 = 187.5 x 250)."""
    root = tmp_path / "odd"
    root.mkdir()
    Image.new("RGB", dims, (90, 120, 150)).save(root / "odd.png")
    s = server_factory(root_dir=str(root))
    for version in (3, 2):
        for sz in info(s, "odd.png", version)["sizes"]:
            w, h = sz["width"], sz["height"]
            for size in (f"{w},", f"{w},{h}"):
                r = s.get(f"/iiif/{version}/odd.png/full/{size}/0/default.png")
                assert r.status == 200 and r.image().size == (w, h), (version, size, r.status)


@pytest.mark.parametrize("ident", SIZE_SOURCES + ["grid_q95.tif", "src_bigtiff.tif",
                                                  "src_subifd.tif"])
@pytest.mark.parametrize("version", [3, 2])
def test_tiles_valid(server, version, ident):
    j = info(server, ident, version)
    tiles = j["tiles"]
    assert isinstance(tiles, list) and tiles
    seen = set()
    for t in tiles:
        assert is_int(t["width"]) and t["width"] > 0
        th = t.get("height", t["width"])
        assert is_int(th) and th > 0
        assert (t["width"], th) not in seen, "tiles entries must be unique by width/height"
        seen.add((t["width"], th))
        sf = t["scaleFactors"]
        assert sf and all(is_int(s) and s >= 1 for s in sf)
        assert sf == sorted(set(sf))


PYRAMIDS = [("src_pyramid.tif", 256), ("src_bigtiff.tif", 128), ("src_subifd.tif", 512)]


@pytest.mark.parametrize("ident,tile", PYRAMIDS, ids=[p[0] for p in PYRAMIDS])
@pytest.mark.parametrize("version", [3, 2])
def test_pyramid_tiles_match_file(server, root, version, ident, tile):
    levels = pyramid_levels(f"{root}/{ident}")
    assert levels >= 3, "generator produced no pyramid"
    j = info(server, ident, version)
    t = j["tiles"][0]
    assert t["width"] == tile
    assert t.get("height", t["width"]) == tile
    assert t["scaleFactors"] == [2 ** i for i in range(levels)]


def tile_params(W, H, tw, th, s, n, m):
    """Image API 3.0 implementation notes section 3."""
    xr, yr = n * tw * s, m * th * s
    wr, hr = min(tw * s, W - xr), min(th * s, H - yr)
    ws = tw if xr + tw * s <= W else (W - xr + s - 1) // s
    hs = th if yr + th * s <= H else (H - yr + s - 1) // s
    return (xr, yr, wr, hr), (ws, hs)


@pytest.mark.parametrize("ident", ["grid.png", "src_pyramid.tif", "src_bigtiff.tif",
                                   "src_subifd.tif", "grid_q95.tif"])
@pytest.mark.parametrize("version", [3, 2])
def test_tiles_are_served_and_correct(server, version, ident):
    grid, tol, _ = fx.SOURCES[ident]
    j = info(server, ident, version)
    W, H = j["width"], j["height"]
    t = j["tiles"][0]
    tw, th = t["width"], t.get("height", t["width"])
    for s in t["scaleFactors"]:
        ncols, nrows = -(-W // (tw * s)), -(-H // (th * s))
        for n, m in {(0, 0), (ncols - 1, nrows - 1), (ncols // 2, nrows // 2)}:
            (xr, yr, wr, hr), (ws, hs) = tile_params(W, H, tw, th, s, n, m)
            size = f"{ws},{hs}" if version == 3 else f"{ws},"
            path = f"/iiif/{version}/{ident}/{xr},{yr},{wr},{hr}/{size}/0/default.png"
            r = server.get(path)
            assert r.status == 200, (path, r.status, r.body[:200])
            im = r.image()
            assert im.size[0] == ws and abs(im.size[1] - hs) <= (0 if version == 3 else 1), \
                (path, im.size)
            if version == 3 and 100 / s >= 12:
                fx.assert_grid(im, grid, (xr, yr, wr, hr), ws, hs, max(tol, fx.TOL_JPEG_SOURCE),
                               min_checked=0)


# ---------------------------------------------------------------------------------------------
# extra functionality (3.0 section 5.7) and the v2 profile object (2.1 section 5.3)
# ---------------------------------------------------------------------------------------------
def test_v3_extra_formats(server):
    j = info(server, "grid.png")
    ef = set(j.get("extraFormats", []))
    assert {"webp", "tif", "gif", "jp2"} <= ef, ef
    assert ef <= {"webp", "tif", "gif", "jp2", "pdf", "jpg", "png"}, ef


def test_v3_extra_qualities(server):
    j = info(server, "grid.png")
    assert set(j.get("extraQualities", [])) == {"color", "gray", "bitonal"}


def test_v3_extra_features_known_and_complete(server):
    j = info(server, "grid.png")
    ef = j.get("extraFeatures", [])
    unknown = set(ef) - fx.V3_FEATURES
    assert not unknown, f"undefined feature names: {unknown}"
    assert len(ef) == len(set(ef)), "duplicates"
    need = {"mirroring", "rotationArbitrary", "sizeUpscaling", "canonicalLinkHeader",
            "profileLinkHeader"}
    assert need <= set(ef), f"supported but not advertised: {need - set(ef)}"


def test_v2_profile_object(server):
    j = info(server, "grid.png", version=2)
    p = j["profile"][1]
    assert {"webp", "tif", "gif", "jp2"} <= set(p["formats"]), p
    assert set(p["formats"]) <= {"jpg", "png", "webp", "tif", "gif", "jp2", "pdf"}
    assert {"color", "gray", "bitonal"} <= set(p["qualities"]), p
    assert set(p["qualities"]) <= {"default", "color", "gray", "bitonal"}
    sup = set(p["supports"])
    assert not sup - fx.V2_FEATURES, f"undefined v2 feature names: {sup - fx.V2_FEATURES}"
    need = {"mirroring", "rotationArbitrary", "sizeAboveFull", "regionSquare",
            "canonicalLinkHeader", "profileLinkHeader"}
    assert need <= sup, f"supported but not advertised: {need - sup}"


def test_rights_absent_by_default(server):
    assert "rights" not in info(server, "grid.png")


def test_rights_flag(pool):
    url = "http://creativecommons.org/licenses/by/4.0/"
    s = pool.get("--rights", url)
    assert info(s, "grid.png")["rights"] == url


# ---------------------------------------------------------------------------------------------
# configured limits show up and are respected by sizes/tiles
# ---------------------------------------------------------------------------------------------
LIMITS = [  # max-upscale off: these test the configured limits alone
    (("--max-width", "500", "--max-upscale", "0"), {"maxWidth": 500}),
    (("--max-width", "500", "--max-height", "300", "--max-upscale", "0"),
     {"maxWidth": 500, "maxHeight": 300}),
    (("--max-area", "250000", "--max-upscale", "0"), {"maxArea": 250000}),
]


@pytest.mark.parametrize("args,expect", LIMITS, ids=["maxWidth", "maxWidth+maxHeight", "maxArea"])
@pytest.mark.parametrize("ident", ["grid.png", "src_pyramid.tif"])
def test_limits_in_info(pool, args, expect, ident):
    s = pool.get(*args)
    j = info(s, ident)
    for k, v in expect.items():
        assert j[k] == v, (k, j.get(k))
    if "maxWidth" not in expect:
        assert "maxWidth" not in j and "maxHeight" not in j
    if "maxArea" not in expect:
        assert j["maxArea"] == 100000000
    mw = j.get("maxWidth", 10 ** 9)
    mh = j.get("maxHeight", mw if "maxWidth" in j else 10 ** 9)
    ma = j["maxArea"]
    for sz in j["sizes"]:
        assert sz["width"] <= mw and sz["height"] <= mh and sz["width"] * sz["height"] <= ma, sz
    for t in j["tiles"]:
        tw, th = t["width"], t.get("height", t["width"])
        assert tw <= mw and th <= mh and tw * th <= ma, t


# ---------------------------------------------------------------------------------------------
# every feature the contract needs is advertised (profile or extra list) and actually works
# ---------------------------------------------------------------------------------------------
def _dims(server, v, params, fmt="png"):
    r = server.get(f"/iiif/{v}/grid.png/{params}/default.{fmt}")
    assert r.status == 200, (params, r.status, r.body[:200])
    return r


def _size(server, v, params):
    return _dims(server, v, params).image().size


def _f_base_redirect(server, v):
    r = server.get(f"/iiif/{v}/grid.png")
    assert r.status == 303 and r.header("Location").endswith(f"/iiif/{v}/grid.png/info.json")


def _f_canonical(server, v):
    assert fx.link_for(_dims(server, v, "full/pct:10/0"), "canonical")


def _f_profile(server, v):
    assert fx.link_for(_dims(server, v, "full/pct:10/0"), "profile")


def _f_cors(server, v):
    assert _dims(server, v, "full/pct:10/0").header("Access-Control-Allow-Origin") == "*"
    r = server.get(f"/iiif/{v}/grid.png/info.json")
    assert r.header("Access-Control-Allow-Origin") == "*"


def _f_jsonld(server, v):
    r = server.get(f"/iiif/{v}/grid.png/info.json", headers={"Accept": "application/ld+json"})
    assert r.content_type.startswith("application/ld+json")


def _f_mirroring(server, v):
    a = np.asarray(_dims(server, v, "0,0,200,100/max/!0").image().convert("RGB")).astype(int)
    assert np.abs(a[50, 50] - fx.GRID.colours[0, 1]).max() <= 5
    assert np.abs(a[50, 150] - fx.GRID.colours[0, 0]).max() <= 5


def _f_region_pct(server, v):
    assert _size(server, v, "pct:0,0,50,25/max/0") == (500, 250)


def _f_region_px(server, v):
    assert _size(server, v, "10,20,100,50/max/0") == (100, 50)


def _f_region_square(server, v):
    r = server.get(f"/iiif/{v}/rect.png/square/max/0/default.png")
    assert r.status == 200 and r.image().size == (600, 600)


def _f_rot_arbitrary(server, v):
    w, h = _size(server, v, "0,0,200,100/max/30")
    bw, bh = fx.rotated_bbox(200, 100, 30)
    assert abs(w - bw) <= 2 and abs(h - bh) <= 2


def _f_rot_90s(server, v):
    assert _size(server, v, "0,0,200,100/max/270") == (100, 200)


FEATURE_CHECKS = {
    "baseUriRedirect": _f_base_redirect,
    "canonicalLinkHeader": _f_canonical,
    "cors": _f_cors,
    "jsonldMediaType": _f_jsonld,
    "mirroring": _f_mirroring,
    "profileLinkHeader": _f_profile,
    "regionByPct": _f_region_pct,
    "regionByPx": _f_region_px,
    "regionSquare": _f_region_square,
    "rotationArbitrary": _f_rot_arbitrary,
    "rotationBy90s": _f_rot_90s,
    "sizeByConfinedWh": lambda s, v: _size(s, v, "full/!400,300/0") == (300, 300) or _fail(),
    "sizeByH": lambda s, v: _size(s, v, "full/,200/0") == (200, 200) or _fail(),
    "sizeByPct": lambda s, v: _size(s, v, "full/pct:10/0") == (100, 100) or _fail(),
    "sizeByW": lambda s, v: _size(s, v, "full/200,/0") == (200, 200) or _fail(),
    "sizeByWh": lambda s, v: _size(s, v, "full/200,200/0") == (200, 200) or _fail(),
    "sizeUpscaling": lambda s, v: _size(s, v, "full/^1100,/0") == (1100, 1100) or _fail(),
    "sizeAboveFull": lambda s, v: _size(s, v, "full/1100,/0") == (1100, 1100) or _fail(),
    "sizeByDistortedWh": lambda s, v: _size(s, v, "full/200,100/0") == (200, 100) or _fail(),
}


def _fail():
    raise AssertionError("wrong output size")


V3_LEVEL2_PROFILE_FEATURES = fx.V3_LEVEL2_FEATURES
# features the v2.1 level2 profile document lists
V2_LEVEL2_PROFILE_FEATURES = {"baseUriRedirect", "cors", "jsonldMediaType", "regionByPct",
                              "regionByPx", "rotationBy90s", "sizeByConfinedWh",
                              "sizeByDistortedWh", "sizeByH", "sizeByPct", "sizeByW", "sizeByWh"}
V3_REQUIRED = sorted(fx.V3_FEATURES)
V2_REQUIRED = sorted(fx.V2_FEATURES - {"sizeByWhListed", "sizeByForcedWh"})


@pytest.mark.parametrize("feature", V3_REQUIRED)
def test_v3_feature_advertised_and_works(server, feature):
    j = info(server, "grid.png")
    advertised = V3_LEVEL2_PROFILE_FEATURES | set(j.get("extraFeatures", []))
    assert feature in advertised, f"{feature} is supported per the contract but not advertised"
    FEATURE_CHECKS[feature](server, 3)


@pytest.mark.parametrize("feature", V2_REQUIRED)
def test_v2_feature_advertised_and_works(server, feature):
    j = info(server, "grid.png", version=2)
    advertised = V2_LEVEL2_PROFILE_FEATURES | set(j["profile"][1].get("supports", []))
    assert feature in advertised, f"{feature} is supported per the contract but not advertised"
    FEATURE_CHECKS[feature](server, 2)
