"""Tile-speed machinery: stored-tile pass-through, the disk derivative cache, admission control,
the render time limit, and safety against broken and hostile sources."""

import os
import shutil
import struct
import threading

import numpy as np
import pytest
from PIL import Image

import fixtures as fx


# --------------------------------------------------------------------------------------------
# pass-through
# --------------------------------------------------------------------------------------------
def stored_tile_jpeg(path, page, index):
    """The complete JPEG a pass-through must send: JPEGTables minus EOI + tile minus SOI."""
    im = Image.open(path)
    im.seek(page)
    offsets, counts = im.tag_v2[324], im.tag_v2[325]
    tables = im.tag_v2.get(347)
    with open(path, "rb") as f:
        f.seek(offsets[index])
        tile = f.read(counts[index])
    assert tile[:2] == b"\xff\xd8"
    return (bytes(tables)[:-2] + tile[2:]) if tables else tile


@pytest.mark.parametrize("scale,col,row", [(1, 1, 1), (1, 3, 2), (2, 1, 1), (4, 0, 0)])
def test_passthrough_sends_stored_tile_bytes(server, root, scale, col, row):
    tile = 256
    x, y, w = col * tile * scale, row * tile * scale, tile * scale
    r = server.get(f"/iiif/3/src_pyramid.tif/{x},{y},{w},{w}/{tile},{tile}/0/default.jpg")
    assert r.status == 200, r.body
    level = {1: 0, 2: 1, 4: 2}[scale]
    level_w = -(-fx.PYR.width // scale)
    index = row * -(-level_w // tile) + col
    expected = stored_tile_jpeg(os.path.join(root, "src_pyramid.tif"), level, index)
    assert r.body == expected, "pass-through must send the stored bytes unchanged"
    # and those bytes show the same pixels as the decoded path
    decoded = server.get(f"/iiif/3/src_pyramid.tif/{x},{y},{w},{w}/{tile},{tile}/0/default.png")
    a = fx.to_rgb_array(r.image()).astype(int)
    b = fx.to_rgb_array(decoded.image()).astype(int)
    assert a.shape == b.shape == (tile, tile, 3)
    assert np.abs(a - b).mean() < 3 and np.percentile(np.abs(a - b), 99) < 25


def test_edge_tile_and_other_qualities_are_rendered(server):
    # the last column is narrower than a tile: stored padded, so only that stored tile is
    # decoded and its valid part re-encoded, by the direct render path (render_tiff.c)
    x = (fx.PYR.width // 256) * 256
    w = fx.PYR.width - x
    r = server.get(f"/iiif/3/src_pyramid.tif/{x},0,{w},256/{w},256/0/default.jpg")
    assert r.status == 200 and r.image().size == (w, 256)
    timing = r.header("Server-Timing")
    assert timing == "cache" or timing.endswith(", direct"), timing
    ref = server.get(f"/iiif/3/src_pyramid.tif/{x},0,{w},256/{w},256/0/default.png")
    a = fx.to_rgb_array(r.image()).astype(int)
    b = fx.to_rgb_array(ref.image()).astype(int)
    assert a.shape == b.shape and np.abs(a - b).mean() < 3
    g = server.get("/iiif/3/src_pyramid.tif/256,256,256,256/256,256/0/gray.jpg")
    assert g.status == 200 and fx.to_rgb_array(g.image()).std(axis=2).max() < 3


# --------------------------------------------------------------------------------------------
# disk derivative cache
# --------------------------------------------------------------------------------------------
def cache_files(cache_dir):
    """The cache's files, not the temporary ones the writer renames into place when complete."""
    out = []
    for d, _, files in os.walk(cache_dir):
        out += [os.path.join(d, f) for f in files if ".tmp." not in f]
    return out


def make_own_root(tmp_path, name="own"):
    root = tmp_path / name
    root.mkdir()
    Image.fromarray(fx.GRID.rgb()).save(root / "a.png")
    return root


def test_cache_stores_and_serves_derivatives(server_factory, tmp_path):
    root, cache = make_own_root(tmp_path), tmp_path / "cache"
    s = server_factory(args=("--cache-dir", str(cache)), root_dir=str(root))
    path = "/iiif/3/a.png/100,100,500,500/250,/0/default.png"
    first = s.get(path)
    assert first.status == 200
    # written by the cache's background writer, after the response
    fx.wait_for(lambda: len(cache_files(cache)) == 1, "the cached file")
    files = cache_files(cache)
    assert os.path.getsize(files[0]) == len(first.body)
    with open(files[0], "rb") as f:
        assert f.read() == first.body
    # indexed just after the file is renamed into place: served from the cache from then on
    fx.wait_for(lambda: s.get(path).header("Server-Timing") == "cache", "a cache hit")
    second = s.get(path)
    assert second.status == 200 and second.body == first.body
    assert second.header("Server-Timing") == "cache"
    fx.wait_for(lambda: len(cache_files(cache)) == 1, "no second copy")


def test_replaced_source_never_serves_stale_pixels(server_factory, tmp_path):
    root, cache = make_own_root(tmp_path), tmp_path / "cache"
    s = server_factory(args=("--cache-dir", str(cache)), root_dir=str(root))
    path = "/iiif/3/a.png/0,0,100,100/100,/0/default.png"
    before = s.get(path)
    etag = before.header("ETag")
    assert before.status == 200
    assert np.abs(fx.to_rgb_array(before.image())[50, 50].astype(int) - fx.GRID.colours[0, 0]).max() <= 2
    # replace the file with a different picture and a different size
    Image.new("RGB", (400, 300), (7, 200, 9)).save(root / "a.png.new", format="PNG")
    os.replace(root / "a.png.new", root / "a.png")
    after = s.get(path)
    assert after.status == 200 and after.header("ETag") != etag
    assert tuple(fx.to_rgb_array(after.image())[50, 50]) == (7, 200, 9)
    info = s.get("/iiif/3/a.png/info.json").json()
    assert (info["width"], info["height"]) == (400, 300)


def test_cache_off_switch(server_factory, tmp_path):
    root, cache = make_own_root(tmp_path), tmp_path / "cache"
    s = server_factory(args=("--cache", "false", "--cache-dir", str(cache)), root_dir=str(root))
    assert s.get("/iiif/3/a.png/full/300,/0/default.png").status == 200
    assert cache_files(cache) == []


def test_cache_size_is_capped(server_factory, tmp_path):
    root, cache = make_own_root(tmp_path), tmp_path / "cache"
    s = server_factory(args=("--cache-dir", str(cache), "--cache-size-mb", "1"),
                       root_dir=str(root))
    for w in range(300, 1000, 50):  # ~14 PNGs of a few hundred KB each
        assert s.get(f"/iiif/3/a.png/full/{w},/0/default.png").status == 200
    # the background writer stores in order: it is done once a last, tiny render is on disk
    last = s.get("/iiif/3/a.png/0,0,10,10/10,/0/default.png")
    assert last.status == 200

    def last_written():
        for f in cache_files(cache):
            try:
                if ".tmp" not in f and open(f, "rb").read() == last.body:
                    return True
            except FileNotFoundError:  # evicted while we looked
                pass
        return False
    fx.wait_for(last_written, "the writer to finish")
    total = sum(os.path.getsize(f) for f in cache_files(cache))
    assert 0 < total <= 1 << 20
    assert not [f for f in cache_files(cache) if ".tmp" in f]


def test_cache_purge_command(iiifd_bin, server_factory, tmp_path):
    root, cache = make_own_root(tmp_path), tmp_path / "cache"
    Image.fromarray(fx.RECT.rgb()).save(root / "b.png")
    s = server_factory(args=("--cache-dir", str(cache)), root_dir=str(root))
    for ident in ("a.png", "b.png"):
        assert s.get(f"/iiif/3/{ident}/full/200,/0/default.png").status == 200
    fx.wait_for(lambda: len(cache_files(cache)) == 2, "both cached files")
    p = fx.run([iiifd_bin, "cache", "purge", "--cache-dir", str(cache), "--root", str(root),
                "a.png"])
    assert "1" in p.stdout
    assert len(cache_files(cache)) == 1
    fx.run([iiifd_bin, "cache", "purge", "--cache-dir", str(cache)])
    assert cache_files(cache) == []
    # the running server copes with files purged behind its back
    r = s.get("/iiif/3/a.png/full/200,/0/default.png")
    assert r.status == 200 and r.image().size == (200, 200)


# --------------------------------------------------------------------------------------------
# admission control and time limit
# --------------------------------------------------------------------------------------------
def test_request_beyond_the_memory_budget_is_400_not_503(server_factory):
    """Never fitting the budget is permanent (Image API 3.0 §4.2: 400 for sizes beyond the
    limits); 503 with Retry-After would make clients retry for ever."""
    s = server_factory(args=("--memory-budget-mb", "2"))
    big = s.get("/iiif/3/grid.png/full/max/0/default.png")
    assert big.status == 400 and not big.header("Retry-After")
    assert b"memory" in big.body and b"memory-budget-mb" in big.body
    small = s.get("/iiif/3/src_pyramid.tif/0,0,256,256/128,/0/default.png")
    assert small.status == 200
    assert s.get("/health").status == 200


def test_large_burst_does_not_block_tiles(server_factory, tmp_path):
    root = tmp_path / "burst"
    root.mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (2500, 2500, 3), dtype=np.uint8)).save(root / "big.png")
    shutil.copy(root / "big.png", root / "big2.png")
    s = server_factory(args=("--large-renders", "1", "--queue-wait-ms", "0", "--cache", "false"),
                       root_dir=str(root))
    results = []

    def large(i):
        results.append(s.get(f"/iiif/3/big.png/full/max/{i}/default.png", timeout=120).status)

    threads = [threading.Thread(target=large, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    tiles = [s.get(f"/iiif/3/big2.png/{x},0,256,256/256,/0/default.jpg").status
             for x in range(0, 2048, 256)]
    for t in threads:
        t.join()
    assert tiles == [200] * len(tiles)
    assert 503 in results, "with one large slot and no queueing, a burst must be refused"
    assert 200 in results


def test_render_time_limit(server_factory, tmp_path):
    root = tmp_path / "slow"
    root.mkdir()
    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(0, 256, (4000, 4000, 3), dtype=np.uint8)).save(root / "n.png")
    s = server_factory(args=("--request-timeout", "1", "--cache", "false"), root_dir=str(root))
    r = s.get("/iiif/3/n.png/full/max/33/default.png", timeout=120)
    assert r.status == 503 and b"too long" in r.body
    assert r.header("Retry-After")
    assert s.get("/iiif/3/n.png/0,0,100,100/100,/0/default.png").status == 200


# --------------------------------------------------------------------------------------------
# broken and hostile sources
# --------------------------------------------------------------------------------------------
def test_corrupt_stored_tile_fails_only_that_request(server_factory, root, tmp_path):
    own = tmp_path / "corrupt"
    own.mkdir()
    path = own / "p.tif"
    shutil.copy(os.path.join(root, "src_pyramid.tif"), path)
    im = Image.open(path)
    offset, count = im.tag_v2[324][5], im.tag_v2[325][5]
    im.close()
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(b"\x00" * count)
    s = server_factory(args=("--cache", "false"), root_dir=str(own))
    across = -(-fx.PYR.width // 256)
    col, row = 5 % across, 5 // across
    bad = s.get(f"/iiif/3/p.tif/{col * 256},{row * 256},256,256/256,256/0/default.jpg")
    assert bad.status == 500 and bad.body
    good = s.get("/iiif/3/p.tif/0,0,256,256/256,256/0/default.jpg")
    assert good.status == 200 and good.image().size == (256, 256)
    assert "p.tif" in s.stderr_text()


def tiff_header(width, height, next_ifd_self=False):
    """A minimal little-endian TIFF: one strip of 8-bit grey, with the given claimed size."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1),
               (262, 3, 1, 1), (273, 4, 1, 8 + 2 + 12 * 9 + 4), (277, 3, 1, 1),
               (278, 4, 1, height), (279, 4, 1, 16)]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHI", tag, typ, count) + (struct.pack("<HH", value, 0) if typ == 3
                                                       else struct.pack("<I", value))
    ifd += struct.pack("<I", 8 if next_ifd_self else 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x80" * 16


@pytest.mark.parametrize("name,data", [
    ("huge.tif", tiff_header(2_000_000_000, 2_000_000_000)),
    ("wide.tif", tiff_header(4_000_000_000, 1)),
    ("loop.tif", tiff_header(64, 64, next_ifd_self=True)),
])
def test_hostile_tiff_headers(server_factory, tmp_path, name, data):
    own = tmp_path / "hostile"
    own.mkdir()
    (own / name).write_bytes(data)
    Image.fromarray(fx.SMALL.rgb()).save(own / "ok.png")
    s = server_factory(args=("--cache", "false"), root_dir=str(own))
    for path in (f"/iiif/3/{name}/info.json", f"/iiif/3/{name}/full/max/0/default.jpg",
                 f"/iiif/3/{name}/0,0,64,64/64,/0/default.jpg"):
        r = s.get(path, timeout=60)
        assert r.status in (200, 400, 500), (path, r.status)
        if r.status != 200:
            assert r.body
    assert s.get("/iiif/3/ok.png/full/100,/0/default.jpg").status == 200
    assert s.alive()


# --------------------------------------------------------------------------------------------
# background pyramids for large flat sources
# --------------------------------------------------------------------------------------------
def test_flat_source_gets_a_background_pyramid(server_factory, tmp_path):
    import time
    root, cache = tmp_path / "flat", tmp_path / "cache"
    root.mkdir()
    Image.fromarray(fx.PYR.rgb()).save(root / "flat.png")  # 2000x1500 squares of colour
    s = server_factory(args=("--cache-dir", str(cache), "--pyramid-threshold-mp", "1",
                             "--cache", "false"), root_dir=str(root))
    path = "/iiif/3/flat.png/512,512,512,512/256,/0/default.png"
    first = s.get(path)
    assert first.status == 200 and first.header("Server-Timing").startswith("render")
    assert 'desc="original"' in first.header("Server-Timing")
    pyramids = cache / "pyramids"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(pyramids.glob("*.tif")):
        time.sleep(0.2)
    built = list(pyramids.glob("*.tif"))
    assert len(built) == 1, "no pyramid appeared"
    assert not list(pyramids.glob("*.tmp*")), "the build must be renamed into place"
    assert fx.run(["vipsheader", "-f", "n-pages", str(built[0])]).stdout.strip() != "1"
    later = s.get(path)
    assert later.status == 200 and 'desc="pyramid"' in later.header("Server-Timing")
    a = fx.to_rgb_array(first.image()).astype(int)
    b = fx.to_rgb_array(later.image()).astype(int)
    assert a.shape == b.shape and np.abs(a - b).mean() < 3, "pyramid pixels must match"
    tile = s.get("/iiif/3/flat.png/0,0,256,256/256,256/0/default.jpg")
    assert tile.status == 200 and tile.header("Server-Timing") == "passthrough"
    # the identity of the image does not change when its pixels come from the pyramid
    assert first.header("ETag") == later.header("ETag")
