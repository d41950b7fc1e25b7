"""End-to-end tests of the one-shot commands `iiifd convert` and `iiifd tiles`.

They run the built binary (IIIFD_BIN) on images generated here, inspect what it writes (TIFF
structure with PIL and vipsheader, the static tree, info.json) and compare tiles with what a
running `iiifd serve` answers for the same URLs.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402

GRID15 = fx.Grid(15, 10, 100, seed=11)  # 1500x1000, the size the tiles spec example uses
BASE = "https://cdn.example.org/iiif/grid15"

# Tiles rendered by the tool and by the server for the same URL go through the same code; they
# may still differ by JPEG rounding if the two ever decode at different levels.
TOL_SAME_URL = 8


def run(iiifd_bin, *args, timeout=300):
    p = subprocess.run([iiifd_bin, *[str(a) for a in args]], capture_output=True, text=True,
                       timeout=timeout)
    for marker in fx.SANITIZER_MARKERS:
        assert marker not in p.stderr, f"sanitizer report from {args}:\n{p.stderr[-4000:]}"
    return p


def load(path):
    img = Image.open(path)
    img.load()
    return img


def pixels(img):
    return np.asarray(img.convert("RGB")).astype(int)


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    """A folder with the 1500x1000 grid as PNG and JPEG, plus variants that need care."""
    d = tmp_path_factory.mktemp("tools-src")
    rgb = GRID15.rgb()
    Image.fromarray(rgb).save(d / "grid15.png")
    Image.fromarray(rgb).save(d / "grid15.jpg", quality=95)
    # stored lying on its side, displayed upright through EXIF orientation 6
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).transpose(Image.Transpose.ROTATE_90).save(
        d / "exif6.jpg", quality=95, exif=exif.tobytes())
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, 1000:] = 0
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(d / "alpha.png")
    with open(d / "grid15.jpg", "rb") as f:
        data = f.read()
    with open(d / "truncated.jpg", "wb") as f:
        f.write(data[: len(data) // 3])
    return d


@pytest.fixture(scope="module")
def served(iiifd_bin, src, tmp_path_factory):
    """`iiifd serve` over src with default settings (which the tiles command also uses)."""
    work = tmp_path_factory.mktemp("tools-server")
    s = fx.Server(iiifd_bin, str(src), str(work), name="tools").start()
    yield s
    s.kill()
    found, text = s.new_sanitizer_reports()
    assert not found, f"sanitizer report from the server:\n{text[-4000:]}"


# --------------------------------------------------------------------------------------------
# convert
# --------------------------------------------------------------------------------------------
def tiff_levels(path):
    """[(width, height)] of every page, with the tile size and compression of page 0."""
    img = Image.open(path)
    sizes = []
    for i in range(img.n_frames):
        img.seek(i)
        sizes.append(img.size)
    img.seek(0)
    return sizes, (img.tag_v2.get(322), img.tag_v2.get(323)), img.info.get("compression")


def assert_halving(sizes, tile):
    for (w0, h0), (w1, h1) in zip(sizes, sizes[1:]):
        assert w1 in (w0 // 2, (w0 + 1) // 2) and h1 in (h0 // 2, (h0 + 1) // 2), sizes
    assert sizes[-1][0] <= tile and sizes[-1][1] <= tile, f"top level larger than a tile: {sizes}"
    assert sizes[-2][0] > tile or sizes[-2][1] > tile, f"a level too many: {sizes}"


def vipsheader(path):
    out = fx.run(["vipsheader", "-a", str(path)]).stdout
    return dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)


def test_convert_png_to_pyramidal_jpeg_tiff(iiifd_bin, src, tmp_path):
    out = tmp_path / "grid15.tif"
    p = run(iiifd_bin, "convert", src / "grid15.png", out)
    assert p.returncode == 0, p.stderr
    assert str(out) in p.stdout
    sizes, tile, compression = tiff_levels(out)
    assert compression == "jpeg"
    assert tile == (512, 512), "default tile is the server's tile-size"
    assert sizes == [(1500, 1000), (750, 500), (375, 250)]
    assert_halving(sizes, 512)
    hdr = vipsheader(out)
    assert int(hdr["n-pages"]) == 3 and hdr["width"] == "1500" and hdr["height"] == "1000"
    with open(out, "rb") as f:
        assert f.read(4) == b"II*\x00", "small images stay classic TIFF"
    img = load(out)
    fx.assert_grid(img, GRID15, (0, 0, 1500, 1000), 1500, 1000, fx.TOL_LOSSY, min_checked=150)
    assert np.abs(pixels(img) - GRID15.rgb().astype(int)).mean() < 2
    assert os.listdir(tmp_path) == ["grid15.tif"], "no temporary file left"


def test_convert_jpeg_with_tile_and_quality(iiifd_bin, src, tmp_path):
    hi, lo = tmp_path / "hi.tiff", tmp_path / "lo.tif"
    assert run(iiifd_bin, "convert", src / "grid15.jpg", hi, "--tile", "256", "--quality=95"
               ).returncode == 0
    assert run(iiifd_bin, "convert", "--quality", "20", src / "grid15.jpg", lo).returncode == 0
    sizes, tile, compression = tiff_levels(hi)
    assert compression == "jpeg" and tile == (256, 256)
    assert len(sizes) == 4 and sizes[:3] == [(1500, 1000), (750, 500), (375, 250)]
    assert_halving(sizes, 256)
    assert os.path.getsize(lo) < os.path.getsize(hi) / 2, "--quality reaches the encoder"
    for level, (w, h) in enumerate(sizes):
        img = Image.open(hi)
        img.seek(level)
        fx.assert_grid(img.convert("RGB"), GRID15, (0, 0, 1500, 1000), w, h, fx.TOL_LOSSY)


def test_convert_tiled_jpeg2000_with_offsets(iiifd_bin, src, tmp_path):
    """A tiled JPEG 2000 whose image and tile grid start away from the origin (opj_compress -d,
    -T), which libvips 8.14's own loader misplaces, converts to the right pixels: iiifd reads
    it with its own decoder, tile by tile."""
    ppm = tmp_path / "grid15.ppm"
    Image.fromarray(GRID15.rgb()).save(ppm)
    jp2 = tmp_path / "offset.jp2"
    fx.run(["opj_compress", "-i", str(ppm), "-o", str(jp2), "-d", "37,21", "-T", "13,7",
            "-t", "200,200", "-n", "4"])
    out = tmp_path / "offset.tif"
    p = run(iiifd_bin, "convert", jp2, out)
    assert p.returncode == 0, p.stderr
    sizes, _tile, compression = tiff_levels(out)
    assert compression == "jpeg" and sizes[0] == (1500, 1000), sizes
    img = load(out)
    fx.assert_grid(img, GRID15, (0, 0, 1500, 1000), 1500, 1000, fx.TOL_LOSSY, min_checked=150)
    assert np.abs(pixels(img) - GRID15.rgb().astype(int)).mean() < 2


def test_convert_damaged_jpeg2000_fails_cleanly(iiifd_bin, src, tmp_path):
    """A tiled JPEG 2000 cut short: convert says so, exits non-zero and leaves no file."""
    ppm = tmp_path / "grid15.ppm"
    Image.fromarray(GRID15.rgb()).save(ppm)
    jp2 = tmp_path / "whole.jp2"
    fx.run(["opj_compress", "-i", str(ppm), "-o", str(jp2), "-t", "256,256"])
    data = jp2.read_bytes()
    cut = tmp_path / "cut.jp2"
    cut.write_bytes(data[: len(data) * 7 // 10])
    out = tmp_path / "cut.tif"
    p = run(iiifd_bin, "convert", cut, out)
    assert p.returncode != 0 and "cut.jp2" in p.stderr, (p.returncode, p.stderr)
    assert not out.exists()


def test_convert_large_image_becomes_bigtiff(iiifd_bin, tmp_path):
    """41000x41000 grey: the uncompressed pyramid (2.24 GB) passes the 2 GiB switch."""
    big = tmp_path / "black.jpg"
    fx.run(["vips", "black", str(big), "41000", "41000"])
    out = tmp_path / "black.tif"
    p = run(iiifd_bin, "convert", big, out, timeout=600)
    assert p.returncode == 0, p.stderr
    with open(out, "rb") as f:
        assert f.read(4) == b"II+\x00", "BigTIFF"
    hdr = vipsheader(out)
    assert hdr["width"] == "41000" and int(hdr["n-pages"]) == 8  # 41000 / 2^7 = 320 <= 512
    hdr = vipsheader(f"{out}[page=7]")
    assert (hdr["width"], hdr["height"]) == ("320", "320")


def test_convert_applies_exif_orientation(iiifd_bin, src, tmp_path):
    out = tmp_path / "exif6.tif"
    assert run(iiifd_bin, "convert", src / "exif6.jpg", out).returncode == 0
    img = load(out)
    assert img.size == (1500, 1000), "stored sideways, written upright"
    fx.assert_grid(img, GRID15, (0, 0, 1500, 1000), 1500, 1000, fx.TOL_LOSSY, min_checked=150)


def test_convert_flattens_alpha_onto_white(iiifd_bin, src, tmp_path):
    out = tmp_path / "alpha.tif"
    assert run(iiifd_bin, "convert", src / "alpha.png", out).returncode == 0
    img = load(out)
    assert img.mode == "RGB"
    a = pixels(img)
    assert np.abs(a[:, 1010:] - 255).max() <= fx.TOL_LOSSY, "transparent part is white"
    assert np.abs(a[:, :990] - GRID15.rgb()[:, :990]).mean() < 2


def test_converted_tiff_serves_its_pyramid(iiifd_bin, src, served):
    out = src / "converted.tif"
    assert run(iiifd_bin, "convert", src / "grid15.png", out).returncode == 0
    info = served.get("/iiif/3/converted.tif/info.json").json()
    assert info["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4]}]
    r = served.get("/iiif/3/converted.tif/512,0,512,512/512,512/0/default.jpg")
    assert r.status == 200
    fx.assert_grid(r.image(), GRID15, (512, 0, 512, 512), 512, 512, fx.TOL_LOSSY)


def test_convert_missing_input(iiifd_bin, tmp_path):
    missing = tmp_path / "nope.png"
    p = run(iiifd_bin, "convert", missing, tmp_path / "out.tif")
    assert p.returncode == 1
    assert str(missing) in p.stderr and "No such file" in p.stderr
    assert os.listdir(tmp_path) == []


def test_convert_not_an_image(iiifd_bin, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    p = run(iiifd_bin, "convert", text, tmp_path / "out.tif")
    assert p.returncode == 1 and str(text) in p.stderr
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


@pytest.mark.parametrize("args", [
    ["--bogus"], ["--tile", "300"], ["--tile", "abc"], ["--quality", "0"], ["--quality", "101"],
    ["--quality"], ["extra-argument"], ["-x"],
], ids=lambda a: " ".join(a))
def test_convert_usage_errors_exit_2(iiifd_bin, src, tmp_path, args):
    p = run(iiifd_bin, "convert", src / "grid15.png", tmp_path / "out.tif", *args)
    assert p.returncode == 2, p.stderr
    assert "iiifd convert" in p.stderr
    assert os.listdir(tmp_path) == []


def test_convert_usage_errors_names(iiifd_bin, src, tmp_path):
    assert run(iiifd_bin, "convert", src / "grid15.png").returncode == 2
    p = run(iiifd_bin, "convert", src / "grid15.png", tmp_path / "out.png")
    assert p.returncode == 2 and ".tif" in p.stderr
    p = run(iiifd_bin, "convert", "--help")
    assert p.returncode == 0 and "--tile" in p.stdout and "--quality" in p.stdout


def unwritable_folder(tmp_path):
    """A folder this process cannot create files in, even as root (where mode bits do not bind)."""
    if os.geteuid() == 0:
        return "/proc"
    d = tmp_path / "readonly"
    d.mkdir()
    d.chmod(0o555)
    return str(d)


@pytest.mark.parametrize("where", ["readonly", "missing", "file"])
def test_convert_unwritable_output(iiifd_bin, src, tmp_path, where):
    if where == "readonly":
        folder = unwritable_folder(tmp_path)
    elif where == "missing":
        folder = str(tmp_path / "no" / "such")
    else:
        (tmp_path / "plain").write_text("x")
        folder = str(tmp_path / "plain")
    out = os.path.join(folder, "grid15-tools-test.tif")
    p = run(iiifd_bin, "convert", src / "grid15.png", out)
    assert p.returncode == 1
    assert out in p.stderr, p.stderr
    if os.path.isdir(folder):
        assert not [n for n in os.listdir(folder) if n.startswith("grid15-tools-test")]


def test_convert_damaged_source_keeps_old_output(iiifd_bin, src, tmp_path):
    out = tmp_path / "out.tif"
    assert run(iiifd_bin, "convert", src / "grid15.png", out).returncode == 0
    before = out.read_bytes()
    p = run(iiifd_bin, "convert", src / "truncated.jpg", out)
    assert p.returncode == 1
    assert "truncated.jpg" in p.stderr
    assert out.read_bytes() == before, "a failed conversion leaves OUT as it was"
    assert os.listdir(tmp_path) == ["out.tif"], "no temporary file left"


# --------------------------------------------------------------------------------------------
# tiles
# --------------------------------------------------------------------------------------------
def viewer_tiles(info, version):
    """(region, size, width, height) of every tile request a viewer derives from info.json,
    computed here independently, as in the Image API 3.0 implementation notes."""
    width, height = info["width"], info["height"]
    out = []
    for t in info["tiles"]:
        tw, th = t["width"], t.get("height", t["width"])
        for s in t["scaleFactors"]:
            for y in range(0, height, th * s):
                for x in range(0, width, tw * s):
                    w, h = min(tw * s, width - x), min(th * s, height - y)
                    ws, hs = -(-w // s), -(-h // s)
                    size = f"{ws}," if version == 2 else f"{ws},{hs}"
                    out.append((f"{x},{y},{w},{h}", size, ws, hs))
    return out


def size_requests(info, version):
    return [("full", f"{s['width']}," if version == 2 else f"{s['width']},{s['height']}",
             s["width"], s["height"]) for s in info["sizes"]]


def make_tree(iiifd_bin, source, out, *args):
    p = run(iiifd_bin, "tiles", source, out, *args)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(out, "info.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def tree3(iiifd_bin, src, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("tree3") / "grid15")
    return out, make_tree(iiifd_bin, src / "grid15.png", out, "--id", BASE + "/")


@pytest.fixture(scope="module")
def tree2(iiifd_bin, src, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("tree2") / "grid15")
    return out, make_tree(iiifd_bin, src / "grid15.png", out, "--id", BASE, "--version", "2")


def test_tiles_info_json_v3(tree3):
    _, info = tree3
    assert info["@context"] == fx.V3_CONTEXT
    assert info["id"] == BASE, "trailing slash dropped"
    assert info["type"] == "ImageService3" and info["protocol"] == "http://iiif.io/api/image"
    assert info["profile"] == "level0"
    assert (info["width"], info["height"]) == (1500, 1000)
    assert info["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4]}]
    assert [(s["width"], s["height"]) for s in info["sizes"]] == [
        (375, 250), (750, 500), (1500, 1000)]
    for key in ("extraFeatures", "extraFormats", "extraQualities"):
        assert key not in info


def test_tiles_info_json_matches_server_geometry(tree3, served):
    _, info = tree3
    live = served.get("/iiif/3/grid15.png/info.json").json()
    for key in ("width", "height", "tiles", "sizes"):
        assert info[key] == live[key], key


def test_tiles_info_json_v2(tree2):
    _, info = tree2
    assert info["@context"] == fx.V2_CONTEXT and info["@id"] == BASE
    assert info["profile"][0] == "http://iiif.io/api/image/2/level0.json"
    assert "supports" not in info["profile"][1]
    assert info["profile"][1]["formats"] == ["jpg"]
    assert info["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4]}]


@pytest.mark.parametrize("version", [3, 2])
def test_tiles_every_advertised_url_is_a_file(tree3, tree2, version):
    out, info = tree3 if version == 3 else tree2
    requests = viewer_tiles(info, version) + size_requests(info, version)
    assert len(requests) == 6 + 2 + 1 + 3
    for region, size, w, h in requests:
        path = os.path.join(out, region, size, "0", "default.jpg")
        assert os.path.isfile(path), f"missing {region}/{size}/0/default.jpg"
        img = load(path)
        assert img.format == "JPEG"
        if version == 3:
            assert img.size == (w, h), f"{region}/{size}: {img.size}"
        else:
            assert img.size[0] == w and abs(img.size[1] - h) <= 1, f"{region}/{size}: {img.size}"
    full = os.path.join(out, "full", "max" if version == 3 else "full", "0", "default.jpg")
    assert load(full).size == (1500, 1000), "level 0 requires full/max (2.1: full/full)"


def test_tiles_pixels_are_right(tree3):
    out, info = tree3
    for region, size, w, h in viewer_tiles(info, 3) + size_requests(info, 3):
        img = load(os.path.join(out, region, size, "0", "default.jpg"))
        if region == "full":
            box = (0, 0, 1500, 1000)
        else:
            box = tuple(int(v) for v in region.split(","))
        fx.assert_grid(img, GRID15, box, w, h, fx.TOL_LOSSY)


@pytest.mark.parametrize("version", [3, 2])
def test_tiles_match_server_responses(tree3, tree2, served, version):
    out, info = tree3 if version == 3 else tree2
    prefix = f"{served.base}/iiif/{version}/grid15.png/"
    for region, size, _, _ in viewer_tiles(info, version) + size_requests(info, version):
        url = f"{region}/{size}/0/default.jpg"
        r = served.get(f"/iiif/{version}/grid15.png/{url}")
        assert r.status == 200, url
        mine = load(os.path.join(out, url))
        theirs = r.image()
        assert mine.size == theirs.size, url
        diff = np.abs(pixels(mine) - pixels(theirs))
        assert diff.max() <= TOL_SAME_URL and diff.mean() < 1, (url, diff.max(), diff.mean())
        # a client that follows the canonical URI the server names finds the same file
        canonical = fx.link_for(r, "canonical")
        assert canonical and canonical[0].startswith(prefix), r.headers
        rel = canonical[0][len(prefix):]
        assert os.path.samefile(os.path.join(out, rel), os.path.join(out, url)), rel


def test_tiles_from_converted_tiff(iiifd_bin, src, served, tmp_path):
    tif = src / "conv256.tif"
    assert run(iiifd_bin, "convert", src / "grid15.png", tif, "--tile", "256").returncode == 0
    out = str(tmp_path / "tree")
    info = make_tree(iiifd_bin, tif, out, "--id", BASE)
    assert info["tiles"] == [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8]}], \
        "a tiled source advertises its own tiles, as the server does"
    for region, size, w, h in viewer_tiles(info, 3):
        url = f"{region}/{size}/0/default.jpg"
        mine = load(os.path.join(out, url))
        assert mine.size == (w, h)
        # stored JPEG tiles are copied as they are, others are encoded a second time
        box = tuple(int(v) for v in region.split(","))
        fx.assert_grid(mine, GRID15, box, w, h, fx.TOL_COARSE)
        r = served.get(f"/iiif/3/conv256.tif/{url}")
        assert r.status == 200 and r.image().size == (w, h), url
        assert np.abs(pixels(mine) - pixels(r.image())).max() <= TOL_SAME_URL, url
    forced = str(tmp_path / "forced")
    info = make_tree(iiifd_bin, tif, forced, "--id", BASE, "--tile-size", "512")
    assert info["tiles"][0]["width"] == 512, "--tile-size wins over stored tiles"


def test_tiles_quality_and_tile_size(iiifd_bin, src, tmp_path):
    def total(d):
        return sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(d) for f in fs)
    low, high = str(tmp_path / "low"), str(tmp_path / "high")
    info = make_tree(iiifd_bin, src / "grid15.jpg", low, "--id", BASE, "--quality", "10",
                     "--tile-size=256")
    make_tree(iiifd_bin, src / "grid15.jpg", high, "--id", BASE, "--quality", "95",
              "--tile-size", "256")
    assert info["tiles"][0]["width"] == 256
    assert total(low) < total(high) / 2
    for region, size, w, h in viewer_tiles(info, 3):
        assert load(os.path.join(low, region, size, "0", "default.jpg")).size == (w, h)


def test_tiles_exif_source_is_upright(iiifd_bin, src, tmp_path):
    out = str(tmp_path / "tree")
    info = make_tree(iiifd_bin, src / "exif6.jpg", out, "--id", BASE)
    assert (info["width"], info["height"]) == (1500, 1000)
    img = load(os.path.join(out, "512,512,512,488", "512,488", "0", "default.jpg"))
    fx.assert_grid(img, GRID15, (512, 512, 512, 488), 512, 488, fx.TOL_LOSSY)


def test_tiles_into_existing_empty_folder(iiifd_bin, src, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    make_tree(iiifd_bin, src / "grid15.png", str(out), "--id", BASE)
    assert (out / "info.json").is_file()
    assert sorted(os.listdir(tmp_path)) == ["empty"], "no temporary folder left"


def test_tiles_refuses_non_empty_folder(iiifd_bin, src, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    p = run(iiifd_bin, "tiles", src / "grid15.png", out, "--id", BASE)
    assert p.returncode == 1 and str(out) in p.stderr and "not empty" in p.stderr
    assert os.listdir(out) == ["keep.txt"]
    assert sorted(os.listdir(tmp_path)) == ["busy"]


def test_tiles_missing_or_damaged_input(iiifd_bin, src, tmp_path):
    missing = tmp_path / "nope.jpg"
    p = run(iiifd_bin, "tiles", missing, tmp_path / "t1", "--id", BASE)
    assert p.returncode == 1 and str(missing) in p.stderr
    p = run(iiifd_bin, "tiles", src / "truncated.jpg", tmp_path / "t2", "--id", BASE)
    assert p.returncode == 1 and "truncated.jpg" in p.stderr
    assert os.listdir(tmp_path) == [], "nothing left behind"


def test_tiles_unwritable_output(iiifd_bin, src, tmp_path):
    folder = unwritable_folder(tmp_path)
    out = os.path.join(folder, "grid15-tools-tree")
    p = run(iiifd_bin, "tiles", src / "grid15.png", out, "--id", BASE)
    assert p.returncode == 1 and out in p.stderr, p.stderr
    assert not [n for n in os.listdir(folder) if n.startswith("grid15-tools-tree")]


@pytest.mark.parametrize("args", [
    [], ["--id"], ["--id", ""], ["--id", BASE, "--version", "4"], ["--id", BASE, "--bogus", "1"],
    ["--id", BASE, "--tile-size", "10"], ["--id", BASE, "--quality", "0"],
    ["--id", BASE, "surplus"],
], ids=lambda a: " ".join(a) or "no-id")
def test_tiles_usage_errors_exit_2(iiifd_bin, src, tmp_path, args):
    p = run(iiifd_bin, "tiles", src / "grid15.png", tmp_path / "t", *args)
    assert p.returncode == 2, p.stderr
    assert "iiifd tiles" in p.stderr
    assert os.listdir(tmp_path) == []


def test_help_lists_the_tools(iiifd_bin):
    p = run(iiifd_bin, "--help")
    assert "iiifd convert" in p.stdout and "iiifd tiles" in p.stdout
    p = run(iiifd_bin, "tiles", "--help")
    assert p.returncode == 0 and "--id" in p.stdout and "--version" in p.stdout


def test_tiles_refuses_what_an_access_policy_protects(iiifd_bin, tmp_path):
    """A static tree is public to anyone who finds it: an image under a protecting access.yml
    (here or above) is refused, nothing written, unless --include-protected; a public policy
    changes nothing."""
    lib = tmp_path / "lib"
    (lib / "rare" / "vol1").mkdir(parents=True)
    (lib / "open").mkdir()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(lib / "rare" / "vol1" / "p.png")
    Image.new("RGB", (300, 200), (10, 20, 30)).save(lib / "open" / "p.png")
    (lib / "rare" / "access.yml").write_text("policy: login\n")
    (lib / "open" / "access.yml").write_text("policy: public\n")
    out = tmp_path / "out"
    p = run(iiifd_bin, "tiles", lib / "rare" / "vol1" / "p.png", out, "--id", BASE)
    assert p.returncode == 1 and "access.yml protects" in p.stderr, p.stderr
    assert not out.exists(), "nothing is written"
    info = make_tree(iiifd_bin, lib / "rare" / "vol1" / "p.png", str(out), "--id", BASE,
                     "--include-protected")
    assert info["width"] == 300
    info = make_tree(iiifd_bin, lib / "open" / "p.png", str(tmp_path / "o2"), "--id", BASE)
    assert info["width"] == 300
