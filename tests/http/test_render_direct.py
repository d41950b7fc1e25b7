"""The direct render path for tiled JPEG TIFFs (src/image/render_tiff.c) against the libvips
path (the same server with --direct-render false), on the bench generator's grain image
(bench/genimage.c: structure plus per-pixel grain, so any offset or seam shows): same pixels
within a mean absolute error of 1.5 per channel, no shift, no seam at tile edges, edge tiles
included; the decoded-tile cache never serves a replaced file's pixels; a corrupt tile fails
that request only.

Two documented exceptions (docs/internals/rendering.md):
- libvips' pyramid levels round down, so an edge tile can need one pixel more than its level
  has; libvips then enlarges the level (bicubic, which blurs the grain), the direct path shrinks
  the next larger level. Those are compared with libvips' own crop-and-resize of that larger level.
- DCT-scaled decoding (a single-level tiled TIFF shrunk 4x and more) is a different low-pass
  than libvips' full decode + box + Lanczos: within MAE_DCT, still no shift and no seam.
"""

import os
import math
import random
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

import fixtures as fx

HERE = os.path.dirname(os.path.abspath(__file__))
GENIMAGE_C = os.path.join(HERE, "..", "..", "bench", "genimage.c")
W, H = 2001, 1499  # odd: every level has narrow right and bottom edge tiles
TILE = 256
MAE_MAX = 1.5
MAE_DCT = 4.0
QUALITY = 85  # iiifd's default jpeg-quality


def _vips(*args):
    subprocess.run(["vips", *map(str, args)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def grain_root(tmp_path_factory):
    """grain.tif (pyramid, Q90), grain_flat.tif (one tiled level: DCT-scaled shrinks),
    grain_grey.tif (one band), grain_other.tif (another seed, same size: the replacement)."""
    work = tmp_path_factory.mktemp("grain")
    gen = work / "genimage"
    cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "vips"], check=True,
                            capture_output=True, text=True).stdout.split()
    subprocess.run(["cc", "-O2", "-o", str(gen), GENIMAGE_C, *cflags], check=True)
    root = work / "root"
    root.mkdir()
    for seed, name in ((7, "master.v"), (11, "other.v")):
        subprocess.run([str(gen), str(work / name), str(W), str(H), str(seed)], check=True,
                       capture_output=True)
    common = ["--tile", "--tile-width", TILE, "--tile-height", TILE, "--compression", "jpeg",
              "--Q", 90]
    _vips("tiffsave", work / "master.v", root / "grain.tif", "--pyramid", *common)
    _vips("tiffsave", work / "other.v", work / "grain_other.tif", "--pyramid", *common)
    _vips("tiffsave", work / "master.v", root / "grain_flat.tif", *common)
    _vips("colourspace", work / "master.v", work / "grey.v", "b-w")
    _vips("tiffsave", work / "grey.v", root / "grain_grey.tif", "--pyramid", *common)
    return root, work


@pytest.fixture(scope="module")
def servers(iiifd_bin, grain_root, tmp_path_factory):
    root, _ = grain_root
    work = tmp_path_factory.mktemp("grain-servers")
    direct = fx.Server(iiifd_bin, root, work, args=["--cache", "false"], name="direct").start()
    vips = fx.Server(iiifd_bin, root, work, args=["--cache", "false", "--direct-render", "false"],
                     name="vips").start()
    yield direct, vips
    for s in (direct, vips):
        found, text = s.new_sanitizer_reports()
        s.kill()
        assert not found, text[-4000:]


def pixels(resp):
    assert resp.status == 200, resp.body[:300]
    return fx.to_rgb_array(resp.image())


def is_direct(resp):
    return "direct" in (resp.header("Server-Timing") or "")


def level_sizes(w, h):
    """(scale, width, height) of each level libvips' tiffsave --pyramid writes."""
    sizes, s = [(1, w, h)], 2
    while max(sizes[-1][1], sizes[-1][2]) > TILE:
        sizes.append((s, w // s, h // s))  # each level rounds down
        s *= 2
    return sizes


def vips_level_plan(x, y, w, h, out_w, out_h):
    """What the libvips path reads (pipeline.c): level index and its whole-pixel rectangle."""
    shrink = min(w / max(out_w - 1, 1), h / max(out_h - 1, 1))
    levels = level_sizes(W, H)
    i = max(j for j, (_, lw, _) in enumerate(levels) if W / lw <= shrink + 1e-9)
    return i, level_rect(levels[i], x, y, w, h)


def level_rect(level, x, y, w, h):
    _, lw, lh = level
    sx, sy = W / lw, H / lh
    rnd = lambda v: int(math.floor(v + 0.5))  # C llround for positive values
    x0, y0 = min(rnd(x / sx), lw - 1), min(rnd(y / sy), lh - 1)
    x1, y1 = rnd((x + w) / sx), rnd((y + h) / sy)
    x1 = lw if x1 >= lw else max(x1, x0 + 1)
    y1 = lh if y1 >= lh else max(y1, y0 + 1)
    return x0, y0, x1, y1


def vips_reference(path, page, rect, out_w, out_h, tmp):
    """libvips' own crop of stored level `page`, resized to out_w x out_h, as a JPEG."""
    x0, y0, x1, y1 = rect
    _vips("crop", f"{path}[page={page}]", tmp / "crop.v", x0, y0, x1 - x0, y1 - y0)
    _vips("resize", tmp / "crop.v", tmp / f"ref.jpg[Q={QUALITY},strip]", out_w / (x1 - x0),
          "--vscale", out_h / (y1 - y0))
    return fx.to_rgb_array(Image.open(tmp / "ref.jpg"))


def parse_url(url):
    _, _, _, name, region, size = url.split("/")[:6]
    x, y, w, h = (0, 0, W, H) if region == "full" else map(int, region.split(","))
    return name, x, y, w, h


def compare(direct, vips, url, expect_direct=True, tol=MAE_MAX, tmp=None):
    a, b = direct.get(url), vips.get(url)
    pa, pb = pixels(a), pixels(b)
    assert pa.shape == pb.shape, (url, pa.shape, pb.shape)
    assert is_direct(a) == expect_direct, (url, a.header("Server-Timing"))
    assert not is_direct(b), url
    mae = np.abs(pa - pb).mean(axis=(0, 1))
    name, x, y, w, h = parse_url(url)
    i, rect = vips_level_plan(x, y, w, h, pa.shape[1], pa.shape[0])
    enlarged = rect[2] - rect[0] < pa.shape[1] or rect[3] - rect[1] < pa.shape[0]
    if expect_direct and enlarged and i > 0 and tmp is not None:
        larger = level_rect(level_sizes(W, H)[i - 1], x, y, w, h)
        ref = vips_reference(direct.root + "/" + name, i - 1, larger, pa.shape[1], pa.shape[0],
                             tmp)
        mae = np.abs(pa - ref).mean(axis=(0, 1))
    assert mae.max() <= tol, (url, mae)
    return pa, pb


def best_shift(pa, pb):
    """The (dx, dy) within one pixel that makes the two images agree best."""
    h, w = pa.shape[0] - 2, pa.shape[1] - 2
    scores = {}
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            scores[(dx, dy)] = np.abs(pa[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
                                      - pb[1:1 + h, 1:1 + w]).mean()
    return min(scores, key=scores.get)


def random_request(rng, name):
    x, y = rng.randrange(0, W - 8), rng.randrange(0, H - 8)
    w, h = rng.randrange(8, W - x + 1), rng.randrange(8, H - y + 1)
    shrink = rng.choice([1, 1, 1.37, 2, 2.5, 3, 4.2, 7, 11])
    out_w = max(1, int(w / shrink))
    return f"/iiif/3/{name}/{x},{y},{w},{h}/{out_w},/0/default.jpg"


@pytest.mark.parametrize("name", ["grain.tif", "grain_flat.tif", "grain_grey.tif"])
def test_random_regions_and_sizes_match_libvips(servers, name, tmp_path):
    direct, vips = servers
    rng = random.Random(1300 + len(name))
    took_direct = 0
    for _ in range(30):
        url = random_request(rng, name)
        a = direct.get(url)
        compare(direct, vips, url, expect_direct=is_direct(a), tmp=tmp_path,
                tol=MAE_DCT if name == "grain_flat.tif" else MAE_MAX)
        took_direct += is_direct(a)
    assert took_direct >= 20, "most shrinking requests take the direct path"


@pytest.mark.parametrize("url", [
    "/iiif/3/grain.tif/full/1000,/0/default.jpg",   # level 1 is 1000x749: from level 0
    "/iiif/3/grain.tif/full/300,/0/default.jpg",    # a shrink between levels (Lanczos-3)
    "/iiif/3/grain.tif/full/77,/0/color.jpg",
    "/iiif/3/grain.tif/100,200,1000,1000/500,/0/default.jpg",
    "/iiif/3/grain.tif/1000,700,512,512/max/0/default.jpg",   # full size, crosses tile edges
    "/iiif/3/grain_flat.tif/full/250,/0/default.jpg",   # 1/4 DCT scaling, then Lanczos
    "/iiif/3/grain_flat.tif/full/30,/0/default.jpg",    # 1/8 DCT scaling, then area averaging
    "/iiif/3/grain_flat.tif/3,5,1601,1203/801,/0/default.jpg",  # about 2: Lanczos
    "/iiif/3/grain_grey.tif/240,250,300,300/150,/0/default.jpg",
])
def test_no_offset_and_no_seam(servers, url, tmp_path):
    direct, vips = servers
    dct = "grain_flat" in url and "801," not in url
    pa, pb = compare(direct, vips, url, tmp=tmp_path, tol=MAE_DCT if dct else MAE_MAX)
    if min(pa.shape[:2]) > 8:
        assert best_shift(pa, pb) == (0, 0), url
    # a seam would show as a column or row far worse than the image's average
    col = np.abs(pa - pb).mean(axis=(0, 2))
    row = np.abs(pa - pb).mean(axis=(1, 2))
    assert col.max() <= 4 * max(col.mean(), 1.0) and row.max() <= 4 * max(row.mean(), 1.0), url


def test_full_size_crossing_tile_edges_is_the_decoded_pixels(servers):
    """Unscaled output is a copy of the decoded tiles: identical to libvips' decode."""
    direct, vips = servers
    url = "/iiif/3/grain.tif/250,250,20,20/max/0/default.png"  # png: both via libvips
    ref = pixels(vips.get(url))
    a = pixels(direct.get("/iiif/3/grain.tif/250,250,20,20/max/0/default.jpg"))
    b = pixels(vips.get("/iiif/3/grain.tif/250,250,20,20/max/0/default.jpg"))
    assert np.abs(a - b).max() == 0, "same decode, same encoder settings: same bytes"
    assert np.abs(a - ref).mean() < 6  # and it is that region (JPEG loss only)


def test_edge_tiles_of_every_level(servers, tmp_path):
    direct, vips = servers
    for s, lw, lh in level_sizes(W, H):
        cols, rows = -(-lw // TILE), -(-lh // TILE)
        for col, row in ((cols - 1, 0), (0, rows - 1), (cols - 1, rows - 1)):
            x, y = col * TILE * s, row * TILE * s
            rw, rh = min(TILE * s, W - x), min(TILE * s, H - y)
            ow, oh = -(-rw // s), -(-rh // s)
            url = f"/iiif/3/grain.tif/{x},{y},{rw},{rh}/{ow},{oh}/0/default.jpg"
            a = direct.get(url)
            if a.header("Server-Timing") == "passthrough":
                continue  # a whole stored tile: sent as stored
            compare(direct, vips, url, tmp=tmp_path)


@pytest.mark.parametrize("tail", ["90/default.jpg", "!0/default.jpg", "0/gray.jpg",
                                  "0/bitonal.jpg", "0/default.png", "45/default.webp"])
def test_other_rotations_qualities_formats_use_libvips(servers, tail):
    direct, vips = servers
    url = f"/iiif/3/grain.tif/300,300,700,500/350,/{tail}"
    a, b = direct.get(url), vips.get(url)
    assert not is_direct(a) and a.status == b.status == 200
    assert np.abs(pixels(a) - pixels(b)).mean() <= MAE_MAX


def test_upscaling_uses_libvips(servers):
    direct, vips = servers
    a = direct.get("/iiif/3/grain.tif/0,0,100,100/^150,/0/default.jpg")
    assert a.status == 200 and not is_direct(a)


def test_tile_cache_off_gives_the_same_pixels(iiifd_bin, grain_root, tmp_path):
    root, _ = grain_root
    url = "/iiif/3/grain.tif/full/300,/0/default.jpg"
    on = fx.Server(iiifd_bin, root, tmp_path, args=["--cache", "false"], name="on").start()
    off = fx.Server(iiifd_bin, root, tmp_path, args=["--cache", "false", "--tile-cache-mb", "0"],
                    name="off").start()
    try:
        a, b = on.get(url), off.get(url)
        assert is_direct(a) and is_direct(b)
        assert np.abs(pixels(a) - pixels(b)).max() == 0
    finally:
        on.kill()
        off.kill()


def test_replaced_file_never_serves_old_pixels(iiifd_bin, grain_root, tmp_path):
    root, work = grain_root
    own = tmp_path / "own"
    own.mkdir()
    shutil.copy(root / "grain.tif", own / "g.tif")
    shutil.copy(work / "grain_other.tif", own / "other.tif")
    s = fx.Server(iiifd_bin, own, tmp_path, args=["--cache", "false"], name="replace").start()
    try:
        urls = ["/iiif/3/g.tif/full/300,/0/default.jpg",
                "/iiif/3/g.tif/500,400,700,600/350,/0/default.jpg"]
        before = [pixels(s.get(u)) for u in urls]
        for u in urls:
            assert np.abs(pixels(s.get(u)) - before[urls.index(u)]).max() == 0  # cached tiles
        st = os.stat(own / "g.tif")
        shutil.copy(own / "other.tif", own / "new.tif")
        os.utime(own / "new.tif", ns=(st.st_atime_ns, st.st_mtime_ns))  # even the same mtime
        os.replace(own / "new.tif", own / "g.tif")
        for u in urls:
            after = s.get(u)
            assert is_direct(after)
            want = pixels(s.get(u.replace("/g.tif/", "/other.tif/")))
            assert np.abs(pixels(after) - want).max() == 0, u
            assert np.abs(pixels(after) - before[urls.index(u)]).mean() > 5, u
    finally:
        s.kill()


def tile_location(path, page, index):
    im = Image.open(path)
    im.seek(page)
    return im.tag_v2[324][index], im.tag_v2[325][index]


def test_corrupt_tile_fails_that_request_only(iiifd_bin, grain_root, tmp_path):
    root, _ = grain_root
    own = tmp_path / "own"
    own.mkdir()
    path = own / "bad.tif"
    shutil.copy(root / "grain.tif", path)
    offset, size = tile_location(path, 0, 9)  # level 0, row 1, col 1 (8 tiles per row)
    with open(path, "r+b") as f:
        # a marker in the middle of the entropy-coded data: libjpeg's "premature end of data
        # segment" (random bytes would not do: JPEG has no checksum, they may decode unnoticed)
        f.seek(offset + size // 2)
        f.write(b"\xff\xd9" + bytes(range(62)))
    offset2, size2 = tile_location(path, 0, 12)  # row 1, col 4: cut off mid-stream
    with open(path, "r+b") as f:
        f.seek(offset2 + 20)
        f.write(b"\xff\xd9" + b"\x00" * (size2 - 22))
    s = fx.Server(iiifd_bin, own, tmp_path, args=["--cache", "false"], name="corrupt").start()
    try:
        for region in ("300,300,100,100", "1050,300,100,100"):
            r = s.get(f"/iiif/3/bad.tif/{region}/max/0/default.jpg")
            assert r.status == 500, (region, r.status)
        good = s.get("/iiif/3/bad.tif/0,0,200,200/100,/0/default.jpg")
        assert good.status == 200 and is_direct(good)
        again = s.get("/iiif/3/bad.tif/300,300,100,100/max/0/default.jpg")
        assert again.status == 500  # failures are not cached, and the server is still up
        assert s.alive()
    finally:
        found, text = s.new_sanitizer_reports()
        s.kill()
    assert not found, text[-4000:]
