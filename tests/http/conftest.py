"""pytest wiring for the iiifd end-to-end HTTP suite.

Fixtures:
  iiifd_bin      path of the binary (env IIIFD_BIN, default build/asan/iiifd); fails, never skips
  root           session tmp ROOT with every generated source image (see fixtures.SOURCES)
  outside        a folder beside ROOT holding files that must never be served
  pool           session cache of running servers keyed by their flags: pool.get("--max-area", "250000")
  server         the default server (no extra flags)
  server_factory function-scoped: start a fresh server (custom root / config); always killed
"""

import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageOps

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402

DEFAULT_BIN = os.path.join(os.path.dirname(__file__), "..", "..", "build", "asan", "iiifd")

# Past modification time for every source, so If-Modified-Since tests can use dates that are
# after Last-Modified yet not in the future.
SOURCE_MTIME = 1577836800  # 2020-01-01T00:00:00Z


def pytest_configure(config):
    config.addinivalue_line("markers", "slowish: starts its own server")


@pytest.fixture(scope="session", autouse=True)
def store_backend():
    """IIIFD_TEST_BACKEND=postgresql runs every server on a PostgreSQL database of its own (one
    throwaway server for the session, tests/http/pg_server.py); anything else: SQLite."""
    backend = os.environ.get("IIIFD_TEST_BACKEND", "sqlite")
    if backend != "postgresql":
        yield backend
        return
    import pg_server
    pg = pg_server.PgServer().start()
    fx.DATABASE = pg.new_database
    yield backend
    fx.DATABASE = None
    pg.close()


@pytest.fixture(scope="session")
def iiifd_bin():
    path = os.path.abspath(os.environ.get("IIIFD_BIN", DEFAULT_BIN))
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"iiifd binary not found or not executable: {path} "
                    f"(build it with `make build/asan/iiifd` or set IIIFD_BIN)")
    return path


# --------------------------------------------------------------------------------------------
# Source images
# --------------------------------------------------------------------------------------------
def _save_png(arr, path):
    Image.fromarray(arr).save(path, format="PNG")


def _vips(*args):
    fx.run(["vips", *[str(a) for a in args]])


def make_root(base):
    """Generates ROOT (returned) and OUTSIDE beside it. Fails loudly if any generator fails."""
    root = os.path.join(base, "root")
    outside = os.path.join(base, "outside")
    work = os.path.join(base, "gen")
    for d in (root, outside, work, os.path.join(root, "sub", "deeper"),
              os.path.join(root, ".hiddendir")):
        os.makedirs(d, exist_ok=True)
    R = lambda *p: os.path.join(root, *p)  # noqa: E731
    W = lambda *p: os.path.join(work, *p)  # noqa: E731

    grid = fx.GRID.rgb()
    small = fx.SMALL.rgb()
    pyr = fx.PYR.rgb()
    _save_png(grid, R("grid.png"))
    _save_png(grid, R("sub", "grid.png"))
    _save_png(fx.RECT.rgb(), R("rect.png"))
    _save_png(small, W("small.png"))
    _save_png(pyr, W("pyr.png"))
    Image.fromarray(grid).save(R("grid.jpg"), quality=95)

    # TIFF family
    _vips("tiffsave", R("grid.png"), R("grid_q95.tif"), "--tile", "--tile-width", 256,
          "--tile-height", 256, "--compression", "jpeg", "--Q", 95)
    _vips("tiffsave", W("small.png"), R("src_strip.tif"), "--compression", "lzw")
    _vips("tiffsave", W("small.png"), R("src_tiled.tif"), "--tile", "--tile-width", 128,
          "--tile-height", 128, "--compression", "deflate")
    _vips("tiffsave", W("pyr.png"), R("src_pyramid.tif"), "--tile", "--pyramid",
          "--compression", "jpeg", "--Q", 95, "--tile-width", 256, "--tile-height", 256)
    _vips("tiffsave", W("pyr.png"), R("src_bigtiff.tif"), "--tile", "--pyramid", "--bigtiff",
          "--compression", "jpeg", "--Q", 95, "--tile-width", 128, "--tile-height", 128)
    _vips("tiffsave", W("pyr.png"), R("src_subifd.tif"), "--tile", "--pyramid", "--subifd",
          "--compression", "jpeg", "--Q", 95, "--tile-width", 512, "--tile-height", 512)
    _vips("colourspace", W("small.png"), W("small16.v"), "rgb16")
    _vips("tiffsave", W("small16.v"), R("src_deep16.tif"))
    _vips("pngsave", W("small16.v"), R("src_deep16.png"))
    pages = [Image.new("RGB", (w, h), c) for w, h, c in fx.PAGES]
    pages[0].save(R("src_multipage.tif"), save_all=True, append_images=pages[1:],
                  compression="tiff_deflate")

    # other formats
    _vips("jp2ksave", W("small.png"), R("src_grid.jp2"), "--lossless")
    _vips("webpsave", W("small.png"), R("src_grid.webp"), "--lossless")
    _vips("heifsave", W("small.png"), R("src_grid.heic"), "--compression", "hevc", "--Q", 90)
    _vips("heifsave", W("small.png"), R("src_grid.avif"), "--compression", "av1", "--Q", 90)
    labels = (np.arange(fx.SMALL.rows * fx.SMALL.cols).reshape(fx.SMALL.rows, fx.SMALL.cols)
              .repeat(100, 0).repeat(100, 1).astype(np.uint8))
    gif = Image.fromarray(labels, "P")
    gif.putpalette(fx.SMALL.colours.reshape(-1).tolist())
    gif.save(R("src_grid.gif"))
    pal = Image.fromarray(labels, "P")
    pal.putpalette(fx.SMALL.colours.reshape(-1).tolist())
    pal.save(R("src_palette.png"))
    Image.fromarray(small).save(R("src_progressive.jpg"), quality=95, progressive=True)
    Image.fromarray(fx.GRAYS.rgb()[:, :, 0], "L").save(R("src_gray.png"))
    alpha = np.full(small.shape[:2], 255, np.uint8)
    alpha[:, fx.ALPHA_COL * 100:] = 0
    Image.fromarray(np.dstack([small, alpha]), "RGBA").save(R("src_alpha.png"))

    # colour management
    _save_png(fx.P3PAL.rgb(), W("p3pal.png"))
    _vips("icc_transform", W("p3pal.png"), R("src_p3.png"), "p3", "--input-profile", "srgb")
    _vips("icc_transform", W("p3pal.png"), R("src_p3.jpg") + "[Q=95]", "p3",
          "--input-profile", "srgb")
    _save_png(fx.CMYKPAL.rgb(), W("cmykpal.png"))
    _vips("icc_transform", W("cmykpal.png"), R("src_cmyk.jpg") + "[Q=95]", "cmyk",
          "--input-profile", "srgb")

    # EXIF orientation 6: stored rotated 90 degrees anticlockwise, displayed upright
    upright = Image.fromarray(fx.UPRIGHT.rgb())
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(R("src_exif6.jpg"), quality=95, exif=exif.tobytes())

    # misc identifiers
    _save_png(fx.SMALL.rgb()[:100, :150], R("solo.png"))
    _save_png(fx.SMALL.rgb()[:100, :100], R("amb.png"))
    Image.fromarray(fx.SMALL.rgb()[:100, :100]).save(R("amb.jpg"))
    _save_png(fx.SMALL.rgb()[:50, :70], R("with space.png"))
    _save_png(fx.SMALL.rgb()[:60, :80], R("caf\u00e9.png"))
    _save_png(fx.SMALL.rgb()[:120, :90], R("sub", "deeper", "small.png"))
    _save_png(np.full((40, 30, 3), (10, 20, 30), np.uint8), R("semi.png"))
    _save_png(np.full((30, 40, 3), (250, 240, 230), np.uint8), R("semi.png;2"))
    rng = np.random.default_rng(7)
    _save_png(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8), R("noise.png"))
    _save_png(fx.SMALL.rgb()[:80, :120], R("tiny.png"))
    _save_png(fx.SMALL.rgb()[:11, :13], R("x%41.png"))   # literal percent sign in the name
    _save_png(fx.SMALL.rgb()[:17, :19], R("xA.png"))     # what a double decode would find
    _save_png(fx.SMALL.rgb()[:23, :29], R("a+b.png"))
    _save_png(fx.SMALL.rgb()[:31, :37], R("a b.png"))

    # things that must never be served
    secret = np.full((64, 64, 3), (1, 2, 3), np.uint8)
    _save_png(secret, os.path.join(outside, "secret.png"))
    with open(os.path.join(outside, "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/bash\n")
    _save_png(secret, R(".hidden.png"))
    _save_png(secret, R(".hiddendir", "visible.png"))
    _save_png(secret, R("sub", ".hidden.png"))
    os.symlink(os.path.join(outside, "secret.png"), R("link_out.png"))
    os.symlink(outside, R("linkdir"))

    # broken files
    with open(R("grid.jpg"), "rb") as f:
        data = f.read()
    with open(R("truncated.jpg"), "wb") as f:
        f.write(data[: len(data) * 4 // 10])
    with open(R("garbage.tif"), "wb") as f:
        f.write(b"II*\x00" + np.random.default_rng(3).integers(0, 256, 4000, np.uint8).tobytes())

    _verify_generated(root, work)
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames + dirnames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.utime(p, (SOURCE_MTIME, SOURCE_MTIME))
    shutil.rmtree(work)
    return root, outside


def _verify_generated(root, work):
    """Sanity checks on the generator itself, so a test failure means the server."""
    def px(path):
        return np.asarray(Image.open(path).convert("RGB")).astype(int)

    ex = ImageOps.exif_transpose(Image.open(os.path.join(root, "src_exif6.jpg")))
    assert ex.size == (fx.UPRIGHT.width, fx.UPRIGHT.height), ex.size
    assert np.abs(np.asarray(ex.convert("RGB")).astype(int)[150, 50] - fx.UPRIGHT.colours[1, 0]).max() < 6
    assert Image.open(os.path.join(root, "src_exif6.jpg")).size == (300, 200)
    for name, grid in (("src_grid.gif", fx.SMALL), ("src_palette.png", fx.SMALL),
                       ("src_grid.webp", fx.SMALL), ("src_grid.jp2", fx.SMALL)):
        assert (px(os.path.join(root, name)) == grid.rgb()).all(), name
    # the ICC sources really are different from sRGB in their raw values
    raw = px(os.path.join(root, "src_p3.png"))
    assert np.abs(raw[50, 150] - np.array([0, 255, 0])).max() > 40
    fx.run(["vips", "icc_transform", os.path.join(root, "src_cmyk.jpg"),
            os.path.join(work, "cmyk_back.png"), "srgb", "--embedded"])
    back = px(os.path.join(work, "cmyk_back.png"))
    for r in range(fx.CMYKPAL.rows):
        for c in range(fx.CMYKPAL.cols):
            d = np.abs(back[r * 100 + 50, c * 100 + 50] - fx.CMYKPAL.colours[r, c]).max()
            assert d <= 10, (r, c, d)
    naive = np.asarray(Image.open(os.path.join(root, "src_cmyk.jpg")).convert("RGB")).astype(int)
    assert np.abs(naive[50, 250] - fx.CMYKPAL.colours[0, 2]).max() > 40
    for name in ("src_grid.heic", "src_grid.avif"):
        out = os.path.join(work, name + ".png")
        fx.run(["vips", "copy", os.path.join(root, name), out])
        back = px(out)
        d = max(np.abs(back[r * 100 + 50, c * 100 + 50] - fx.SMALL.colours[r, c]).max()
                for r in range(fx.SMALL.rows) for c in range(fx.SMALL.cols))
        assert d <= fx.TOL_HEIF - 4, (name, d)
    with open(os.path.join(root, "src_bigtiff.tif"), "rb") as f:
        assert f.read(4) in (b"II+\x00", b"MM\x00+")
    assert Image.open(os.path.join(root, "src_multipage.tif")).n_frames == 3
    im = Image.open(os.path.join(root, "src_deep16.png"))
    with open(os.path.join(root, "src_deep16.png"), "rb") as f:
        assert f.read(25)[24] == 16, "not a 16-bit PNG"


def pyramid_levels(path):
    """Number of stored resolution levels of a pyramidal TIFF (main IFDs or SubIFDs)."""
    hdr = fx.run(["vipsheader", "-a", path]).stdout
    n_pages = int(next(l.split(":")[1] for l in hdr.splitlines() if l.startswith("n-pages")))
    subifds = [l for l in hdr.splitlines() if l.startswith("n-subifds")]
    if subifds and int(subifds[0].split(":")[1]) > 0:
        return int(subifds[0].split(":")[1]) + 1
    return n_pages


@pytest.fixture(scope="session")
def root_and_outside(tmp_path_factory):
    base = tmp_path_factory.mktemp("iiifd-http")
    return make_root(str(base))


@pytest.fixture(scope="session")
def root(root_and_outside):
    return root_and_outside[0]


@pytest.fixture(scope="session")
def outside(root_and_outside):
    return root_and_outside[1]


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------
class Pool:
    def __init__(self, binary, root, workdir):
        self.binary, self.root, self.workdir = binary, root, workdir
        self.servers = {}

    def get(self, *args):
        key = tuple(args)
        s = self.servers.get(key)
        if s is None or not s.alive():
            s = fx.Server(self.binary, self.root, self.workdir, args=args,
                          name=f"pool{len(self.servers)}").start()
            self.servers[key] = s
        return s

    def close(self):
        for s in self.servers.values():
            s.kill()


_ALL_SERVERS = []


@pytest.fixture(scope="session")
def pool(iiifd_bin, root, tmp_path_factory):
    p = Pool(iiifd_bin, root, str(tmp_path_factory.mktemp("servers")))
    _ALL_SERVERS.append(p)
    yield p
    p.close()


@pytest.fixture
def server(pool):
    return pool.get()


@pytest.fixture
def server_factory(iiifd_bin, root, tmp_path):
    started = []

    def start(args=(), config=None, root_dir=None, port_in_config=False):
        s = fx.Server(iiifd_bin, root_dir or root, str(tmp_path), args=args, config=config,
                      port_in_config=port_in_config, name=f"own{len(started)}")
        started.append(s)
        return s.start()

    yield start
    problems = []
    for s in started:
        if not s.stopped_on_purpose and not s.alive():
            problems.append(f"server {s.command()} died during the test (exit "
                            f"{s.proc.returncode}):\n{s.stderr_text()[-3000:]}")
        s.kill()
        found, text = s.new_sanitizer_reports()
        if found:
            problems.append(f"sanitizer report from {s.command()}:\n{text[-4000:]}")
    if problems:
        pytest.fail("\n\n".join(problems))


@pytest.fixture(autouse=True)
def _pool_health(request):
    """After every test: the pooled servers must still be alive and sanitizer-clean."""
    yield
    problems = []
    for p in _ALL_SERVERS:
        for key, s in list(p.servers.items()):
            found, text = s.new_sanitizer_reports()
            if not s.alive():
                problems.append(f"pooled server {key} died (exit {s.proc.returncode}) during "
                                f"this test:\n{s.stderr_text()[-3000:]}")
                del p.servers[key]  # the next pool.get() starts a fresh one
            if found:
                problems.append(f"sanitizer report from pooled server {key}:\n{text[-4000:]}")
    if problems:
        pytest.fail("\n\n".join(problems))


# convenience for tests
@pytest.fixture
def get(server):
    return server.get
