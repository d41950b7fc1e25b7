"""Images served from object storage: `iiifd serve s3://bkt/img` against s3rver (s3_fixtures.py),
with a counting proxy between them. The same files are served from a local folder by a second
server, and every answer must have the same pixels. Also: unknown ids and path tricks are 404,
a stored tile costs at most two ranged GETs once its file's directory is read, a replaced object
serves its new pixels (after storage-ttl, or at once when a read finds it changed), and a plain
HTTP origin root serves the same files.
"""

import io
import json
import os
import re
import subprocess
import time

import numpy as np
import pytest
from PIL import Image

import fixtures as fx
import s3_fixtures as s3fx

FILES = ("pyr.tif", "flat.jpg", "tiled.jp2", "grid.png", "sub/inner.jpg", "noise.tif",
         "noise.jp2", "htj2k.jph")


def _vips(*args):
    fx.run(["vips", *[str(a) for a in args]])


def _make_files(folder, iiifd_bin):
    os.makedirs(os.path.join(folder, "sub"), exist_ok=True)
    pyr = fx.PYR.rgb()
    png = os.path.join(folder, "grid.png")
    Image.fromarray(pyr).save(png)
    _vips("tiffsave", png, os.path.join(folder, "pyr.tif"), "--tile", "--pyramid",
          "--compression", "jpeg", "--Q", 90, "--tile-width", 256, "--tile-height", 256)
    _vips("jp2ksave", png, os.path.join(folder, "tiled.jp2"), "--tile-width", 256,
          "--tile-height", 256, "--Q", 90)
    Image.fromarray(pyr).save(os.path.join(folder, "flat.jpg"), quality=90)
    Image.fromarray(fx.SMALL.rgb()).save(os.path.join(folder, "sub", "inner.jpg"), quality=90)
    # detail everywhere, so that tiles are large and few share a 64 KiB block
    noise = np.random.default_rng(7).integers(0, 256, (1500, 2000, 3), dtype=np.uint8)
    Image.fromarray(noise).save(os.path.join(folder, "noise.png"))
    _vips("tiffsave", os.path.join(folder, "noise.png"), os.path.join(folder, "noise.tif"),
          "--tile", "--pyramid", "--compression", "jpeg", "--Q", 85, "--tile-width", 256,
          "--tile-height", 256)
    # opj_compress: a JP2 the indexed decoder takes (libvips' own are left to libvips)
    Image.fromarray(noise).save(os.path.join(folder, "noise.ppm"))
    fx.run(["opj_compress", "-i", os.path.join(folder, "noise.ppm"), "-o",
            os.path.join(folder, "noise.jp2"), "-t", "256,256", "-r", "20"])
    fx.run([iiifd_bin, "convert", png, os.path.join(folder, "htj2k.jph"), "--tile", "256",
            "--quiet"])  # HTJ2K, decoded by the indexed OpenJPEG path


def _pyramid_of(colour, path):
    """A 2000x1500 pyramidal JPEG TIFF of noise around one colour (for the replaced-object
    tests): large tiles, so that a tile read later is not in a block read before."""
    png = path + ".png"
    rng = np.random.default_rng(sum(colour))
    noise = rng.integers(-30, 31, (1500, 2000, 3)) + np.array(colour)
    Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8)).save(png)
    _vips("tiffsave", png, path, "--tile", "--pyramid", "--compression", "jpeg", "--Q", 90,
          "--tile-width", 256, "--tile-height", 256)
    os.unlink(png)


@pytest.fixture(scope="module")
def world(iiifd_bin, tmp_path_factory):
    """s3rver with the files below img/, a counting proxy, a local copy, and one server each."""
    base = tmp_path_factory.mktemp("s3root")
    local = os.path.join(base, "local")
    _make_files(local, iiifd_bin)
    store = s3fx.S3Server()
    proxy = s3fx.CountingProxy(store.port)
    servers = []
    try:
        for name in FILES:
            store.put_file(f"img/{name}", os.path.join(local, name))
        store.put("img/.hidden.jpg", open(os.path.join(local, "flat.jpg"), "rb").read())
        store.put("secret/outside.jpg", open(os.path.join(local, "flat.jpg"), "rb").read())

        def start(root, args=(), name="s3"):
            s = fx.Server(iiifd_bin, root, str(base), args=["--annotations", "false",
                                                            "--discovery", "false", *args],
                          name=name).start()
            servers.append(s)
            return s

        yield {"store": store, "proxy": proxy, "local_dir": local, "base": str(base),
               "start": start,
               "remote": start("s3://bkt/img", s3fx.s3_args(proxy.endpoint, ttl=300)),
               "local": start(local, name="local")}
    finally:
        problems = []
        for s in servers:
            if not s.stopped_on_purpose and not s.alive():
                problems.append(f"{s.command()} died:\n{s.stderr_text()[-3000:]}")
            s.stop()  # SIGTERM: a clean exit, so that LeakSanitizer reports what leaked
            found, text = s.new_sanitizer_reports()
            if found:
                problems.append(f"sanitizer report from {s.command()}:\n{text[-4000:]}")
        proxy.stop()
        store.stop()
        assert not problems, "\n\n".join(problems)


def _pixels(resp):
    assert resp.status == 200, (resp.status, resp.body[:300])
    return np.asarray(Image.open(io.BytesIO(resp.body)).convert("RGB"))


def _info(server, ident):
    r = server.get(f"/iiif/3/{ident}/info.json")
    assert r.status == 200, (ident, r.status, r.body[:300])
    info = json.loads(r.body)
    info.pop("id")
    return info


@pytest.mark.parametrize("ident", ["pyr.tif", "flat.jpg", "tiled.jp2", "grid.png",
                                   "sub%2Finner.jpg"])
def test_info_json_same_as_from_a_folder(world, ident):
    remote = _info(world["remote"], ident)
    assert remote == _info(world["local"], ident)
    assert remote["width"] == fx.PYR.width if ident != "sub%2Finner.jpg" else fx.SMALL.width


URLS = [
    "pyr.tif/0,0,256,256/256,/0/default.jpg",           # a stored tile
    "pyr.tif/512,256,512,512/256,/0/default.jpg",       # a stored tile of a reduced level
    "pyr.tif/1792,1280,208,220/208,/0/default.jpg",     # an edge tile
    "pyr.tif/full/500,/0/default.jpg",                  # a render (direct TIFF path)
    "pyr.tif/100,200,900,700/300,/90/default.png",      # a render through libvips
    "flat.jpg/full/400,/0/default.jpg",
    "flat.jpg/300,300,512,512/256,/0/gray.png",
    "tiled.jp2/0,0,512,512/256,/0/default.jpg",         # the indexed JPEG 2000 decoder
    "tiled.jp2/full/250,/0/default.png",
    "grid.png/0,0,1024,1024/512,/0/default.jpg",
    "noise.tif/1024,512,256,256/256,/0/default.jpg",
    "noise.jp2/512,512,512,512/256,/0/default.png",
    "htj2k.jph/768,512,512,512/512,/0/default.jpg",
    "htj2k.jph/full/300,/0/default.png",
    "sub%2Finner.jpg/full/max/0/default.jpg",
]


@pytest.mark.parametrize("url", URLS)
def test_pixels_same_as_from_a_folder(world, url):
    remote = world["remote"].get(f"/iiif/3/{url}")
    local = world["local"].get(f"/iiif/3/{url}")
    assert remote.header("Content-Type") == local.header("Content-Type")
    a, b = _pixels(remote), _pixels(local)
    assert a.shape == b.shape and np.array_equal(a, b), url


def test_unknown_ids_and_path_tricks_are_404(world):
    s = world["remote"]
    for ident in ("nope.tif", "sub%2Fnope.jpg", "..%2Fsecret%2Foutside.jpg",
                  "sub%2F..%2Fpyr.tif", "%2E%2E%2Fsecret%2Foutside.jpg", ".hidden.jpg",
                  "sub", "%2Fimg%2Fpyr.tif", "pyr.tif%00", "sub%2F%2Finner.jpg",
                  "sub%5C..%5Cpyr.tif"):
        r = s.get(f"/iiif/3/{ident}/info.json")
        assert r.status in (400, 404), (ident, r.status, r.body[:200])
        assert r.status == 404 or "%00" in ident, (ident, r.status)
    r = s.get("/iiif/3/pyr/info.json")  # the single pyr.* sibling, found by listing img/
    assert r.status == 200 and json.loads(r.body)["width"] == fx.PYR.width


def test_a_stored_tile_costs_at_most_two_ranged_gets(world):
    s, proxy = world["remote"], world["proxy"]
    assert s.get("/iiif/3/noise.tif/info.json").status == 200  # probed: directories are read
    costs = []
    for col, row in ((3, 2), (5, 4), (6, 1), (1, 3), (4, 0)):  # inside: no edge tiles
        before = proxy.snapshot()
        r = s.get(f"/iiif/3/noise.tif/{col * 256},{row * 256},256,256/256,/0/default.jpg")
        assert r.status == 200 and r.header("Server-Timing") == "passthrough", (
            r.header("Server-Timing"), s.stderr_text()[-2000:])
        costs.append(proxy.since(before))
    for cost in costs:
        assert set(cost) <= {"RANGE"}, costs  # no HEAD, no whole-object GET, no listing
        assert cost.get("RANGE", 0) <= 2, costs
    assert sum(c.get("RANGE", 0) for c in costs) >= 3, costs  # (neighbours may share a block)
    before = proxy.snapshot()  # the same tile again: from the block cache
    assert s.get("/iiif/3/noise.tif/768,512,256,256/256,/0/default.jpg").status == 200
    assert proxy.since(before) == {}


def test_the_jp2_tile_index_is_read_once(world):
    s, proxy = world["remote"], world["proxy"]
    assert s.get("/iiif/3/noise.jp2/info.json").status == 200
    for col, row in ((3, 2), (5, 4)):
        before = proxy.snapshot()
        r = s.get(f"/iiif/3/noise.jp2/{col * 256},{row * 256},256,256/256,/0/default.jpg")
        assert r.status == 200
        cost = proxy.since(before)
        assert set(cost) <= {"RANGE"} and cost.get("RANGE", 0) <= 2, cost


def _mean_colour(resp):
    return _pixels(resp).reshape(-1, 3).mean(axis=0)


def test_a_replaced_object_serves_new_pixels_after_the_ttl(world):
    store, base = world["store"], world["base"]
    red, blue = os.path.join(base, "red.tif"), os.path.join(base, "blue.tif")
    _pyramid_of((220, 20, 20), red)
    _pyramid_of((20, 20, 220), blue)
    store.put_file("img/swap.tif", red)
    s = world["start"]("s3://bkt/img", s3fx.s3_args(world["proxy"].endpoint, ttl=1),
                       name="ttl1")
    tile = "/iiif/3/swap.tif/0,0,256,256/256,/0/default.jpg"
    first = s.get(tile)
    assert _mean_colour(first)[0] > 200
    store.put_file("img/swap.tif", blue)
    time.sleep(1.3)
    second = s.get(tile)
    assert _mean_colour(second)[2] > 200, _mean_colour(second)
    assert first.header("ETag") != second.header("ETag")
    render = s.get("/iiif/3/swap.tif/full/300,/0/default.png")
    assert _mean_colour(render)[2] > 200


def test_a_read_that_finds_its_object_replaced_starts_again(world):
    """storage-ttl 300: the stat is trusted, but a ranged GET carries If-Match with the ETag it
    was probed with; the storage refuses it, and the request is answered from the new version."""
    store, base, s = world["store"], world["base"], world["remote"]
    green, grey = os.path.join(base, "green.tif"), os.path.join(base, "grey.tif")
    _pyramid_of((20, 200, 20), green)
    _pyramid_of((128, 128, 128), grey)
    store.put_file("img/changing.tif", green)
    assert s.get("/iiif/3/changing.tif/info.json").status == 200  # probed: green's ETag
    store.put_file("img/changing.tif", grey)
    r = s.get("/iiif/3/changing.tif/1024,768,256,256/256,/0/default.jpg")  # never read before
    colour = _mean_colour(r)
    assert abs(colour[0] - 128) < 12 and abs(colour[1] - 128) < 12, colour
    assert "changed" in s.stderr_text()


def test_metrics_count_the_storage_requests(world):
    s, proxy = world["remote"], world["proxy"]
    text = s.get("/metrics").body.decode()
    assert "# TYPE iiifd_storage_requests_total counter" in text
    got = dict(re.findall(r'^(iiifd_storage_\w+\{[^}]*\}) (\d+)$', text, re.M))
    root = 'root="s3://bkt/img"'
    requests = int(got[f"iiifd_storage_requests_total{{{root}}}"])
    # the proxy also saw the other servers' requests and the fixtures' PUTs
    assert 0 < requests <= sum(proxy.snapshot().values())
    assert int(got[f'iiifd_storage_blocks_total{{{root},result="hit"}}']) > 0
    assert int(got[f'iiifd_storage_blocks_total{{{root},result="fetched"}}']) > 0
    assert "iiifd_storage_" not in world["local"].get("/metrics").body.decode()


def test_a_plain_http_origin_root(world):
    """http(s)://host/path: read by range, unsigned, not listable (so no extension inference)."""
    origin = f"http://127.0.0.1:{world['store'].port}/bkt/img"
    s = world["start"](origin, ["--storage-ttl", "60"], name="origin")
    assert _info(s, "pyr.tif") == _info(world["local"], "pyr.tif")
    for url in ("pyr.tif/0,0,256,256/256,/0/default.jpg", "flat.jpg/full/400,/0/default.jpg"):
        assert np.array_equal(_pixels(s.get(f"/iiif/3/{url}")),
                              _pixels(world["local"].get(f"/iiif/3/{url}")))
    assert s.get("/iiif/3/pyr/info.json").status == 404
    assert s.get("/iiif/3/..%2Fsecret%2Foutside.jpg/info.json").status == 404


def test_storage_down_is_a_502_not_a_404(world, iiifd_bin):
    port = fx.free_port()  # nothing listens there
    s = world["start"]("s3://bkt/img", s3fx.s3_args(f"http://127.0.0.1:{port}"), name="down")
    r = s.get("/iiif/3/pyr.tif/info.json")
    assert r.status == 502, (r.status, r.body[:300])


def test_bad_roots_are_refused_at_start(iiifd_bin, tmp_path):
    for root, why in (("s3://B/x", "bucket name"), ("s3://bkt/a/../b", "'..'"),
                      ("http://user@host/x", "origin")):
        p = subprocess.run([iiifd_bin, "serve", "--port", str(fx.free_port()), "--cache-dir",
                            str(tmp_path / "c"), "--data-dir", str(tmp_path / "d"),
                            "--s3-access-key", "k", "--s3-secret-key", "s", root],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0 and why in p.stderr, (root, p.returncode, p.stderr[-500:])
