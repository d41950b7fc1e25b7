"""HTJ2K (JPEG 2000 Part 15) end to end, and classic JPEG 2000 on the same photographic picture.

The source is the bench generator's grain image (bench/genimage.c: multi-scale structure, hard
edges, per-pixel Gaussian grain), compiled and run here at an odd size (1531x1017), saved as an
uncompressed TIFF. From it:
  - `iiifd convert src.tif g.jph --tile 256` (the convert round trip: OpenJPH through iiifd's
    shim, JPH boxes written by iiifd);
  - g.j2c: the bare codestream of g.jph (what `.j2c` files are);
  - ht.jp2: g.jph with the file type brand 'jp2 ' (a JP2 whose code-blocks are HT);
  - classic.jp2: `vips jp2ksave` of the TIFF, 256x256 tiles, Q 95.

Pixels are compared with the libvips path: `vips jp2kload --page r` (libvips' own OpenJPEG
decode of the whole resolution level r) cropped to the region. iiifd decodes only the codestream
tiles under a region, at the resolution level it needs. Requests are made at exactly the level's
scale (so no resampling enters the comparison) for random regions and sizes over every level,
including regions ending on the right and bottom edges (edge tiles) and ones crossing tile
seams; PNG output. Tolerance: mean absolute error <= 1.5 per channel (MAE), and no pixel off by
more than MAX_DIFF, which catches a seam or an offset that a mean over a big region would hide.
"""

import io
import os
import random
import subprocess

import numpy as np
import pytest
from PIL import Image

import fixtures as fx

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
WIDTH, HEIGHT, TILE = 1531, 1017, 256
MAE = 1.5
MAX_DIFF = 8
NAMES = ["g.jph", "g.j2c", "ht.jp2", "classic.jp2"]


def run(*cmd):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True)


def jph_codestream(data):
    """The payload of the jp2c box of a JPH/JP2 file (boxes walked from the start)."""
    at = 0
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        head = 8
        if length == 1:
            length = int.from_bytes(data[at + 8:at + 16], "big")
            head = 16
        elif length == 0:
            length = len(data) - at
        if kind == b"jp2c":
            return at + head, data[at + head:at + length]
        at += length
    raise AssertionError("no jp2c box")


def tile_part_offsets(codestream):
    """(start, length) of each tile-part (SOT ... next SOT) of a codestream, in order."""
    out, at = [], codestream.index(b"\xff\x90")
    while codestream[at:at + 2] == b"\xff\x90":
        psot = int.from_bytes(codestream[at + 6:at + 10], "big")
        out.append((at, psot))
        at += psot
    return out


class Module:
    def __init__(self, binary, base):
        self.base = base
        self.root = os.path.join(base, "root")
        os.makedirs(self.root)
        gen = os.path.join(base, "genimage")
        flags = run("pkg-config", "--cflags", "--libs", "vips").stdout.split()
        run("cc", "-O2", "-o", gen, os.path.join(REPO, "bench", "genimage.c"), *flags)
        master = os.path.join(base, "master.v")
        run(gen, master, WIDTH, HEIGHT, 3)
        self.src = os.path.join(base, "src.tif")
        run("vips", "copy", master, self.src)
        jph = os.path.join(self.root, "g.jph")
        self.convert = run(binary, "convert", self.src, jph, "--tile", TILE, "--quality", 95,
                           "--quiet")
        data = open(jph, "rb").read()
        self.codestream_at, codestream = jph_codestream(data)
        open(os.path.join(self.root, "g.j2c"), "wb").write(codestream)
        assert data[16:24] == b"ftypjph " and data[28:32] == b"jph "
        open(os.path.join(self.root, "ht.jp2"), "wb").write(
            data[:20] + b"jp2 " + data[24:28] + b"jp2 " + data[32:])
        run("vips", "jp2ksave", self.src, os.path.join(self.root, "classic.jp2"),
            "--tile-width", TILE, "--tile-height", TILE, "--Q", 95)
        self.refs = {}
        self.server = fx.Server(binary, self.root, base, name="htj2k",
                                args=("--cache", "false")).start()

    def reference(self, name, level):
        """libvips' decode of resolution level `level` of name, as an RGB array."""
        key = (name, level)
        if key not in self.refs:
            png = os.path.join(self.base, f"ref-{name}-{level}.png")
            run("vips", "jp2kload", os.path.join(self.root, name), png, "--page", level)
            self.refs[key] = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
        return self.refs[key]


@pytest.fixture(scope="module")
def ht(iiifd_bin, tmp_path_factory):
    m = Module(iiifd_bin, str(tmp_path_factory.mktemp("htj2k")))
    yield m
    m.server.kill()


def get(server, path):
    return fx.request(server.port, path)


def rgb(body):
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), dtype=np.int16)


def png_region(server, name, level, x, y, w, h):
    """Region (level pixels x, y, w, h) of resolution level `level`, as iiifd renders it."""
    f = 1 << level
    fx_, fy = x * f, y * f
    fw = min(w * f, WIDTH - fx_)
    fh = min(h * f, HEIGHT - fy)
    r = get(server, f"/iiif/3/{name}/{fx_},{fy},{fw},{fh}/{w},{h}/0/default.png")
    assert r.status == 200, (name, level, x, y, w, h, r.status, r.body[:200])
    return rgb(r.body)


def level_size(level):
    f = 1 << level
    return -(-WIDTH // f), -(-HEIGHT // f)


def compare(got, ref, what):
    assert got.shape == ref.shape, (what, got.shape, ref.shape)
    diff = np.abs(got - ref)
    mae = diff.reshape(-1, 3).mean(axis=0)
    assert (mae <= MAE).all(), f"{what}: mean abs error per channel {mae}"
    assert diff.max() <= MAX_DIFF, f"{what}: a pixel differs by {diff.max()}"


def test_convert_round_trip_info(ht):
    """`iiifd convert x.tif y.jph` makes a tiled HTJ2K file with deep-zoom levels: info.json
    gives the size, the codestream tile, and scale factors down to one tile. The 256 tile is
    what the indexed OpenJPEG reader advertises (the libvips path would advertise the server's
    default tile-size, 512), so the HT files go through the indexed, region-decoding path."""
    assert "HTJ2K tiles" in ht.convert.stdout
    data = open(os.path.join(ht.root, "g.jph"), "rb").read()
    assert data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n"
    assert data[ht.codestream_at:ht.codestream_at + 2] == b"\xff\x4f"
    assert b"\xff\x50" in data[ht.codestream_at:ht.codestream_at + 200]   # CAP: Part 15
    for name in NAMES:
        r = get(ht.server, f"/iiif/3/{name}/info.json")
        assert r.status == 200, name
        info = r.json()
        assert (info["width"], info["height"]) == (WIDTH, HEIGHT)
        if name != "classic.jp2":
            # 1531 px: 1531 >> 3 = 191 fits one 256 tile, so 3 decompositions, 4 levels
            assert info["tiles"] == [{"width": TILE, "height": TILE,
                                      "scaleFactors": [1, 2, 4, 8]}], name
            assert sorted(s["width"] for s in info["sizes"]) == [192, 383, 766, 1531]


@pytest.mark.parametrize("name", NAMES)
def test_every_tile_decodes(ht, name):
    """Every tile of every level listed by info.json answers a JPEG."""
    info = get(ht.server, f"/iiif/3/{name}/info.json").json()
    tile = info["tiles"][0]
    count = 0
    for sf in tile["scaleFactors"]:
        step = tile["width"] * sf
        for y in range(0, HEIGHT, step):
            for x in range(0, WIDTH, step):
                w, h = min(step, WIDTH - x), min(step, HEIGHT - y)
                out = -(-w // sf)
                r = get(ht.server, f"/iiif/3/{name}/{x},{y},{w},{h}/{out},/0/default.jpg")
                assert r.status == 200 and r.body[:3] == b"\xff\xd8\xff", (name, x, y, sf)
                count += 1
    assert count == 6 * 4 + 3 * 2 + 2 * 1 + 1


@pytest.mark.parametrize("name", NAMES)
def test_random_regions_match_libvips(ht, name):
    """Random regions and sizes at every level, edge tiles and tile seams included, give the
    pixels libvips decodes for the same level within MAE 1.5 per channel."""
    rnd = random.Random(f"htj2k-{name}")
    for i in range(14):
        level = i % 4
        lw, lh = level_size(level)
        ref = ht.reference(name, level)
        assert ref.shape[:2] == (lh, lw)
        w = rnd.randint(1, min(lw, 300))
        h = rnd.randint(1, min(lh, 300))
        if i % 3 == 0:      # ends on the right and bottom edges: the edge tiles
            x, y = lw - w, lh - h
        elif i % 3 == 1:    # across a codestream tile seam (TILE >> level at this level)
            seam = TILE >> level
            x = max(0, min(lw - w, seam - w // 2))
            y = max(0, min(lh - h, seam - h // 2))
        else:
            x, y = rnd.randint(0, lw - w), rnd.randint(0, lh - h)
        # the full-resolution region must map onto exactly w x h level pixels
        f = 1 << level
        if ((x + w) * f > WIDTH and x + w != lw) or ((y + h) * f > HEIGHT and y + h != lh):
            w, h = lw - x, lh - y
        got = png_region(ht.server, name, level, x, y, w, h)
        compare(got, ref[y:y + h, x:x + w], f"{name} level {level} {x},{y},{w}x{h}")


@pytest.mark.parametrize("name", ["g.jph", "classic.jp2"])
def test_whole_levels_match_libvips(ht, name):
    """full/W, at each level's width (the sizes viewers ask for) equals libvips' level."""
    for level in range(4):
        lw, lh = level_size(level)
        r = get(ht.server, f"/iiif/3/{name}/full/{lw},{lh}/0/default.png")
        assert r.status == 200
        compare(rgb(r.body), ht.reference(name, level), f"{name} full level {level}")


def test_htj2k_close_to_source(ht):
    """The converted file holds the picture: level 0 against the TIFF it came from (quality 95:
    a lossy but close encoding of a grainy picture)."""
    src = np.asarray(Image.open(ht.src).convert("RGB"), dtype=np.int16)
    mae = np.abs(ht.reference("g.jph", 0) - src).reshape(-1, 3).mean(axis=0)
    assert (mae < 4).all(), mae


def damaged_tile_root(ht, tmp_path):
    """A root with bad.jph: g.jph with 0xFF over one tile's packet data."""
    root = tmp_path / "root"
    root.mkdir()
    data = bytearray(open(os.path.join(ht.root, "g.jph"), "rb").read())
    cs = ht.codestream_at
    parts = tile_part_offsets(bytes(data[cs:]))
    assert len(parts) == 6 * 4   # 1531x1017 in 256 tiles
    damaged = 7                  # row 1, column 1
    start, length = parts[damaged]
    sod = data.index(b"\xff\x93", cs + start)
    data[sod:cs + start + length] = b"\xff" * (cs + start + length - sod)
    (root / "bad.jph").write_bytes(bytes(data))
    return root


def test_corrupt_htj2k_tile_fails_alone(ht, tmp_path):
    """With htj2k-check off: that tile's request fails (500), the others and the server are
    fine."""
    root = damaged_tile_root(ht, tmp_path)
    s = fx.Server(ht.server.binary, str(root), str(tmp_path), name="bad",
                  args=("--cache", "false", "--htj2k-check", "false")).start()
    try:
        r = get(s, "/iiif/3/bad.jph/256,256,256,256/256,/0/default.jpg")
        assert r.status == 500, r.status
        for x, y in [(0, 0), (512, 256), (1280, 768)]:
            r = get(s, f"/iiif/3/bad.jph/{x},{y},251,249/251,/0/default.jpg")
            assert r.status == 200, (x, y, r.status)
        assert get(s, "/iiif/3/bad.jph/info.json").status == 200
        assert s.alive()
    finally:
        s.kill()


def test_corrupt_htj2k_tile_refuses_the_file(ht, tmp_path):
    """With htj2k-check on (the default): the file's check fails at that tile, and the whole
    file is refused (a decode of other tiles could reach code-blocks the check never decoded,
    docs/internals/jpeg2000.md); the server is fine."""
    root = damaged_tile_root(ht, tmp_path)
    s = fx.Server(ht.server.binary, str(root), str(tmp_path), name="badchecked",
                  args=("--cache", "false")).start()
    try:
        for x, y in [(256, 256), (0, 0), (1280, 768)]:
            r = get(s, f"/iiif/3/bad.jph/{x},{y},251,249/251,/0/default.jpg")
            while r.status == 503:  # being checked
                r = get(s, f"/iiif/3/bad.jph/{x},{y},251,249/251,/0/default.jpg")
            assert r.status == 500 and b"damaged" in r.body, (x, y, r.status)
        assert s.alive()
    finally:
        s.kill()


def test_convert_refuses_other_outputs(ht, tmp_path):
    r = subprocess.run([ht.server.binary, "convert", ht.src, str(tmp_path / "x.png")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and ".jph" in r.stderr
    assert not (tmp_path / "x.png").exists()


def test_convert_damaged_source_leaves_nothing(ht, tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(open(ht.src, "rb").read()[:200000])
    out = tmp_path / "out.jph"
    r = subprocess.run([ht.server.binary, "convert", str(bad), str(out), "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.tif"]


def test_tile_cache_off_gives_same_pixels(ht, tmp_path):
    """The module server decodes through the shared tile cache (the default); a server with
    --tile-cache-mb 0 decodes each request on its own. Same PNG pixels for regions over
    several tiles, every level, both kinds of file."""
    s = fx.Server(ht.server.binary, ht.root, str(tmp_path), name="nocache",
                  args=("--cache", "false", "--tile-cache-mb", "0")).start()
    try:
        for name in ["g.jph", "classic.jp2"]:
            for path in ["100,200,900,700/max", "0,0,1531,1017/383,", "1000,500,531,517/266,",
                         "full/200,"]:
                url = f"/iiif/3/{name}/{path}/0/default.png"
                a, b = get(ht.server, url), get(s, url)
                assert a.status == b.status == 200, url
                assert (rgb(a.body) == rgb(b.body)).all(), url
    finally:
        s.kill()


def test_replaced_file_never_serves_old_pixels(ht, tmp_path):
    """Decoded tiles are keyed on the file's identity: after a file is replaced (new inode,
    size and mtime), the same request gives the new picture."""
    root = tmp_path / "root"
    root.mkdir()
    src = np.asarray(Image.open(ht.src).convert("RGB"))
    inverted = tmp_path / "inverted.png"
    Image.fromarray(255 - src).save(inverted)
    target = root / "swap.jph"
    os.link(os.path.join(ht.root, "g.jph"), target)
    s = fx.Server(ht.server.binary, str(root), str(tmp_path), name="swap",
                  args=("--cache", "false")).start()
    try:
        url = "/iiif/3/swap.jph/300,300,600,400/max/0/default.png"
        before = rgb(get(s, url).body)
        run(ht.server.binary, "convert", inverted, tmp_path / "new.jph", "--tile", TILE,
            "--quality", 95, "--quiet")
        os.replace(tmp_path / "new.jph", target)
        r = get(s, url)
        assert r.status == 200
        after = rgb(r.body)
        # the inverted picture: each pixel near 255 minus the old one
        assert np.abs(after + before - 255).mean() < 4
    finally:
        s.kill()


@pytest.mark.parametrize("name", ["g.jph", "classic.jp2"])
def test_rotations_mirror_and_grey_match_libvips(ht, name):
    """Rotations by 90, 180 and 270 degrees and mirroring of a region that crosses tile seams
    equal the same transform of libvips' decode; gray equals libvips' own grey conversion of
    it (the colourspace libvips uses for the gray quality)."""
    x, y, w, h = 200, 150, 400, 300        # crosses the 256 seams in both directions
    ref = ht.reference(name, 0)[y:y + h, x:x + w]
    for rot, k in (("90", -1), ("180", 2), ("270", 1), ("!0", 0)):
        r = get(ht.server, f"/iiif/3/{name}/{x},{y},{w},{h}/max/{rot}/default.png")
        assert r.status == 200, rot
        want = ref[:, ::-1] if rot.startswith("!") else np.rot90(ref, k)
        compare(rgb(r.body), want, f"{name} rotation {rot}")
    r = get(ht.server, f"/iiif/3/{name}/{x},{y},{w},{h}/max/0/gray.png")
    assert r.status == 200
    grey = np.asarray(Image.open(io.BytesIO(r.body)).convert("L"), dtype=np.float64)
    # libvips' sRGB -> B_W: linear light weights 0.2126/0.7152/0.0722, back to sRGB gamma
    lin = (ref / 255.0)
    lin = np.where(lin <= 0.04045, lin / 12.92, ((lin + 0.055) / 1.055) ** 2.4)
    yl = lin @ np.array([0.2126, 0.7152, 0.0722])
    want = 255 * np.where(yl <= 0.0031308, 12.92 * yl, 1.055 * yl ** (1 / 2.4) - 0.055)
    assert np.abs(grey - want).mean() <= MAE, np.abs(grey - want).mean()
