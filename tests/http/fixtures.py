"""Helpers for the iiifd end-to-end HTTP suite: test images, an HTTP client that sends paths
verbatim, a server process wrapper, and pixel-accuracy checks.

Nothing here is a test; conftest.py wires these into pytest fixtures.
"""

import contextlib
import email.utils
import http.client
import io
import json
import math
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import numpy as np
from PIL import Image

# The one accepted reason to skip a test: a file from outside the repository (../shared beside
# the checkout: specs, the official JSON schemas) is absent. scripts/run-tests counts a skip whose
# reason starts with this marker as skipped; any other skip counts as failed.
NEEDS_SHARED = "needs ../shared"

# --------------------------------------------------------------------------------------------
# Tolerances (per channel, 0..255). Stated here so the report can quote them.
# --------------------------------------------------------------------------------------------
TOL_LOSSLESS = 5      # png / tif output, lossless sources (the brief's target)
TOL_LOSSY = 5         # jpg / webp output: the brief's target; only loosen with a report
TOL_JPEG_SOURCE = 5   # sources stored as JPEG Q95 (grid.jpg, JPEG-compressed TIFFs), png output
TOL_COARSE = 20       # gif (palette) and jp2 output: a channel-swap / wrong-square detector
TOL_HEIF = 12         # lossy HEIC / AVIF sources (4:2:0 YUV); vips' own round trip is within 6
TOL_CMYK = 12         # CMYK JPEG with the vips 'cmyk' profile, in-gamut colours, back to sRGB

SUPPORTED_FORMATS = ["jpg", "png", "webp", "tif", "gif", "jp2"]
MIME = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tif": "image/tiff",
    "gif": "image/gif",
    "jp2": "image/jp2",
    "pdf": "application/pdf",
}
MAGIC = {
    "jpg": [b"\xff\xd8\xff"],
    "png": [b"\x89PNG\r\n\x1a\n"],
    "webp": [b"RIFF"],
    "tif": [b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"],
    "gif": [b"GIF87a", b"GIF89a"],
    "jp2": [b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51"],
    "pdf": [b"%PDF"],
}

V3_CONTEXT = "http://iiif.io/api/image/3/context.json"
V2_CONTEXT = "http://iiif.io/api/image/2/context.json"
V3_LEVEL2 = "http://iiif.io/api/image/3/level2.json"
V2_LEVEL2 = "http://iiif.io/api/image/2/level2.json"

# Features defined by Image API 3.0 section 5.7 and those in the level2 profile document.
V3_FEATURES = {
    "baseUriRedirect", "canonicalLinkHeader", "cors", "jsonldMediaType", "mirroring",
    "profileLinkHeader", "regionByPct", "regionByPx", "regionSquare", "rotationArbitrary",
    "rotationBy90s", "sizeByConfinedWh", "sizeByH", "sizeByPct", "sizeByW", "sizeByWh",
    "sizeUpscaling",
}
V3_LEVEL2_FEATURES = {
    "baseUriRedirect", "cors", "jsonldMediaType", "regionByPct", "regionByPx", "regionSquare",
    "rotationBy90s", "sizeByConfinedWh", "sizeByH", "sizeByPct", "sizeByW", "sizeByWh",
}
V2_FEATURES = {
    "baseUriRedirect", "canonicalLinkHeader", "cors", "jsonldMediaType", "mirroring",
    "profileLinkHeader", "regionByPct", "regionByPx", "regionSquare", "rotationArbitrary",
    "rotationBy90s", "sizeAboveFull", "sizeByConfinedWh", "sizeByDistortedWh", "sizeByH",
    "sizeByPct", "sizeByW", "sizeByWh", "sizeByWhListed", "sizeByForcedWh",
}


# --------------------------------------------------------------------------------------------
# Colour grids
# --------------------------------------------------------------------------------------------
def palette(n, seed):
    """n distinct colours on a lattice; any two differ by >= 42 in at least one channel."""
    steps = 5 if n <= 125 else 7
    levels = np.linspace(0, 255, steps).round().astype(np.uint8)
    lattice = np.array([(r, g, b) for r in levels for g in levels for b in levels], np.uint8)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(lattice))[:n]
    return lattice[idx]


class Grid:
    """cols x rows squares of sq pixels, each a distinct colour (colours[row, col])."""

    def __init__(self, cols, rows, sq=100, seed=1, colours=None):
        self.cols, self.rows, self.sq = cols, rows, sq
        if colours is None:
            colours = palette(cols * rows, seed)
        self.colours = np.asarray(colours, np.uint8).reshape(rows, cols, 3)
        self.width, self.height = cols * sq, rows * sq

    def rgb(self):
        return np.repeat(np.repeat(self.colours, self.sq, axis=0), self.sq, axis=1)

    def flat_colours(self):
        return self.colours.reshape(-1, 3).astype(int)


def expected_labels(grid, region, out_w, out_h, mirror=False, rot90=0):
    """Label image (square index per output pixel) for region=(x,y,w,h) in source pixels,
    scaled to out_w x out_h, then mirrored, then rotated clockwise by rot90*90 degrees."""
    x, y, w, h = region
    sy = y + (np.arange(out_h) + 0.5) * h / out_h
    sx = x + (np.arange(out_w) + 0.5) * w / out_w
    rl = np.clip((sy // grid.sq).astype(int), 0, grid.rows - 1)
    cl = np.clip((sx // grid.sq).astype(int), 0, grid.cols - 1)
    lab = rl[:, None] * grid.cols + cl[None, :]
    if mirror:
        lab = lab[:, ::-1]
    return np.rot90(lab, k=-(rot90 % 4))


def check_squares(img, labels, colours, tol, min_checked=1, min_box=8):
    """For every square visible in labels with a box of at least min_box px, compare the mean
    of a small window at its centre in img with its colour. Returns (checked, failures)."""
    arr = to_rgb_array(img)
    assert arr.shape[:2] == labels.shape, (
        f"output is {arr.shape[1]}x{arr.shape[0]}, expected {labels.shape[1]}x{labels.shape[0]}")
    failures, checked = [], 0
    for lab in np.unique(labels):
        ys, xs = np.nonzero(labels == lab)
        y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
        bh, bw = y1 - y0 + 1, x1 - x0 + 1
        if bh < min_box or bw < min_box:
            continue
        cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
        r = max(0, min(2, bh // 6, bw // 6))
        win = arr[cy - r:cy + r + 1, cx - r:cx + r + 1].reshape(-1, arr.shape[2])
        got = win.mean(axis=0)[:3]
        want = np.asarray(colours[lab], float)
        checked += 1
        if np.abs(got - want).max() > tol:
            failures.append(f"square {lab} at ({cx},{cy}): got {got.round().astype(int).tolist()}"
                            f" want {want.astype(int).tolist()}")
    assert checked >= min_checked, f"only {checked} squares large enough to check"
    return checked, failures


def assert_grid(img, grid, region, out_w, out_h, tol, mirror=False, rot90=0, min_checked=1):
    labels = expected_labels(grid, region, out_w, out_h, mirror, rot90)
    checked, failures = check_squares(img, labels, grid.flat_colours(), tol, min_checked)
    assert not failures, (f"{len(failures)}/{checked} squares off by more than {tol}: "
                          + "; ".join(failures[:8]))


def to_rgb_array(img):
    """uint8/float HxWx3 (or HxWx4) array; gray images are replicated to 3 channels."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img).astype(float) / 257.0
        return np.repeat(a[:, :, None], 3, axis=2)
    if img.mode in ("L", "1", "LA", "P", "PA", "CMYK", "YCbCr", "RGBA", "RGB"):
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            return np.asarray(img.convert("RGBA")).astype(float)
        return np.asarray(img.convert("RGB")).astype(float)
    return np.asarray(img.convert("RGB")).astype(float)


def open_image(data):
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------
class Response:
    def __init__(self, status, reason, headers, body, elapsed):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body
        self.elapsed = elapsed

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def image(self):
        return open_image(self.body)

    @property
    def content_type(self):
        return (self.header("Content-Type") or "").strip()

    def links(self):
        return parse_links(self.header_all("Link"))

    def __repr__(self):
        return f"<Response {self.status} {self.content_type} {len(self.body)}B>"


def request(port, path, method="GET", headers=None, timeout=60, host="127.0.0.1"):
    """One request on a fresh connection; path is sent exactly as given (no normalisation)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    t0 = time.monotonic()
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        return Response(r.status, r.reason, r.getheaders(), body, time.monotonic() - t0)
    finally:
        conn.close()


def parse_links(values):
    """[(url, rel)] from one or more Link header values."""
    out = []
    for v in values:
        for m in re.finditer(r'<([^>]*)>\s*((?:;\s*[^;,<]+)*)', v):
            rel = re.search(r'rel\s*=\s*"?([^";,]+)"?', m.group(2))
            out.append((m.group(1), rel.group(1).strip() if rel else None))
    return out


def link_for(resp, rel):
    urls = [u for u, r in resp.links() if r and rel in r.split()]
    return urls


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def parse_http_date(s):
    return email.utils.parsedate_to_datetime(s).timestamp()


def quote_id(identifier):
    """Identifier -> URL path segment: '/' becomes %2F, everything special is encoded."""
    return urllib.parse.quote(identifier, safe="")


# --------------------------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------------------------
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                     "AddressSanitizer:DEADLYSIGNAL")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


_HELP = {}

# A function returning the URI of a new, empty PostgreSQL database, when the suite runs on that
# backend (conftest.py sets it for IIIFD_TEST_BACKEND=postgresql); None: SQLite in data-dir.
DATABASE = None
_DATABASES = {}


def database_args(data_dir):
    """["--database", URI] for the store of data_dir when the suite runs on PostgreSQL (the same
    database for the same data_dir, so `iiifd import` and a server share it), else []."""
    if DATABASE is None:
        return []
    key = os.path.abspath(str(data_dir))
    if key not in _DATABASES:
        _DATABASES[key] = DATABASE()
    return ["--database", _DATABASES[key]]


def help_text(binary):
    """`iiifd --help` output (cached), used to adapt to optional flags of the binary."""
    if binary not in _HELP:
        p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=20)
        _HELP[binary] = p.stdout + p.stderr
    return _HELP[binary]


class Server:
    """One iiifd process. stderr goes to a file so the access log can be read."""

    def __init__(self, binary, root, workdir, args=(), config=None, port_in_config=False,
                 name="iiifd"):
        self.binary, self.root, self.workdir = binary, str(root), str(workdir)
        self.args, self.config, self.port_in_config = list(args), config, port_in_config
        self.name = name
        self.port = None
        self.proc = None
        self.stopped_on_purpose = False
        self._checked_offset = 0

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def command(self):
        cmd = [self.binary, "serve"]
        if not (self.config and "host" in self.config):
            cmd += ["--host", "127.0.0.1"]
        if not self.port_in_config:
            cmd += ["--port", str(self.port)]
        if "--cache-dir" in help_text(self.binary):
            # the server keeps rendered images on disk (default /var/tmp/iiifd-cache): give every
            # test server its own empty cache so runs and configurations cannot see each other's
            # derivatives, and nothing is left outside the pytest tmp dir
            cmd += ["--cache-dir", os.path.join(self.workdir, f"cache-{self.name}-{self.port}")]
        if "--data-dir" in help_text(self.binary):
            # likewise the annotation store (default /var/tmp/iiifd-data)
            cmd += ["--data-dir", os.path.join(self.workdir, f"data-{self.name}-{self.port}")]
            data = os.path.join(self.workdir, f"data-{self.name}-{self.port}")
            if "--data-dir" in self.args:
                data = self.args[self.args.index("--data-dir") + 1]
            cmd += database_args(data)
        if self.config is not None:
            cfg = os.path.join(self.workdir, f"{self.name}-{self.port}.ini")
            lines = []
            cfg_items = dict(self.config)
            if self.port_in_config:
                cfg_items["port"] = str(self.port)
            for k, v in cfg_items.items():
                lines.append(f"{k} = {v}")
            with open(cfg, "w") as f:
                f.write("\n".join(lines) + "\n")
            cmd += ["--config", cfg]
        return cmd + self.args + [self.root]

    def start(self, ready_timeout=30):
        last_err = None
        for _attempt in range(3):  # retry on a port race
            self.port = free_port()
            self.stdout_path = os.path.join(self.workdir, f"{self.name}-{self.port}.stdout")
            self.stderr_path = os.path.join(self.workdir, f"{self.name}-{self.port}.stderr")
            self._stdout = open(self.stdout_path, "wb")
            self._stderr = open(self.stderr_path, "wb")
            self.proc = subprocess.Popen(self.command(), stdout=self._stdout, stderr=self._stderr,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
            try:
                self.wait_ready(ready_timeout)
                return self
            except RuntimeError as e:
                last_err = e
                self.kill()
                if "Address already in use" not in self.stderr_text():
                    break
        raise last_err

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"iiifd exited with {self.proc.returncode} before becoming "
                                   f"ready; cmd={self.command()}\nstderr:\n{self.stderr_text()[-3000:]}")
            try:
                r = request(self.port, "/health", timeout=2)
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"iiifd not ready after {timeout}s; stderr:\n{self.stderr_text()[-3000:]}")

    def get(self, path, **kw):
        return request(self.port, path, **kw)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""

    def new_sanitizer_reports(self):
        text = self.stderr_text()
        new = text[self._checked_offset:]
        self._checked_offset = len(text)
        return [m for m in SANITIZER_MARKERS if m in new], new

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig and waits; returns the exit code (None if it had to be killed)."""
        self.stopped_on_purpose = True
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        finally:
            self._close_files()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self._close_files()

    def _close_files(self):
        for f in (getattr(self, "_stdout", None), getattr(self, "_stderr", None)):
            if f and not f.closed:
                f.close()


# --------------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------------
def start_together(servers):
    """Starts the servers at the same time (each waits for its own readiness); returns the
    exceptions of those that did not start."""
    errors = []

    def start(s):
        try:
            s.start()
        except Exception as e:  # noqa: BLE001 (returned)
            errors.append(e)
    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@contextlib.contextmanager
def serving_all(servers):
    """Starts servers (Server objects) together for a with block, failing it when one does not
    start; kills them all after, and fails on sanitizer reports any of them wrote."""
    errors = start_together(servers)
    try:
        assert not errors, errors
        yield servers
    finally:
        for s in servers:
            s.kill()
    for s in servers:
        found, text = s.new_sanitizer_reports()
        assert not found, f"sanitizer report from {s.name}:\n{text[-3000:]}"


@contextlib.contextmanager
def serving(server):
    """serving_all() for one server."""
    with serving_all([server]):
        yield server


def sighup_and_wait(server, text):
    """Sends SIGHUP and waits (up to 30 s) until the server logs text once more than before."""
    before = server.stderr_text().count(text)
    server.proc.send_signal(signal.SIGHUP)
    for _ in range(1500):
        if server.stderr_text().count(text) > before:
            return
        time.sleep(0.02)
    raise AssertionError(f"no new '{text}' after SIGHUP:\n{server.stderr_text()[-2000:]}")


def rotated_bbox(w, h, degrees):
    t = math.radians(degrees)
    return (abs(w * math.cos(t)) + abs(h * math.sin(t)),
            abs(h * math.cos(t)) + abs(w * math.sin(t)))


def wait_for(predicate, what, timeout=30):
    """Polls predicate() every 0.2 s until it is true; fails naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def run(cmd, **kw):
    """subprocess.run that fails loudly with the output when a generator command fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"command failed ({p.returncode}): {cmd}\n{p.stdout}\n{p.stderr}")
    return p


# --------------------------------------------------------------------------------------------
# The test images (generated by conftest.make_root). Static so tests can parametrize on them.
# --------------------------------------------------------------------------------------------
GRID = Grid(10, 10, 100, seed=1)     # 1000x1000, the accuracy grid
RECT = Grid(8, 6, 100, seed=2)       # 800x600, non-square
PYR = Grid(20, 15, 100, seed=3)      # 2000x1500, pyramidal TIFFs
SMALL = Grid(6, 4, 100, seed=4)      # 600x400, most single-format sources
UPRIGHT = Grid(2, 3, 100, seed=5)    # 200x300, how the EXIF-orientation-6 JPEG must look
GRAYS = Grid(6, 4, 100, colours=[(v, v, v) for v in np.linspace(0, 255, 24).round().astype(int)])
P3PAL = Grid(8, 2, 100, colours=[
    (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255),
    (200, 100, 50), (50, 100, 200), (180, 60, 60), (60, 160, 80), (70, 90, 170),
    (200, 180, 90), (90, 170, 170), (170, 90, 150), (128, 128, 128), (230, 200, 170)])
# colours inside the gamut of vips' built-in 'cmyk' profile (round trip within 8)
CMYKPAL = Grid(4, 2, 100, colours=[
    (200, 100, 50), (180, 60, 60), (60, 160, 80), (200, 180, 90),
    (90, 170, 170), (170, 90, 150), (230, 200, 170), (128, 128, 128)])

# identifier -> (grid, tolerance for png output, description)
SOURCES = {
    "grid.png": (GRID, TOL_LOSSLESS, "PNG 8-bit RGB"),
    "grid.jpg": (GRID, TOL_JPEG_SOURCE, "JPEG Q95"),
    "grid_q95.tif": (GRID, TOL_JPEG_SOURCE, "TIFF, JPEG Q95, tiled 256"),
    "rect.png": (RECT, TOL_LOSSLESS, "PNG 800x600"),
    "src_strip.tif": (SMALL, TOL_LOSSLESS, "TIFF strips, LZW"),
    "src_tiled.tif": (SMALL, TOL_LOSSLESS, "TIFF tiled 128, deflate, no pyramid"),
    "src_pyramid.tif": (PYR, TOL_JPEG_SOURCE, "TIFF pyramid, JPEG Q95, tile 256"),
    "src_bigtiff.tif": (PYR, TOL_JPEG_SOURCE, "BigTIFF pyramid, JPEG Q95, tile 128"),
    "src_subifd.tif": (PYR, TOL_JPEG_SOURCE, "TIFF SubIFD pyramid, JPEG Q95, tile 512"),
    "src_deep16.tif": (SMALL, TOL_LOSSLESS, "TIFF 16-bit RGB"),
    "src_grid.jp2": (SMALL, TOL_LOSSLESS, "JPEG 2000 lossless"),
    "src_grid.webp": (SMALL, TOL_LOSSLESS, "WebP lossless"),
    "src_grid.heic": (SMALL, TOL_HEIF, "HEIF/HEVC"),
    "src_grid.avif": (SMALL, TOL_HEIF, "AVIF/AV1"),
    "src_grid.gif": (SMALL, TOL_LOSSLESS, "GIF"),
    "src_progressive.jpg": (SMALL, TOL_JPEG_SOURCE, "progressive JPEG Q95"),
    "src_gray.png": (GRAYS, TOL_LOSSLESS, "PNG 8-bit gray"),
    "src_palette.png": (SMALL, TOL_LOSSLESS, "PNG palette"),
    "src_deep16.png": (SMALL, TOL_LOSSLESS, "PNG 16-bit RGB"),
    "src_alpha.png": (SMALL, TOL_LOSSLESS, "PNG RGBA"),
    "src_p3.png": (P3PAL, TOL_LOSSLESS, "PNG with Display P3 ICC profile"),
    "src_p3.jpg": (P3PAL, TOL_JPEG_SOURCE, "JPEG Q95 with Display P3 ICC profile"),
    "src_cmyk.jpg": (CMYKPAL, TOL_CMYK, "CMYK JPEG with CMYK ICC profile"),
    "src_exif6.jpg": (UPRIGHT, TOL_JPEG_SOURCE, "JPEG, EXIF orientation 6"),
    "sub%2Fgrid.png": (GRID, TOL_LOSSLESS, "PNG in a subfolder"),
}

# alpha pattern of src_alpha.png: squares in columns >= ALPHA_COL are fully transparent
ALPHA_COL = 3

# pages of src_multipage.tif: (width, height, colour)
PAGES = [(300, 200, (200, 30, 30)), (200, 300, (30, 200, 30)), (150, 150, (30, 30, 200))]

# Source files whose identifier omits the extension (exactly one file with that base name).
EXTENSIONLESS = {"solo": "solo.png"}
