"""JPEG 2000 sources end to end: JP2s (tiled or single-tile; grey, RGB, sYCC with subsampled
chroma) decoded by iiifd's own OpenJPEG reader, which decodes only the codestream tiles a request
covers, and the JP2s that keep going through libvips (alpha).

Every source is generated here (module-scoped tmp ROOT) from colour-square grids, with `vips
jp2ksave` and `opj_compress`, lossless unless stated. Pixels are checked two ways:
  - against the grid: the mean of a small window at the centre of every visible square;
  - against an independent decode: `opj_decompress -r k` of the same file gives resolution level
    k, and a tile at scale factor 2^k must equal the matching crop of it (lossless sources, when
    the level has exactly the size IIIF expects), within EXACT (1 per channel).

What each test proves is said in its docstring. The libvips-only server (before the direct
libopenjp2 decoder) fails: the codestream tile-size expectations (it advertised the configured
tile-size), JP2s with an image/tile offset (vips 8.14 decodes them wrong, and can crash on them),
the ICC profile test (vips 8.14 ignores JP2 profiles) and the corrupt-file test (a failed decode
left the file answering black pixels). It also failed reduced levels of the 4:2:0 subsampled JP2
(vips: "components differ in geometry") and sent render-time errors with the image's headers.
"""

import concurrent.futures
import math
import os
import random
import struct
import tempfile
import time

import numpy as np
import pytest
from PIL import Image

import fixtures as fx

EXACT = 1          # lossless source, png output, same resolution level: per-channel tolerance
TOL_RESIZED = fx.TOL_LOSSLESS   # lossless source but the server resamples (or gray/webp...)
TOL_SUBSAMPLED = 10             # lossy 4:2:0 JP2 (vips Q 95), square centres
DEFAULT_TILE = 256              # --tile-size of the module server (distinct from 128/200/512)

# --------------------------------------------------------------------------------------------
# Grids (source pictures)
# --------------------------------------------------------------------------------------------
BIG = fx.PYR                                   # 2000x1500, 20x15 squares
MID = fx.Grid(10, 7, 100, seed=21)             # 1000x700
NEW = fx.Grid(10, 7, 100, seed=23)             # 1000x700, replacement content
ODD = fx.Grid(11, 8, 100, seed=22)             # cropped to 1001x777
_greys = np.random.default_rng(24).permutation(np.linspace(0, 255, 70).round().astype(int))
GREY = fx.Grid(10, 7, 100, colours=[(v, v, v) for v in _greys])
ALPHA_COL = 6                                  # rgba.jp2: squares in columns >= 6 transparent


class Spec:
    """One generated source: its grid, displayed size, square tolerance, codestream tile edge
    (what info.json should advertise; None = no expectation), resolution levels, and whether
    references from opj_decompress are exact (lossless, 8/12/16-bit, 1 or 3 components)."""

    def __init__(self, grid, width, height, tol, tile, levels, exact=True):
        self.grid, self.width, self.height, self.tol = grid, width, height, tol
        self.tile, self.levels, self.exact = tile, levels, exact


SPECS = {
    "tiled.jp2": Spec(BIG, 2000, 1500, EXACT, 128, 5),      # vips, 128x128 tiles
    "gray.jp2": Spec(GREY, 1000, 700, EXACT, 128, 4),       # vips, 1 band
    "rgb16.jp2": Spec(MID, 1000, 700, EXACT, 128, 4),       # vips, 16 bit (values x257)
    "odd.jp2": Spec(ODD, 1001, 777, EXACT, 200, 4),         # opj, odd size, -n 4
    "offset.jp2": Spec(ODD, 1001, 777, EXACT, None, 4),     # opj, image offset 3,5
    "parts.jp2": Spec(ODD, 1001, 777, EXACT, None, 4),      # opj, offsets + tile-parts (-TP R)
    "deep12.jp2": Spec(MID, 1000, 700, EXACT, 192, 3),      # opj, 12 bit, -n 3
    "stream.j2k": Spec(MID, 1000, 700, EXACT, 128, 5),      # opj raw codestream, RPCL, layers
    "subsampled.jp2": Spec(MID, 1000, 700, TOL_SUBSAMPLED, None, 4, exact=False),
    "rgba.jp2": Spec(MID, 1000, 700, EXACT, None, 4, exact=False),
    "single.jp2": Spec(fx.SMALL, 600, 400, EXACT, None, 3),  # one codestream tile
}
# Sources whose every info.json tile is fetched and checked.
SWEEP = ["tiled.jp2", "gray.jp2", "rgb16.jp2", "odd.jp2", "offset.jp2", "parts.jp2",
         "deep12.jp2", "stream.j2k", "subsampled.jp2", "single.jp2"]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def vips(*args):
    fx.run(["vips", *[str(a) for a in args]])


def opj_compress(src, out, *args):
    fx.run(["opj_compress", "-i", str(src), "-o", str(out), *[str(a) for a in args]])


def write_pnm(path, arr, maxval=255):
    """arr HxW (P5) or HxWx3 (P6) of ints <= maxval; 16-bit big-endian samples when > 255."""
    arr = np.asarray(arr)
    magic = b"P5" if arr.ndim == 2 else b"P6"
    h, w = arr.shape[:2]
    data = arr.astype(">u2" if maxval > 255 else np.uint8).tobytes()
    with open(path, "wb") as f:
        f.write(b"%s\n%d %d\n%d\n" % (magic, w, h, maxval) + data)


def read_pnm(path):
    """P5/P6 from opj_decompress -> float HxWx3 scaled to 0..255 (grey replicated)."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    ch = 3 if magic == b"P6" else 1
    dt = ">u2" if maxval > 255 else np.uint8
    a = np.frombuffer(data, dt, w * h * ch, pos).reshape(h, w, ch).astype(float)
    a = a * 255.0 / maxval
    return np.repeat(a, 3, axis=2) if ch == 1 else a


def jp2_codestream_tile_parts(data):
    """[(tile index, tile-part index, offset of its SOT marker, length)] in file order."""
    soc = data.find(b"\xff\x4f\xff\x51")
    p = data.find(b"\xff\x90", soc)
    out = []
    while p >= 0 and data[p:p + 2] == b"\xff\x90":
        _lsot, isot, psot, tpsot, _tnsot = struct.unpack(">HHIBB", data[p + 2:p + 12])
        if psot == 0:
            psot = data.rfind(b"\xff\xd9") - p
        out.append((isot, tpsot, p, psot))
        p += psot
    return out


def ceil_div(a, b):
    return -(-a // b)


def get_ok(server, path, ctype="image/png"):
    r = server.get(path)
    assert r.status == 200, (path, r.status, r.body[:300])
    if ctype:
        assert r.content_type.startswith(ctype), (path, r.content_type)
    return r


def rgb(img):
    return fx.to_rgb_array(img)[:, :, :3]


def info_tiles(info):
    """Every tile an Image API 3 (or 2) client derives from info.json:
    [(scale factor, x, y, w, h)] in source pixels."""
    width, height = info["width"], info["height"]
    out = []
    for t in info["tiles"]:
        tw, th = t["width"], t.get("height", t["width"])
        for sf in t["scaleFactors"]:
            rw, rh = tw * sf, th * sf
            for y in range(0, height, rh):
                for x in range(0, width, rw):
                    out.append((sf, x, y, min(rw, width - x), min(rh, height - y)))
    return out


def tile_path(ident, sf, x, y, w, h, version=3):
    """The tile's URL as viewers build it: size w,h in Image API 3 (its canonical form), w, in
    Image API 2."""
    size = f"{ceil_div(w, sf)}," + (f"{ceil_div(h, sf)}" if version == 3 else "")
    return f"/iiif/{version}/{ident}/{x},{y},{w},{h}/{size}/0/default.png"


def check_pixels(img, spec, refs, region, sf=None, tol=None, what=""):
    """Checks an output of region (x, y, w, h) against the grid's squares, and, when sf is given,
    the output has exactly the level's size and an exact reference exists, against the
    reference level crop. Returns how many checks ran (squares + reference)."""
    tol = spec.tol if tol is None else tol
    arr = rgb(img)
    oh, ow = arr.shape[:2]
    labels = fx.expected_labels(spec.grid, region, ow, oh)
    checked, failures = fx.check_squares(img, labels, spec.grid.flat_colours(), tol,
                                         min_checked=0)
    assert not failures, (f"{what}: {len(failures)}/{checked} squares off by more than {tol}: "
                          + "; ".join(failures[:6]))
    if sf is not None and refs is not None:
        level = int(round(math.log2(sf)))
        ref = refs.get(level)
        x, y, w, h = region
        if (ref is not None and ref.shape[:2] == (ceil_div(spec.height, sf),
                                                  ceil_div(spec.width, sf))
                and x % sf == 0 and y % sf == 0
                and (ow, oh) == (ceil_div(w, sf), ceil_div(h, sf))):
            want = ref[y // sf:y // sf + oh, x // sf:x // sf + ow]
            d = np.abs(arr - want)
            assert d.max() <= EXACT, (
                f"{what}: differs from opj_decompress -r {level} by up to {d.max():.0f} "
                f"({(d > EXACT).any(axis=2).mean():.1%} of pixels), first at "
                f"{np.argwhere(d > EXACT)[0][:2].tolist()}")
            checked += 1
    return checked


# --------------------------------------------------------------------------------------------
# Source generation
# --------------------------------------------------------------------------------------------
def p3_jp2_with_icc(src_png, out, work):
    """A tiled JP2 whose pixels are P3 values, with the P3 ICC profile in its colr box (vips 8.14
    jp2ksave writes no profile, so the colr box is rewritten: method 2, the ICC bytes)."""
    p3png = os.path.join(work, "p3.png")
    vips("icc_transform", src_png, p3png, "p3", "--input-profile", "srgb")
    icc = Image.open(p3png).info["icc_profile"]
    raw = os.path.join(work, "p3raw.jp2")
    vips("jp2ksave", p3png, raw, "--lossless", "--tile-width", 256, "--tile-height", 256)
    with open(raw, "rb") as f:
        d = f.read()

    def boxes(start, end):
        p = start
        while p < end:
            ln, typ = struct.unpack(">I4s", d[p:p + 8])
            ln = ln or end - p
            yield typ, p, ln
            p += ln

    out_bytes = b""
    for typ, p, ln in boxes(0, len(d)):
        if typ != b"jp2h":
            out_bytes += d[p:p + ln]
            continue
        inner = b""
        for t2, p2, l2 in boxes(p + 8, p + ln):
            if t2 == b"colr":
                body = b"\x02\x00\x00" + icc
                inner += struct.pack(">I4s", 8 + len(body), b"colr") + body
            else:
                inner += d[p2:p2 + l2]
        out_bytes += struct.pack(">I4s", 8 + len(inner), b"jp2h") + inner
    with open(out, "wb") as f:
        f.write(out_bytes)


def make_sources(root, work):
    """Writes every SPECS source (and a few extras) into root; returns {name: {level: ref}}."""
    R = lambda n: os.path.join(root, n)  # noqa: E731
    W = lambda n: os.path.join(work, n)  # noqa: E731
    Image.fromarray(BIG.rgb()).save(W("big.png"))
    Image.fromarray(BIG.rgb()).save(R("tiled.png"))        # the same pixels, as PNG
    Image.fromarray(MID.rgb()).save(W("mid.png"))
    write_pnm(W("mid.ppm"), MID.rgb())
    Image.fromarray(GREY.rgb()[:, :, 0], "L").save(W("grey.png"))
    odd = ODD.rgb()[:777, :1001]
    write_pnm(W("odd.ppm"), odd)
    Image.fromarray(fx.SMALL.rgb()).save(W("small.png"))
    t128 = ("--tile-width", 128, "--tile-height", 128)

    vips("jp2ksave", W("big.png"), R("tiled.jp2"), "--lossless", *t128)
    vips("jp2ksave", W("grey.png"), R("gray.jp2"), "--lossless", *t128)
    write_pnm(W("mid16.ppm"), MID.rgb().astype(int) * 257, 65535)
    vips("jp2ksave", W("mid16.ppm"), R("rgb16.jp2"), "--lossless", *t128)
    alpha = np.full((MID.height, MID.width), 255, np.uint8)
    alpha[:, ALPHA_COL * 100:] = 0
    Image.fromarray(np.dstack([MID.rgb(), alpha]), "RGBA").save(W("rgba.png"))
    vips("jp2ksave", W("rgba.png"), R("rgba.jp2"), "--lossless", *t128)
    vips("jp2ksave", W("small.png"), R("single.jp2"), "--lossless", "--tile-width", 600,
         "--tile-height", 400)
    vips("jp2ksave", W("mid.png"), R("subsampled.jp2"), "--Q", 95, "--subsample-mode", "on",
         *t128)
    opj_compress(W("odd.ppm"), R("odd.jp2"), "-t", "200,200", "-n", 4)
    opj_compress(W("odd.ppm"), R("offset.jp2"), "-t", "200,200", "-n", 4, "-d", "3,5")
    opj_compress(W("odd.ppm"), R("parts.jp2"), "-t", "200,200", "-n", 4, "-d", "150,130",
                 "-T", "100,100", "-TP", "R")
    write_pnm(W("mid12.ppm"), np.round(MID.rgb().astype(float) * 4095 / 255).astype(int), 4095)
    opj_compress(W("mid12.ppm"), R("deep12.jp2"), "-t", "192,192", "-n", 3)
    opj_compress(W("mid.ppm"), R("stream.j2k"), "-t", "128,128", "-n", 5, "-p", "RPCL",
                 "-r", "40,10,1", "-TLM", "-PLT")
    p3_jp2_with_icc(W("mid.png"), R("p3.jp2"), work)

    # references: every resolution level, decoded by opj_decompress
    refs = {}
    for name, spec in SPECS.items():
        if not spec.exact:
            continue
        refs[name] = {}
        for k in range(spec.levels):
            out = W(f"{name}.r{k}.{'pgm' if spec.grid is GREY else 'ppm'}")
            fx.run(["opj_decompress", "-i", R(name), "-o", out, "-r", str(k)])
            refs[name][k] = read_pnm(out)
    _verify_sources(root, work, refs)
    return refs


def _verify_sources(root, work, refs):
    """Generator sanity: the files are what SPECS says, and level 0 of each is the grid itself,
    so a failing test means the server, not the fixture."""
    for name, spec in SPECS.items():
        dump = fx.run(["opj_dump", "-i", os.path.join(root, name)]).stdout
        assert f"numresolutions={spec.levels}" in dump, (name, "resolutions")
        if spec.tile:
            assert f"tdx={spec.tile}, tdy={spec.tile}" in dump, (name, "tile size")
        if name == "single.jp2":
            assert "tw=1, th=1" in dump, name
        if name == "deep12.jp2":
            assert "prec=12" in dump, name
        if name == "rgb16.jp2":
            assert "prec=16" in dump, name
        if name == "offset.jp2":
            assert "x0=3, y0=5" in dump, name
        if name in refs:
            full = refs[name][0]
            assert full.shape[:2] == (spec.height, spec.width), (name, full.shape)
            want = spec.grid.rgb()[:spec.height, :spec.width].astype(float)
            assert np.abs(full - want).max() <= EXACT, (name, "level 0 is not the grid")
    with open(os.path.join(root, "parts.jp2"), "rb") as f:
        parts = jp2_codestream_tile_parts(f.read())
    assert len(parts) > len({p[0] for p in parts}), "parts.jp2 has one part per tile"
    # p3.jp2: opj_decompress applies the profile (lcms2) and gets the sRGB grid back
    out = os.path.join(work, "p3.check.ppm")
    fx.run(["opj_decompress", "-i", os.path.join(root, "p3.jp2"), "-o", out])
    back = read_pnm(out)
    labels = fx.expected_labels(MID, (0, 0, MID.width, MID.height), MID.width, MID.height)
    _n, bad = fx.check_squares(Image.fromarray(back.astype(np.uint8)), labels,
                               MID.flat_colours(), fx.TOL_JPEG_SOURCE, min_checked=70)
    assert not bad, ("p3.jp2 profile does not give the grid back", bad[:3])


# --------------------------------------------------------------------------------------------
# Module server
# --------------------------------------------------------------------------------------------
_SERVERS = []   # module servers in use: checked after every test


class _Module:
    """The generated ROOT, its references, and a server over it with --cache false (every
    request decodes) and --tile-size 256; restarted if a test killed it (that test fails)."""

    def __init__(self, binary, base):
        self.binary, self.base = binary, base
        self.root = os.path.join(base, "root")
        work = os.path.join(base, "work")
        os.makedirs(self.root)
        os.makedirs(work)
        self.refs = make_sources(self.root, work)
        self.server = None
        self.runs = 0

    def live_server(self):
        if self.server is None or not self.server.alive():
            if self.server in _SERVERS:
                _SERVERS.remove(self.server)
            self.runs += 1
            self.server = fx.Server(self.binary, self.root, self.base, name=f"jp2-{self.runs}",
                                    args=("--cache", "false", "--tile-size",
                                          str(DEFAULT_TILE))).start()
            _SERVERS.append(self.server)
        return self.server


@pytest.fixture(scope="module")
def jp2_module(iiifd_bin, tmp_path_factory):
    m = _Module(iiifd_bin, str(tmp_path_factory.mktemp("jpeg2000")))
    yield m
    if m.server:
        m.server.kill()
        if m.server in _SERVERS:
            _SERVERS.remove(m.server)


@pytest.fixture
def jp2(jp2_module):
    """(server, root, refs) of the module server."""
    return jp2_module.live_server(), jp2_module.root, jp2_module.refs


@pytest.fixture
def jserver(jp2):
    return jp2[0]


@pytest.fixture(autouse=True)
def _module_server_health():
    """After every test: the module server is alive and has printed no sanitizer report."""
    yield
    problems = []
    for s in list(_SERVERS):
        found, text = s.new_sanitizer_reports()
        if found:
            problems.append(f"sanitizer report:\n{text[-4000:]}")
        if not s.alive():
            problems.append(f"server died (exit {s.proc.returncode}):\n"
                            f"{s.stderr_text()[-3000:]}")
            _SERVERS.remove(s)
    if problems:
        pytest.fail("\n\n".join(problems))


def own_root(tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    return d


def save_tiled_jp2(grid, path, work, tile=128):
    """grid -> lossless tiled JP2 at path, tile x tile codestream tiles (PNG made in work)."""
    fd, tmp_png = tempfile.mkstemp(suffix=".png", dir=str(work))
    os.close(fd)
    try:
        Image.fromarray(grid.rgb()).save(tmp_png)
        vips("jp2ksave", tmp_png, path, "--lossless", "--tile-width", tile, "--tile-height", tile)
    finally:
        os.remove(tmp_png)


# --------------------------------------------------------------------------------------------
# 1. info.json
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", [3, 2])
def test_info_sizes_and_scale_factors(jserver, version):
    """tiled.jp2 (5 resolution levels): width/height, scaleFactors 1..16 (one per level), and a
    `sizes` entry for each scale factor of ceil(width/sf) x ceil(height/sf)."""
    info = get_ok(jserver, f"/iiif/{version}/tiled.jp2/info.json", ctype=None).json()
    assert (info["width"], info["height"]) == (2000, 1500)
    assert len(info["tiles"]) == 1
    assert info["tiles"][0]["scaleFactors"] == [1, 2, 4, 8, 16]
    sizes = sorted((s["width"], s["height"]) for s in info["sizes"])
    assert sizes == sorted((ceil_div(2000, f), ceil_div(1500, f)) for f in (1, 2, 4, 8, 16))


@pytest.mark.parametrize("name", [n for n, s in SPECS.items() if s.tile])
@pytest.mark.parametrize("version", [3, 2])
def test_info_advertises_codestream_tile(jserver, name, version):
    """A tiled JP2 read directly advertises its codestream tile as the IIIF tile, so each IIIF
    tile at scale factor 1 is exactly one codestream tile. (The libvips-only server advertised
    the configured tile-size instead: expected to fail before the direct decoder.)"""
    info = get_ok(jserver, f"/iiif/{version}/{name}/info.json", ctype=None).json()
    t = info["tiles"][0]
    assert (t["width"], t.get("height", t["width"])) == (SPECS[name].tile,) * 2, t


def test_info_single_tile_uses_configured_tile_size(jserver):
    """A single-tile JP2 (tile = image) has no useful codestream tiling: info.json advertises the
    configured tile-size (--tile-size 256 here), not 600x400."""
    info = get_ok(jserver, "/iiif/3/single.jp2/info.json", ctype=None).json()
    t = info["tiles"][0]
    assert (t["width"], t["height"]) == (DEFAULT_TILE, DEFAULT_TILE), t
    assert (info["width"], info["height"]) == (600, 400)


@pytest.mark.parametrize("name,factors", [("odd.jp2", [1, 2, 4, 8]), ("offset.jp2", [1, 2, 4, 8]),
                                          ("parts.jp2", [1, 2, 4, 8]),
                                          ("deep12.jp2", [1, 2, 4])],
                         ids=["odd.jp2", "offset.jp2", "parts.jp2", "deep12.jp2"])
def test_info_odd_sizes_consistent(jserver, name, factors):
    """Odd sizes and image/tile offsets: info.json shows the displayed size (x1-x0, y1-y0), one
    scale factor per resolution level (-n 4 / -n 3), sizes of ceil(width/sf) x ceil(height/sf),
    and each listed size, requested as full/w,h, comes back at exactly that size with the right
    squares."""
    spec = SPECS[name]
    info = get_ok(jserver, f"/iiif/3/{name}/info.json", ctype=None).json()
    assert (info["width"], info["height"]) == (spec.width, spec.height)
    assert info["tiles"][0]["scaleFactors"] == factors
    sizes = sorted((s["width"], s["height"]) for s in info["sizes"])
    assert sizes == sorted((ceil_div(spec.width, f), ceil_div(spec.height, f)) for f in factors)
    for w, h in sizes:
        im = get_ok(jserver, f"/iiif/3/{name}/full/{w},{h}/0/default.png").image()
        assert im.size == (w, h)
        check_pixels(im, spec, None, (0, 0, spec.width, spec.height), tol=TOL_RESIZED,
                     what=f"{name} full/{w},{h}")


# --------------------------------------------------------------------------------------------
# 1, 3, 4. every tile of info.json, at every scale factor
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SWEEP)
def test_every_info_tile(jp2, name):
    """Fetches every tile info.json lists, at every scale factor (region x,y,w,h, size w,h, as
    Image API 3 clients do), and checks its size, the squares, and (lossless sources, levels of
    the expected size) equality with opj_decompress of the same level."""
    server, _root, refs = jp2
    spec = SPECS[name]
    info = get_ok(server, f"/iiif/3/{name}/info.json", ctype=None).json()
    tiles = info_tiles(info)
    assert tiles
    checks = 0
    for sf, x, y, w, h in tiles:
        path = tile_path(name, sf, x, y, w, h)
        im = get_ok(server, path).image()
        assert im.size == (ceil_div(w, sf), ceil_div(h, sf)), (path, im.size)
        checks += check_pixels(im, spec, refs.get(name), (x, y, w, h), sf, what=path)
    assert checks >= len(tiles) // 2, f"only {checks} checks for {len(tiles)} tiles"


@pytest.mark.parametrize("name", ["tiled.jp2", "odd.jp2"])
def test_v2_tiles(jp2, name):
    """Image API 2 tile URLs (size w,: the height follows the region's aspect ratio) of every
    v2 info.json tile: the right size and squares, and the same pixels as the v3 URL (w,h)
    whenever both name the same size."""
    server, _root, refs = jp2
    spec = SPECS[name]
    info = get_ok(server, f"/iiif/2/{name}/info.json", ctype=None).json()
    for sf, x, y, w, h in info_tiles(info):
        a = get_ok(server, tile_path(name, sf, x, y, w, h, version=2)).image()
        ow = ceil_div(w, sf)
        assert a.size[0] == ow and abs(a.size[1] - h * ow / w) < 1, ((sf, x, y, w, h), a.size)
        check_pixels(a, spec, refs[name], (x, y, w, h), sf, what=f"v2 {sf},{x},{y}")
        if a.size == (ceil_div(w, sf), ceil_div(h, sf)):
            b = get_ok(server, tile_path(name, sf, x, y, w, h, version=3)).image()
            assert np.array_equal(rgb(a), rgb(b)), (sf, x, y, w, h)


# --------------------------------------------------------------------------------------------
# 1. other requests on the tiled RGB JP2 (compared with the same pixels stored as PNG)
# --------------------------------------------------------------------------------------------
# (region, size, rotation, quality, format, expected (x, y, w, h), output (w, h), rot90)
REQUESTS = [
    ("full", "max", "0", "default", "png", (0, 0, 2000, 1500), (2000, 1500), 0),
    ("full", "!300,300", "0", "default", "png", (0, 0, 2000, 1500), (300, 225), 0),
    ("100,200,500,300", "max", "0", "default", "png", (100, 200, 500, 300), (500, 300), 0),
    ("60,70,700,390", "350,", "0", "default", "png", (60, 70, 700, 390), (350, 195), 0),
    ("pct:10,20,30,40", "max", "0", "default", "png", (200, 300, 600, 600), (600, 600), 0),
    ("1850,1350,150,150", "max", "0", "default", "png", (1850, 1350, 150, 150), (150, 150), 0),
    ("0,0,128,128", "^256,", "0", "default", "png", (0, 0, 128, 128), (256, 256), 0),
    ("300,300,400,200", "max", "90", "default", "png", (300, 300, 400, 200), (200, 400), 1),
    ("300,300,400,200", "max", "180", "default", "png", (300, 300, 400, 200), (400, 200), 2),
    ("300,300,400,200", "max", "!90", "default", "png", (300, 300, 400, 200), (200, 400), 1),
    ("square", "300,", "0", "default", "png", (250, 0, 1500, 1500), (300, 300), 0),
    ("0,0,640,384", "max", "0", "default", "webp", (0, 0, 640, 384), (640, 384), 0),
    ("0,0,640,384", "max", "0", "default", "jpg", (0, 0, 640, 384), (640, 384), 0),
    ("0,0,640,384", "max", "0", "color", "png", (0, 0, 640, 384), (640, 384), 0),
]


@pytest.mark.parametrize("region,size,rot,quality,fmt,resolved,out,rot90", REQUESTS,
                         ids=[f"{r[0]}|{r[1]}|{r[2]}|{r[3]}.{r[4]}" for r in REQUESTS])
def test_tiled_requests(jserver, region, size, rot, quality, fmt, resolved, out, rot90):
    """Regions across many codestream tiles, pct regions, sizes (also upscaled), rotations,
    mirroring and output formats give the right picture; at full resolution the png equals the
    same request on tiled.png (the same pixels stored as PNG)."""
    path = f"/{region}/{size}/{rot}/{quality}.{fmt}"
    r = get_ok(jserver, "/iiif/3/tiled.jp2" + path, ctype=fx.MIME[fmt])
    im = r.image()
    assert im.size == out, im.size
    lossy = fmt in ("jpg", "webp")
    resized = resolved[2:] != (out if rot90 % 2 == 0 else out[::-1])
    tol = fx.TOL_LOSSY if lossy else TOL_RESIZED if resized else EXACT
    fx.assert_grid(im, BIG, resolved, *(out if rot90 % 2 == 0 else out[::-1]), tol,
                   mirror=rot.startswith("!"), rot90=rot90, min_checked=4)
    if not lossy and not resized:
        twin = get_ok(jserver, "/iiif/3/tiled.png" + path, ctype=fx.MIME[fmt]).image()
        d = np.abs(rgb(im) - rgb(twin))
        assert d.max() <= EXACT, f"differs from the PNG source by up to {d.max()}"


@pytest.mark.parametrize("quality", ["gray", "bitonal"])
def test_tiled_gray_and_bitonal_match_png_source(jserver, quality):
    """gray and bitonal of a region crossing codestream tiles equal the same request on the PNG
    with the same pixels (exactly for gray, >= 99.9% of pixels for bitonal), and are grey /
    black-and-white."""
    path = f"/100,100,700,500/max/0/{quality}.png"
    a = rgb(get_ok(jserver, "/iiif/3/tiled.jp2" + path).image())
    b = rgb(get_ok(jserver, "/iiif/3/tiled.png" + path).image())
    assert a.shape == b.shape == (500, 700, 3)
    assert (a.max(axis=2) - a.min(axis=2)).max() == 0, "not grey"
    if quality == "bitonal":
        assert set(np.unique(a).tolist()) == {0.0, 255.0}
        assert (a == b).mean() >= 0.999
    else:
        assert np.abs(a - b).max() <= EXACT
        for r in range(1, 5):
            for c in range(1, 7):
                col = BIG.colours[r, c].astype(int)
                v = a[r * 100 + 50 - 100, c * 100 + 50 - 100, 0]
                assert col.min() - 8 <= v <= col.max() + 8, ((r, c), v, col.tolist())


# --------------------------------------------------------------------------------------------
# 2. tile order and concurrency
# --------------------------------------------------------------------------------------------
def _parallel_urls(server):
    urls = []
    for name in ("tiled.jp2", "odd.jp2", "gray.jp2"):
        info = get_ok(server, f"/iiif/3/{name}/info.json", ctype=None).json()
        urls += [tile_path(name, *t) for t in info_tiles(info)]
    return urls


def test_shuffled_and_parallel_tiles_are_identical(jserver):
    """The same tiles fetched sequentially, then in a shuffled order by 16 threads (each tile
    at least once, 400 requests over three files), decode to identical pixels: requests share
    the file's index, and no state carries over from one decode to the next."""
    urls = _parallel_urls(jserver)
    seq = {u: rgb(get_ok(jserver, u).image()) for u in urls}
    rng = random.Random(20240607)
    order = urls + rng.choices(urls, k=max(0, 400 - len(urls)))
    rng.shuffle(order)

    def fetch(u):
        r = jserver.get(u, timeout=120)
        return u, r.status, r.body

    mismatches = []
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        for u, status, body in ex.map(fetch, order):
            assert status == 200, (u, status, body[:200])
            if not np.array_equal(rgb(fx.open_image(body)), seq[u]):
                mismatches.append(u)
    assert not mismatches, f"{len(mismatches)} parallel tiles differ, e.g. {mismatches[:5]}"


def test_rgb16_matches_8bit_expectation(jp2):
    """16-bit RGB (values x257): a tile and a reduced full image match the 8-bit colours."""
    server, _root, refs = jp2
    for path, region, sf in (("/iiif/3/rgb16.jp2/128,256,128,128/128,/0/default.png",
                              (128, 256, 128, 128), 1),
                             ("/iiif/3/rgb16.jp2/full/250,/0/default.png", (0, 0, 1000, 700), 4)):
        im = get_ok(server, path).image()
        assert check_pixels(im, SPECS["rgb16.jp2"], refs["rgb16.jp2"], region, sf,
                            what=path) >= 2
    jpg = get_ok(server, "/iiif/3/rgb16.jp2/0,0,400,300/max/0/default.jpg", "image/jpeg")
    fx.assert_grid(jpg.image(), MID, (0, 0, 400, 300), 400, 300, fx.TOL_LOSSY, min_checked=12)


def test_gray_source_stays_gray(jserver):
    """A 1-band JP2: output is grey (png L or equal channels) with the exact grey levels, and
    color/default quality do not invent colour."""
    im = get_ok(jserver, "/iiif/3/gray.jp2/200,100,384,256/max/0/default.png").image()
    a = rgb(im)
    assert (a.max(axis=2) - a.min(axis=2)).max() == 0
    fx.assert_grid(im, GREY, (200, 100, 384, 256), 384, 256, EXACT, min_checked=6)


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_rgba_keeps_alpha(jserver, fmt):
    """RGBA JP2 (squares in columns >= 6 fully transparent): png and webp keep the alpha; the
    opaque squares keep their colours; read across several 128 codestream tiles."""
    im = get_ok(jserver, f"/iiif/3/rgba.jp2/full/max/0/default.{fmt}", fx.MIME[fmt]).image()
    assert im.size == (1000, 700)
    assert im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info, im.mode
    a = np.asarray(im.convert("RGBA")).astype(int)
    tol = EXACT if fmt == "png" else fx.TOL_LOSSY
    for r in range(MID.rows):
        for c in range(MID.cols):
            px = a[r * 100 + 50, c * 100 + 50]
            if c >= ALPHA_COL:
                assert px[3] == 0, ((r, c), px.tolist())
            else:
                assert px[3] == 255, ((r, c), px.tolist())
                assert np.abs(px[:3] - MID.colours[r, c]).max() <= tol, ((r, c), px.tolist())


def test_rgba_tiles_keep_alpha(jserver):
    """Tiles of the RGBA JP2 at scale 1 and 2 keep the alpha of the squares they show."""
    for path, region, out in (("/iiif/3/rgba.jp2/512,256,128,128/128,/0/default.png",
                               (512, 256, 128, 128), 128),
                              ("/iiif/3/rgba.jp2/512,0,256,256/128,/0/default.png",
                               (512, 0, 256, 256), 128)):
        im = get_ok(jserver, path).image()
        a = np.asarray(im.convert("RGBA")).astype(int)
        x, y, w, h = region
        for sx in range(x + 25, x + w, 50):
            for sy in range(y + 25, y + h, 50):
                if sx % 100 in range(10, 91) and sy % 100 in range(10, 91):
                    px = a[(sy - y) * out // h, (sx - x) * out // w]
                    assert px[3] == (0 if sx // 100 >= ALPHA_COL else 255), (path, sx, sy, px)


def test_rgba_to_jpg_flattens_on_white(jserver):
    """jpg has no alpha: opaque squares keep their colour, transparent ones become white (as
    `iiifd convert` and arbitrary-rotation corners do)."""
    im = get_ok(jserver, "/iiif/3/rgba.jp2/full/500,/0/default.jpg", "image/jpeg").image()
    assert im.size == (500, 350) and im.mode in ("RGB", "L")
    a = np.asarray(im.convert("RGB")).astype(int)
    for r in range(MID.rows):
        for c in range(MID.cols):
            px = a[r * 50 + 25, c * 50 + 25]
            want = (255, 255, 255) if c >= ALPHA_COL else MID.colours[r, c]
            assert np.abs(px - want).max() <= fx.TOL_LOSSY, ((r, c), px.tolist(), list(want))


def test_single_tile_jp2(jp2):
    """A JP2 with one codestream tile (600x400): full, a region and a reduced size are right."""
    server, _root, refs = jp2
    spec = SPECS["single.jp2"]
    for path, region, sf in (("/iiif/3/single.jp2/full/max/0/default.png", (0, 0, 600, 400), 1),
                             ("/iiif/3/single.jp2/150,50,300,300/max/0/default.png",
                              (150, 50, 300, 300), 1),
                             ("/iiif/3/single.jp2/full/300,/0/default.png", (0, 0, 600, 400), 2)):
        im = get_ok(server, path).image()
        assert check_pixels(im, spec, refs["single.jp2"], region, sf, what=path) >= 2


def test_icc_profile_is_honoured(jserver):
    """A tiled JP2 holding Display P3 values with the P3 ICC profile in its colr box comes out
    in sRGB, like the PNG and JPEG sources with profiles (README: "honouring embedded ICC
    profiles"). The libvips-only server ignored JP2 profiles (vips 8.14 jp2kload does not read
    them); iiifd's own decoder attaches the profile from the colr box."""
    im = get_ok(jserver, "/iiif/3/p3.jp2/0,0,512,384/max/0/default.png").image()
    fx.assert_grid(im, MID, (0, 0, 512, 384), 512, 384, fx.TOL_JPEG_SOURCE, min_checked=12)


# --------------------------------------------------------------------------------------------
# 5. replaced files
# --------------------------------------------------------------------------------------------
def _tiles_show(server, ident, grid):
    for x, y in ((0, 0), (384, 256), (640, 384)):
        w, h = min(128, grid.width - x), min(128, grid.height - y)
        im = get_ok(server, f"/iiif/3/{ident}/{x},{y},{w},{h}/{w},/0/default.png").image()
        fx.assert_grid(im, grid, (x, y, w, h), w, h, EXACT)
    im = get_ok(server, f"/iiif/3/{ident}/full/{ceil_div(grid.width, 4)},/0/default.png").image()
    fx.assert_grid(im, grid, (0, 0, grid.width, grid.height), *im.size, EXACT, min_checked=20)


@pytest.mark.parametrize("how", ["rename", "in-place"])
@pytest.mark.parametrize("cache", ["false", "true"])
def test_replaced_file_serves_new_pixels(server_factory, tmp_path, how, cache):
    """A tiled JP2 is served (decoders opened), then replaced by different content, either
    renamed over it (os.replace) or rewritten in place (like cp: same inode, truncated), with a
    newer mtime. The next requests show the new pixels, and after a second replacement with a
    different size and tile grid, info.json and tiles follow too."""
    root = own_root(tmp_path, "replace")
    path = root / "r.jp2"
    save_tiled_jp2(MID, path, tmp_path)
    t0 = time.time() - 1000
    os.utime(path, (t0, t0))
    s = server_factory(args=("--cache", cache, "--cache-dir", str(tmp_path / "cache")),
                       root_dir=str(root))
    _tiles_show(s, "r.jp2", MID)

    def replace(grid, tile, mtime):
        new = tmp_path / "new.jp2"
        save_tiled_jp2(grid, new, tmp_path, tile)
        if how == "rename":
            os.replace(new, path)
        else:
            with open(new, "rb") as f, open(path, "r+b") as g:
                g.truncate(0)
                g.write(f.read())
            os.remove(new)
        os.utime(path, (mtime, mtime))

    replace(NEW, 128, t0 + 100)
    _tiles_show(s, "r.jp2", NEW)
    other = fx.Grid(9, 6, 100, seed=25)   # 900x600
    replace(other, 200, t0 + 200)
    info = get_ok(s, "/iiif/3/r.jp2/info.json", ctype=None).json()
    assert (info["width"], info["height"]) == (900, 600)
    for sf, x, y, w, h in info_tiles(info):
        im = get_ok(s, tile_path("r.jp2", sf, x, y, w, h)).image()
        fx.check_squares(im, fx.expected_labels(other, (x, y, w, h), *im.size),
                         other.flat_colours(), EXACT, min_checked=0)
    _tiles_show(s, "r.jp2", other)


# --------------------------------------------------------------------------------------------
# 6. corrupt files
# --------------------------------------------------------------------------------------------
CORRUPT_GRID = fx.Grid(10, 7, 100, seed=26)   # 1000x700, 128 tiles: 8 x 6 codestream tiles
DAMAGED = 27                                   # codestream tile index (row 3, col 3)


def _tile_region(index, grid=CORRUPT_GRID, tile=128):
    across = ceil_div(grid.width, tile)
    x, y = (index % across) * tile, (index // across) * tile
    return x, y, min(tile, grid.width - x), min(tile, grid.height - y)


def _make_corrupt(root):
    """good.jp2 plus three damaged copies; returns {name: (intact, damaged)} tile indexes
    (tiles after a destroyed marker or the cut are in neither: 500 or right, never wrong)."""
    good = root / "good.jp2"
    save_tiled_jp2(CORRUPT_GRID, good, root.parent)
    data = good.read_bytes()
    parts = {p[0]: p for p in jp2_codestream_tile_parts(data)}
    ntiles = len(parts)
    assert ntiles == 48
    out = {}

    # 0xFF over one tile's SOD marker and packet data; its SOT (and so the length that leads
    # to the next tile) intact. (Random bytes in packet data are no use: JPEG 2000 has no
    # checksums, and openjpeg decodes most of them, as wrong pixels, without an error.)
    _, _, start, length = parts[DAMAGED]
    sod = data.index(b"\xff\x93", start)
    d = bytearray(data)
    d[sod:start + length] = b"\xff" * (start + length - sod)
    (root / "body.jp2").write_bytes(d)
    out["body.jp2"] = ([t for t in range(ntiles) if t != DAMAGED], [DAMAGED])

    # zeros from the middle of one tile to the middle of the second after it: two SOT markers
    # gone, so the tiles after it cannot be found either (without a TLM index)
    s = parts[DAMAGED][2] + parts[DAMAGED][3] // 2
    e = parts[DAMAGED + 2][2] + parts[DAMAGED + 2][3] // 2
    d = bytearray(data)
    d[s:e] = b"\0" * (e - s)
    (root / "range.jp2").write_bytes(d)
    out["range.jp2"] = (list(range(DAMAGED)), [DAMAGED, DAMAGED + 1, DAMAGED + 2])

    # truncated to 60%
    cut = len(data) * 6 // 10
    (root / "trunc.jp2").write_bytes(data[:cut])
    intact = [t for t, (_, _, st, ln) in parts.items() if st + ln <= cut]
    missing = [t for t, (_, _, st, _ln) in parts.items() if st >= cut]
    assert intact and missing
    out["trunc.jp2"] = (intact, missing)
    for p in root.iterdir():
        os.utime(p, (1577836800, 1577836800))
    return out


def _assert_500_with_reason(r, what):
    assert r.status == 500, (what, r.status, r.body[:200])
    text = r.body.decode("utf-8", "replace")
    assert text.strip() and any(c.isalpha() for c in text), (what, text[:200])
    assert r.header("Access-Control-Allow-Origin") == "*"


def test_corrupt_tiled_jp2(server_factory, tmp_path):
    """Damaged tiled JP2s: 0xFF over one tile's data, zeros across two tile-part headers, and a
    file cut at 60% (openjpeg's own opj_decompress -t fails exactly on the damaged tiles).
    Tiles stored wholly before the damage come back right, before and after the damaged ones
    were asked for (a decoder that failed must not be reused with its state); damaged tiles
    answer 500 with a text reason and CORS; tiles past a destroyed marker or the cut answer 500
    or the right pixels, never wrong pixels; a reduced full image is 500 or right; the log names
    the file; other files and /health still work; the server lives.

    The libvips-only server fails this: after one failed decode, every later request for that
    file (intact tiles included) answers 200 with black pixels."""
    root = own_root(tmp_path, "corrupt")
    cases = _make_corrupt(root)
    s = server_factory(args=("--cache", "false"), root_dir=str(root))
    grid = CORRUPT_GRID

    def tile(ident, t):
        x, y, w, h = _tile_region(t)
        return s.get(f"/iiif/3/{ident}/{x},{y},{w},{h}/{w},/0/default.png"), (x, y, w, h)

    def right(r, region):
        if r.status != 200:
            return False
        im = r.image()
        want = grid.rgb()[region[1]:region[1] + region[3], region[0]:region[0] + region[2]]
        return rgb(im).shape == want.shape and np.abs(rgb(im) - want).max() <= EXACT

    problems = []
    for ident, (intact, damaged) in cases.items():
        probe = [intact[0], intact[len(intact) // 2], intact[-1]]
        assert get_ok(s, f"/iiif/3/{ident}/info.json", ctype=None).json()["width"] == 1000
        for rnd in range(2):
            for t in probe:
                r, region = tile(ident, t)
                if not right(r, region):
                    problems.append(f"{ident} intact tile {t} (round {rnd}): {r.status}")
            for t in damaged[:3]:
                r, _ = tile(ident, t)
                if r.status != 500:
                    problems.append(f"{ident} damaged tile {t}: {r.status}, want 500")
                else:
                    _assert_500_with_reason(r, f"{ident} tile {t}")
            rest = [t for t in range(48) if t not in intact and t not in damaged]
            for t in sorted(set(rest[:3] + rest[-2:])):
                r, region = tile(ident, t)
                if r.status != 500 and not right(r, region):
                    problems.append(f"{ident} tile {t} past the damage: {r.status} wrong pixels")
            r = s.get(f"/iiif/3/{ident}/full/250,/0/default.png")
            if r.status == 200:
                try:
                    fx.assert_grid(r.image(), grid, (0, 0, 1000, 700), *r.image().size,
                                   TOL_RESIZED)
                except AssertionError as e:
                    problems.append(f"{ident} full/250,: 200 with wrong pixels: {str(e)[:200]}")
            elif r.status != 500:
                problems.append(f"{ident} full/250,: {r.status}")
        for t in (0, DAMAGED, 47):
            r, region = tile("good.jp2", t)
            if not right(r, region):
                problems.append(f"good.jp2 tile {t}: {r.status}")
        assert s.get("/health").status == 200
        assert s.alive()
    assert not problems, "\n".join(problems)
    log = s.stderr_text()
    for ident in cases:
        assert ident in log, f"no log line names {ident}"


# --------------------------------------------------------------------------------------------
# 7. memory budget
# --------------------------------------------------------------------------------------------
def test_memory_budget_refuses_full_size_but_serves_tiles(jp2, server_factory):
    """Under --memory-budget-mb 8, full/max of the 2000x1500 tiled JP2 answers 400 (a permanent
    condition, not 503 with Retry-After) with a reason naming memory, at once (no queueing); every
    info.json tile at every scale factor, and a small full-image size, still answer 200."""
    _server, root, refs = jp2
    s = server_factory(args=("--memory-budget-mb", "8", "--cache", "false",
                             "--tile-size", str(DEFAULT_TILE)), root_dir=root)
    r = s.get("/iiif/3/tiled.jp2/full/max/0/default.png")
    assert r.status == 400 and not r.header("Retry-After"), (r.status, r.body[:200])
    assert b"memory" in r.body.lower()
    assert r.elapsed < 5, f"refusing took {r.elapsed:.1f}s"
    info = get_ok(s, "/iiif/3/tiled.jp2/info.json", ctype=None).json()
    tiles = info_tiles(info)
    for i, (sf, x, y, w, h) in enumerate(tiles):
        path = tile_path("tiled.jp2", sf, x, y, w, h)
        im = get_ok(s, path).image()
        if i % 7 == 0 or sf > 1:
            check_pixels(im, SPECS["tiled.jp2"], refs["tiled.jp2"], (x, y, w, h), sf, what=path)
    im = get_ok(s, "/iiif/3/tiled.jp2/full/!300,300/0/default.png").image()
    fx.assert_grid(im, BIG, (0, 0, 2000, 1500), 300, 225, TOL_RESIZED, min_checked=50)
    assert s.get("/health").status == 200


def test_render_errors_are_plain_text_and_not_cacheable(server_factory, tmp_path):
    """Errors found while rendering (a 500 for a tile that fails to decode, a 503 from the memory
    budget) are plain-text errors: one Content-Type, text/..., and none of the image response's
    validators (ETag, Last-Modified) or its long-lived Cache-Control, so neither a client nor a
    proxy can keep or revalidate the error as if it were the image.

    The server before the change fails this: service_image sets the image's Content-Type, Link,
    ETag, Last-Modified and Cache-Control before rendering, and the error adds a second
    Content-Type (text/plain) after the first (image/png)."""
    root = own_root(tmp_path, "errors")
    _make_corrupt(root)
    s = server_factory(args=("--memory-budget-mb", "2", "--cache", "false"), root_dir=str(root))
    x, y, w, h = _tile_region(DAMAGED)
    bad = s.get(f"/iiif/3/body.jp2/{x},{y},{w},{h}/{w},/0/default.png")
    big = s.get("/iiif/3/good.jp2/full/max/0/default.png")
    for r, status in ((bad, 500), (big, 400)):
        assert r.status == status, (status, r.status, r.body[:200])
        types = r.header_all("Content-Type")
        assert len(types) == 1 and types[0].startswith("text/"), (status, types)
        assert r.header("ETag") is None and r.header("Last-Modified") is None, (status, r.headers)
        cc = (r.header("Cache-Control") or "").lower()
        assert not ("max-age" in cc and "max-age=0" not in cc), (status, cc)
    good = get_ok(s, f"/iiif/3/good.jp2/{x},{y},{w},{h}/{w},/0/default.png")
    assert good.header("ETag") and len(good.header_all("Content-Type")) == 1


def _marker_segment(data, marker, start, end):
    """The first marker segment `marker` (bytes) between start and end, marker included."""
    at = data.index(marker, start, end)
    (length,) = struct.unpack(">H", data[at + 2:at + 4])
    return data[at:at + 2 + length]


def test_tile_header_cod_limits_reductions(server_factory, tmp_path):
    """A codestream whose first tile carries its own COD (and QCD) with fewer decomposition
    levels than the main header (built by splicing tile 0 of a 2-resolution encoding into a
    5-resolution one, COD and QCD moved into its tile-part header): info.json offers only the
    scale factors every tile has (1, 2), and every tile at both answers the right pixels. Going
    by the main header alone, scale factors up to 16 would be offered and fail on tile 0."""
    root = own_root(tmp_path, "percod")
    ppm = tmp_path / "grid.ppm"
    write_pnm(ppm, CORRUPT_GRID.rgb())
    many, few = tmp_path / "many.j2k", tmp_path / "few.j2k"
    opj_compress(ppm, many, "-t", "128,128", "-n", 5)
    opj_compress(ppm, few, "-t", "128,128", "-n", 2)
    a, b = many.read_bytes(), few.read_bytes()
    a_parts, b_parts = jp2_codestream_tile_parts(a), jp2_codestream_tile_parts(b)
    b_first_sot = b_parts[0][2]
    tile_header = (_marker_segment(b, b"\xff\x52", 0, b_first_sot) +
                   _marker_segment(b, b"\xff\x5c", 0, b_first_sot))
    _, _, b0, b0_len = next(p for p in b_parts if p[0] == 0)
    lsot, isot, psot, tpsot, tnsot = struct.unpack(">HHIBB", b[b0 + 2:b0 + 12])
    tile0 = (b"\xff\x90" + struct.pack(">HHIBB", lsot, isot, b0_len + len(tile_header), tpsot,
                                       tnsot) + tile_header + b[b0 + 12:b0 + b0_len])
    body = b"".join(a[p:p + n] for t, _, p, n in a_parts if t != 0)
    (root / "percod.j2k").write_bytes(a[:a_parts[0][2]] + tile0 + body + b"\xff\xd9")
    fx.run(["opj_decompress", "-i", str(root / "percod.j2k"), "-o", str(tmp_path / "check.png")])

    s = server_factory(args=("--cache", "false"), root_dir=str(root))
    info = get_ok(s, "/iiif/3/percod.j2k/info.json", ctype=None).json()
    assert [t["scaleFactors"] for t in info["tiles"]] == [[1, 2]], info["tiles"]
    for sf, x, y, w, h in info_tiles(info):
        im = get_ok(s, tile_path("percod.j2k", sf, x, y, w, h)).image()
        fx.assert_grid(im, CORRUPT_GRID, (x, y, w, h), im.width, im.height,
                       TOL_RESIZED if sf > 1 else EXACT, min_checked=0)
    assert s.get("/health").status == 200
