"""Pixel accuracy on the 10x10 grid of 100px squares (grid.png and its JPEG-Q95 copies).

Every case gives the region in source pixels it resolves to and the exact output size; the
expected square at each output pixel is computed independently (fixtures.expected_labels) and
the centre of every square that is at least 8px wide in the output is compared per channel.
Tolerances: fixtures.TOL_* (png/tif 5; jpg/webp TOL_LOSSY; JPEG-Q95 sources TOL_JPEG_SOURCE).
"""

import numpy as np
import pytest

import fixtures as fx

G = fx.GRID

# (region param, size param, resolved region (x,y,w,h), output w, output h)
CASES = [
    ("full", "max", (0, 0, 1000, 1000), 1000, 1000),
    ("full", "pct:50", (0, 0, 1000, 1000), 500, 500),
    ("full", "400,", (0, 0, 1000, 1000), 400, 400),
    ("full", ",250", (0, 0, 1000, 1000), 250, 250),
    ("full", "600,300", (0, 0, 1000, 1000), 600, 300),
    ("full", "!400,300", (0, 0, 1000, 1000), 300, 300),
    ("square", "max", (0, 0, 1000, 1000), 1000, 1000),
    ("0,0,1000,1000", "500,500", (0, 0, 1000, 1000), 500, 500),
    ("200,300,400,300", "max", (200, 300, 400, 300), 400, 300),
    ("200,300,400,300", "200,", (200, 300, 400, 300), 200, 150),
    ("200,300,400,300", "^800,", (200, 300, 400, 300), 800, 600),
    ("100,100,200,200", "^pct:150", (100, 100, 200, 200), 300, 300),
    ("700,0,300,1000", "max", (700, 0, 300, 1000), 300, 1000),
    ("800,800,400,400", "max", (800, 800, 200, 200), 200, 200),
    ("250,250,500,500", "max", (250, 250, 500, 500), 500, 500),
    ("0,0,100,1000", "50,500", (0, 0, 100, 1000), 50, 500),
    ("pct:20,30,40,30", "max", (200, 300, 400, 300), 400, 300),
    ("pct:0,0,50,50", "pct:50", (0, 0, 500, 500), 250, 250),
    ("pct:50,50,50,50", "max", (500, 500, 500, 500), 500, 500),
    ("pct:10,10,80,80", "!400,400", (100, 100, 800, 800), 400, 400),
    ("pct:12.5,37.5,25,25", "max", (125, 375, 250, 250), 250, 250),
]

ROTATIONS = ["90", "180", "270", "!0", "!90", "!180", "!270"]
ROT_CASES = [CASES[1], CASES[8], ("pct:10,20,30,40", "150,", (100, 200, 300, 400), 150, 200)]


def parse_rot(rot):
    mirror = rot.startswith("!")
    k = int(float(rot.lstrip("!"))) // 90
    return mirror, k


def fetch(server, path):
    r = server.get(path)
    assert r.status == 200, (path, r.status, r.body[:300])
    return r.image()


def check(server, version, ident, case, rot, fmt, tol, grid=G):
    region, size, resolved, w, h = case
    mirror, k = parse_rot(rot)
    im = fetch(server, f"/iiif/{version}/{ident}/{region}/{size}/{rot}/default.{fmt}")
    ow, oh = (h, w) if k % 2 else (w, h)
    assert im.size == (ow, oh), f"size {im.size}, expected {(ow, oh)}"
    fx.assert_grid(im, grid, resolved, w, h, tol, mirror=mirror, rot90=k, min_checked=1)


def _id(case):
    return f"{case[0]}|{case[1]}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_region_size_png(server, case):
    check(server, 3, "grid.png", case, "0", "png", fx.TOL_LOSSLESS)


@pytest.mark.parametrize("case", ROT_CASES, ids=[_id(c) for c in ROT_CASES])
@pytest.mark.parametrize("rot", ROTATIONS)
def test_rotation_mirroring_png(server, case, rot):
    check(server, 3, "grid.png", case, rot, "png", fx.TOL_LOSSLESS)


FMT_CASES = [(CASES[0], "0"), (CASES[8], "90"), (CASES[19], "!270"), (CASES[17], "180")]


@pytest.mark.parametrize("case,rot", FMT_CASES, ids=[f"{_id(c)}|{r}" for c, r in FMT_CASES])
@pytest.mark.parametrize("fmt,tol", [("tif", fx.TOL_LOSSLESS), ("jpg", fx.TOL_LOSSY),
                                     ("webp", fx.TOL_LOSSY)], ids=["tif", "jpg", "webp"])
def test_output_formats(server, case, rot, fmt, tol):
    check(server, 3, "grid.png", case, rot, fmt, tol)


SRC_CASES = [(CASES[0], "0"), (CASES[9], "180"), (CASES[18], "!90"), (CASES[11], "270")]


@pytest.mark.parametrize("case,rot", SRC_CASES, ids=[f"{_id(c)}|{r}" for c, r in SRC_CASES])
@pytest.mark.parametrize("ident", ["grid.jpg", "grid_q95.tif", "sub%2Fgrid.png"])
def test_jpeg_sources(server, ident, case, rot):
    check(server, 3, ident, case, rot, "png", fx.SOURCES[ident][1])


@pytest.mark.parametrize("ident", ["grid.jpg", "grid_q95.tif"])
def test_jpeg_source_to_jpg(server, ident):
    check(server, 3, ident, CASES[1], "0", "jpg", fx.TOL_LOSSY)


V2_CASES = [
    ("full", "full", (0, 0, 1000, 1000), 1000, 1000),
    ("200,300,400,300", "200,", (200, 300, 400, 300), 200, 150),
    ("pct:10,10,80,80", "!400,400", (100, 100, 800, 800), 400, 400),
    ("100,100,200,200", "300,", (100, 100, 200, 200), 300, 300),
    ("pct:20,30,40,30", "600,300", (200, 300, 400, 300), 600, 300),
]


@pytest.mark.parametrize("case", V2_CASES, ids=[_id(c) for c in V2_CASES])
@pytest.mark.parametrize("rot", ["0", "90", "!180"])
def test_v2(server, case, rot):
    check(server, 2, "grid.png", case, rot, "png", fx.TOL_LOSSLESS)


# ---------------------------------------------------------------------------------------------
# non-square source
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rot", ["0", "90", "180", "270", "!90"])
def test_rect_full(server, rot):
    check(server, 3, "rect.png", ("full", "pct:50", (0, 0, 800, 600), 400, 300), rot, "png",
          fx.TOL_LOSSLESS, grid=fx.RECT)


def test_rect_square_region(server):
    """square on 800x600: 600x600 taken anywhere along x (3.0 section 4.1): find the offset."""
    im = fetch(server, "/iiif/3/rect.png/square/max/0/default.png")
    assert im.size == (600, 600)
    a = fx.to_rgb_array(im)[:, :, :3]
    src = fx.RECT.rgb().astype(float)
    errs = [np.abs(src[::10, off:off + 600] - a[::10]).mean() for off in range(0, 201)]
    off = int(np.argmin(errs))
    assert errs[off] < 1.0, f"square region matches no horizontal offset (best {off}: {errs[off]:.2f})"
    fx.assert_grid(im, fx.RECT, (off, 0, 600, 600), 600, 600, fx.TOL_LOSSLESS, min_checked=20)
