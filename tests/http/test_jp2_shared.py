"""JPEG 2000 and HTJ2K regions through the shared decoded-tile cache (src/image/jp2_shared.c):
runs of missing codestream tiles decoded in one OpenJPEG call, overviews (64 tiles or more)
decoded in bands of rows, requests whose tiles are partly cached, one request spread over the
cores, and many requests at once.

The source is the bench generator's grain image (bench/genimage.c) at odd sizes, with enough
codestream tiles for overviews and long runs of tiles: 1531x1017 in 64x64 tiles (24x16) as
classic JPEG 2000 (vips jp2ksave), 2131x2113 in 256x256 tiles (9x9; `iiifd convert` makes 256
or 512) as HTJ2K, and the latter size in 256x256 tiles as classic JPEG 2000 too (tiles large
enough that a crop's partly covered ones are decoded only under it). Every
answer is compared with the same request to a server without the tile cache (each request
decoded on its own, OpenJPEG told the exact area): the pixels must be identical (JPEG 2000 tiles
decode independently), and with libvips' decode of the level within MAE 1.5 per channel.
"""

import io
import os
import random
import subprocess
import threading

import numpy as np
import pytest
from PIL import Image

import fixtures as fx

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
MAE = 1.5
GEOMETRY = {"classic.jp2": (1531, 1017, 64), "g.jph": (2131, 2113, 256),
            "crops.jp2": (2131, 2113, 256)}  # width, height, tile
NAMES = list(GEOMETRY)


def run(*cmd):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True)


class Images:
    def __init__(self, binary, base):
        self.base, self.binary = base, binary
        self.root = os.path.join(base, "root")
        os.makedirs(self.root)
        gen = os.path.join(base, "genimage")
        flags = run("pkg-config", "--cflags", "--libs", "vips").stdout.split()
        run("cc", "-O2", "-o", gen, os.path.join(REPO, "bench", "genimage.c"), *flags)
        for name, (w, h, tile) in GEOMETRY.items():
            master, src = os.path.join(base, "master.v"), os.path.join(base, "src.tif")
            run(gen, master, w, h, 5)
            run("vips", "copy", master, src)
            out = os.path.join(self.root, name)
            if name.endswith(".jph"):
                run(binary, "convert", src, out, "--tile", tile, "--quality", 95, "--quiet")
            else:
                run("vips", "jp2ksave", src, out, "--tile-width", tile, "--tile-height", tile,
                    "--Q", 95)
        self.refs = {}

    def reference(self, name, level):
        if (name, level) not in self.refs:
            png = os.path.join(self.base, f"ref-{name}-{level}.png")
            run("vips", "jp2kload", os.path.join(self.root, name), png, "--page", level)
            self.refs[(name, level)] = rgb_file(png)
        return self.refs[(name, level)]

    def servers(self, workdir):
        cached = fx.Server(self.binary, self.root, workdir, name="cached",
                           args=("--cache", "false")).start()
        alone = fx.Server(self.binary, self.root, workdir, name="alone",
                          args=("--cache", "false", "--tile-cache-mb", "0")).start()
        return cached, alone


def rgb_file(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def rgb(body):
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def images(iiifd_bin, tmp_path_factory):
    return Images(iiifd_bin, str(tmp_path_factory.mktemp("jp2shared")))


@pytest.fixture
def servers(images, tmp_path):
    cached, alone = images.servers(str(tmp_path))
    yield cached, alone
    cached.kill()
    alone.kill()


def get_png(server, path):
    r = fx.request(server.port, path)
    assert r.status == 200, (path, r.status, r.body[:200])
    return rgb(r.body)


def level_size(name, level):
    f = 1 << level
    width, height, _ = GEOMETRY[name]
    return -(-width // f), -(-height // f)


def region_path(name, level, x, y, w, h):
    """The request for level pixels (x, y, w, h) of resolution level `level`."""
    f = 1 << level
    width, height, _ = GEOMETRY[name]
    fw, fh = min(w * f, width - x * f), min(h * f, height - y * f)
    return f"/iiif/3/{name}/{x * f},{y * f},{fw},{fh}/{w},{h}/0/default.png"


def check(images, cached, alone, name, level, x, y, w, h):
    path = region_path(name, level, x, y, w, h)
    got, want = get_png(cached, path), get_png(alone, path)
    assert got.shape == want.shape == (h, w, 3), (path, got.shape, want.shape)
    assert (got == want).all(), f"{path}: differs from the uncached decode"
    ref = images.reference(name, level)[y:y + h, x:x + w]
    mae = np.abs(got - ref).reshape(-1, 3).mean(axis=0)
    assert (mae <= MAE).all(), f"{path}: mean abs error per channel {mae} against libvips"


@pytest.mark.parametrize("name", NAMES)
def test_partly_cached_regions(images, servers, name):
    """A small region caches a few tiles; larger regions around it then mix cached tiles with
    runs of missing ones (left of, right of and between the cached ones), at odd offsets, up to
    the right and bottom edges (the short edge tiles)."""
    cached, alone = servers
    check(images, cached, alone, name, 0, 200, 130, 70, 61)          # tiles (3..4, 2..3)
    check(images, cached, alone, name, 0, 37, 101, 500, 203)         # runs left and right
    check(images, cached, alone, name, 0, 150, 90, 260, 150)         # mostly cached now
    lw, lh = level_size(name, 0)
    check(images, cached, alone, name, 0, 1000, 700, lw - 1000, lh - 700)  # edge tiles
    check(images, cached, alone, name, 1, 101, 77, 300, 201)         # reduced resolution
    check(images, cached, alone, name, 1, 0, 0, *level_size(name, 1))  # whole level 1


@pytest.mark.parametrize("name", NAMES)
def test_overviews_in_bands(images, servers, name):
    """Whole levels and odd sizes of the full image (384 or 81 codestream tiles: decoded in
    bands of rows), first with nothing cached, then again with everything cached, then at a
    level where a part was cached before."""
    cached, alone = servers
    check(images, cached, alone, name, 1, 0, 0, 200, 150)
    for level in (2, 1, 3, 2):
        check(images, cached, alone, name, level, 0, 0, *level_size(name, level))
    for w in (401, 1000, 191):
        path = f"/iiif/3/{name}/full/{w},/0/default.png"
        got, want = get_png(cached, path), get_png(alone, path)
        assert got.shape == want.shape and (got == want).all(), path


@pytest.mark.parametrize("name", NAMES)
def test_concurrent_requests_share_tiles(images, servers, name):
    """Eight clients at once asking for overlapping regions at levels 0 and 1: every answer is
    the uncached server's (each request then decodes on one thread, and runs of tiles decoded
    by one request are used by the others)."""
    cached, alone = servers
    rnd = random.Random(f"shared-{name}")
    paths = []
    for _ in range(24):
        level = rnd.choice((0, 0, 1))
        lw, lh = level_size(name, level)
        w, h = rnd.randint(50, min(lw, 420)), rnd.randint(50, min(lh, 420))
        x, y = rnd.randint(0, lw - w), rnd.randint(0, lh - h)
        paths.append(region_path(name, level, x, y, w, h))
    want = {p: get_png(alone, p) for p in paths}
    got, errors = {}, []

    def client(mine):
        try:
            for p in mine:
                got[p] = get_png(cached, p)
        except AssertionError as e:  # collected: pytest sees only the main thread's
            errors.append(e)

    threads = [threading.Thread(target=client, args=(paths[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for p in paths:
        assert (got[p] == want[p]).all(), f"{p}: differs from the uncached decode"


@pytest.mark.parametrize("name", NAMES)
def test_direct_jpeg_matches_libvips_path(images, tmp_path, name):
    """JPEG output takes the direct path (render_jp2.c: tiles from the cache, one resampling
    pass, libjpeg-turbo); a server with --direct-render false renders through libvips. Random
    regions at odd offsets and sizes, shrinks by 1 to 12 (several resolution levels), edge
    tiles and whole images: same size, mean absolute error <= 1.5 per channel, and no seam
    (no row or column of the difference stands out)."""
    width, height, _ = GEOMETRY[name]
    direct = fx.Server(images.binary, images.root, str(tmp_path), name="direct",
                       args=("--cache", "false")).start()
    vips = fx.Server(images.binary, images.root, str(tmp_path), name="vips",
                     args=("--cache", "false", "--direct-render", "false")).start()
    try:
        rnd = random.Random(f"direct-{name}")
        paths = [f"full/{w}," for w in (1, 97, 400, width // 3, width)]
        paths.append(f"{width - 301},{height - 203},301,203/max")       # right and bottom edge
        for _ in range(14):
            w, h = rnd.randint(9, width), rnd.randint(9, height)
            x, y = rnd.randint(0, width - w), rnd.randint(0, height - h)
            out = max(1, int(w / rnd.choice((1, 1.5, 2, 3, 4.7, 8, 12))))
            paths.append(f"{x},{y},{w},{h}/{out},")
        for p in paths:
            url = f"/iiif/3/{name}/{p}/0/default.jpg"
            a, b = fx.request(direct.port, url), fx.request(vips.port, url)
            assert a.status == b.status == 200, (url, a.status, b.status)
            got, want = rgb(a.body), rgb(b.body)
            assert got.shape == want.shape, (url, got.shape, want.shape)
            diff = np.abs(got - want)
            mae = diff.reshape(-1, 3).mean(axis=0)
            assert (mae <= MAE).all(), f"{url}: mean abs error per channel {mae}"
            if min(got.shape[:2]) >= 16:
                worst = max(diff.mean(axis=(1, 2)).max(), diff.mean(axis=(0, 2)).max())
                assert worst <= 4 * MAE, f"{url}: a row or column differs by {worst} on average"
    finally:
        direct.kill()
        vips.kill()


@pytest.mark.parametrize("name", ["crops.jp2", "g.jph"])
def test_crops_of_partly_covered_tiles(images, servers, name):
    """Crops at full resolution whose edge tiles they cover only in part (classic JPEG 2000:
    those decoded only under the crop and not cached, a run of whole tiles stopping before
    them; HTJ2K: decoded whole): tall crops (whole tile rows as pieces), 3x3 tiles with a
    whole one inside, the short right and bottom edge tiles, a crop one pixel wide, and the
    same crops again once the inner tiles are cached."""
    cached, alone = servers
    lw, lh = level_size(name, 0)
    crops = [(100, 90, 700, 1000), (300, 300, 512, 512), (lw - 400, lh - 300, 400, 300),
             (1000, 5, 1, 700), (37, 1500, 1900, 129), (513, 257, 255, 1)]
    for _ in range(2):
        for crop in crops:
            check(images, cached, alone, name, 0, *crop)
