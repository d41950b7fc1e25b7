"""What a tile costs when its image lies in a bucket (docs/scaling.md, "Object storage"): a
pyramidal TIFF, JPEG 2000s (without and with a TLM marker, one or several tile-parts per tile)
and an HTJ2K file written by `iiifd convert` (which adds a TLM marker) in s3rver, behind a counting proxy. The first tile of an image (its probe included: info.json),
a later tile of it, and the same tile again cost a few ranged GETs of a few blocks each, never a
whole-object GET, and far fewer bytes than the file holds. A JPEG 2000 with a TLM marker is
indexed from its main header; tiles of one with several tile-parts per tile have the pixels of
the same image in one tile-part per tile; a TLM that does not fit the codestream is not used.
"""

import io
import os

import numpy as np
import pytest
from PIL import Image

import fixtures as fx
import s3_fixtures as s3fx

W, H, TILE = 3072, 2048, 256  # 12 x 8 tiles
BLOCK = 64 * 1024


def _image(folder):
    """A smooth picture with some noise: tiles of realistic size, not all alike."""
    y, x = np.mgrid[0:H, 0:W]
    rgb = np.stack([x * 255 // W, y * 255 // H, (x + y) * 255 // (W + H)], axis=-1)
    rgb = rgb + np.random.default_rng(5).integers(0, 48, (H, W, 3))
    path = os.path.join(folder, "src.ppm")
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path)
    return path


def _make_files(folder, iiifd_bin):
    src = _image(folder)
    fx.run(["vips", "tiffsave", src, os.path.join(folder, "pyr.tif"), "--tile", "--pyramid",
            "--compression", "jpeg", "--Q", "85", "--tile-width", str(TILE), "--tile-height",
            str(TILE)])
    # iiifd's own HTJ2K: OpenJPH writes no TLM, `iiifd convert` adds one
    fx.run([iiifd_bin, "convert", os.path.join(folder, "pyr.tif"),
            os.path.join(folder, "conv.jph"), "--tile", str(TILE), "--quiet"])
    # a fixed quality (PSNR), not a rate: the same code-blocks whatever the markers around them
    for name, extra in (("plain.jp2", []), ("tlm.jp2", ["-TLM"]),
                        ("parts.jp2", ["-TLM", "-TP", "R"])):
        fx.run(["opj_compress", "-i", src, "-o", os.path.join(folder, name), "-t",
                f"{TILE},{TILE}", "-q", "30", *extra])
    _with_a_wrong_tlm(os.path.join(folder, "tlm.jp2"), os.path.join(folder, "wrongtlm.jp2"))
    return ["pyr.tif", "plain.jp2", "tlm.jp2", "parts.jp2", "wrongtlm.jp2", "conv.jph"]


def _with_a_wrong_tlm(src, dst):
    """A copy of src whose TLM gives the last tile-part one byte more than it has: the index
    must find the TLM wrong (no EOC where it says) and walk the tile-parts."""
    data = bytearray(open(src, "rb").read())
    at = data.index(b"\xff\x55", data.index(b"\xff\x4f\xff\x51"))  # TLM, after SOC SIZ
    ltlm, stlm = int.from_bytes(data[at + 2:at + 4], "big"), data[at + 5]
    st, psize = stlm >> 4 & 3, 4 if stlm >> 6 & 1 else 2
    last = at + 2 + ltlm - psize  # the last entry's Ptlm
    wrong = int.from_bytes(data[last:last + psize], "big") + 1
    data[last:last + psize] = wrong.to_bytes(psize, "big")
    assert st in (1, 2) and (ltlm - 4) % (st + psize) == 0, (st, psize, ltlm)
    with open(dst, "wb") as f:
        f.write(data)


@pytest.fixture(scope="module")
def bucket(iiifd_bin, tmp_path_factory):
    """The files in s3rver below img/, a counting proxy, and a server on s3://bkt/img."""
    base = str(tmp_path_factory.mktemp("s3ranges"))
    names = _make_files(base, iiifd_bin)
    store = s3fx.S3Server()
    proxy = s3fx.CountingProxy(store.port)
    server = None
    try:
        for name in names:
            store.put_file(f"img/{name}", os.path.join(base, name))
        warm = io.BytesIO()
        Image.new("RGB", (TILE, TILE), (9, 99, 199)).save(warm, format="PNG")
        store.put("img/warm.png", warm.getvalue())
        # the HTJ2K check reads a whole object once per version (test_ht_guard): off here,
        # where what is measured is what tiles cost
        server = fx.Server(iiifd_bin, "s3://bkt/img", base, name="ranges",
                           args=["--annotations", "false", "--discovery", "false",
                                 "--htj2k-check", "false",
                                 *s3fx.s3_args(proxy.endpoint, ttl=300)]).start()
        # the folder's access policy looked up (a HEAD and a listing, trusted for the TTL) by
        # a first tile of another image: what follows is the measured images' own cost
        assert server.get(f"/iiif/3/warm.png/{_tile(0, 0)}/0/default.jpg").status == 200
        sizes = {n: os.path.getsize(os.path.join(base, n)) for n in names}
        yield server, proxy, sizes
    finally:
        if server:
            assert server.stop() == 0, server.stderr_text()[-3000:]
            found, text = server.new_sanitizer_reports()
            assert not found, text[-3000:]
        proxy.stop()
        store.stop()


def _tile(col, row):
    """Region and size of the stored tile at col, row."""
    return f"{col * TILE},{row * TILE},{TILE},{TILE}/{TILE},"


def _cost(server, proxy, paths):
    """The storage requests and bytes of asking for paths, one after the other."""
    before, bytes_before = proxy.snapshot(), proxy.body_bytes
    for path in paths:
        r = server.get(path)
        assert r.status == 200, (path, r.status, r.body[:300])
    return proxy.since(before), proxy.bytes_since(bytes_before)


# cold: info.json and a first tile (nothing cached); warm: a tile in another part of the
# image; again: the same tile once more. At most (ranged GETs, blocks) of 64 KiB.
COLD_BOUND = {"pyr.tif": (6, 8), "tlm.jp2": (4, 4), "parts.jp2": (4, 4), "conv.jph": (4, 4)}
WARM_BOUND = (2, 2)


@pytest.mark.parametrize("name", ["pyr.tif", "plain.jp2", "tlm.jp2", "parts.jp2",
                                  "wrongtlm.jp2", "conv.jph"])
def test_a_tile_costs_a_few_ranged_gets(bucket, name):
    server, proxy, sizes = bucket
    first, later = (f"/iiif/3/{name}/{_tile(c, r)}/0/default.jpg" for c, r in ((5, 3), (10, 6)))
    cold = _cost(server, proxy, [f"/iiif/3/{name}/info.json", first])
    warm = _cost(server, proxy, [later])
    again = _cost(server, proxy, [later])
    print(f"{name} ({sizes[name]} bytes): cold {cold}, warm {warm}, again {again}")
    for what, (requests, _) in (("cold", cold), ("warm", warm), ("again", again)):
        assert set(requests) <= {"HEAD", "RANGE"}, (what, requests)  # never a whole object
    assert cold[0].get("HEAD", 0) == 1 and again == ({}, 0), (cold, again)
    if name in ("plain.jp2", "wrongtlm.jp2"):
        # no TLM marker (or a wrong one): the index walks every tile-part header; tile-parts
        # this small put one in every block, so it reads the codestream once, 1 MiB a GET
        # (into the block cache: its tiles then cost nothing)
        assert cold[1] <= sizes[name] + BLOCK and warm == ({}, 0), (cold, warm)
        assert cold[0]["RANGE"] <= sizes[name] // (1 << 20) + 4, cold
        return
    gets, blocks = COLD_BOUND[name]
    assert cold[0]["RANGE"] <= gets and cold[1] <= blocks * BLOCK, cold
    assert cold[1] < sizes[name] / 4, cold  # (a fixed few blocks: less of a larger file)
    assert warm[0].get("RANGE", 0) <= WARM_BOUND[0] and warm[1] <= WARM_BOUND[1] * BLOCK, warm


def _pixels(server, path):
    r = server.get(path)
    assert r.status == 200, (path, r.status, r.body[:300])
    return np.asarray(Image.open(io.BytesIO(r.body)).convert("RGB"))


@pytest.mark.parametrize("region", [_tile(0, 0), _tile(11, 7), "full/384,",
                                    "1000,700,900,600/300,", "2048,1024,1024,1024/128,"])
def test_tlm_and_tile_parts_give_the_same_pixels(bucket, region):
    """The three JPEG 2000s hold the same code-blocks (one tile-part per tile, or one per
    resolution), indexed by walking the tile-parts or from the TLM marker."""
    server = bucket[0]
    plain = _pixels(server, f"/iiif/3/plain.jp2/{region}/0/default.png")
    for name in ("tlm.jp2", "parts.jp2", "wrongtlm.jp2"):
        got = _pixels(server, f"/iiif/3/{name}/{region}/0/default.png")
        assert np.array_equal(got, plain), (name, region)
