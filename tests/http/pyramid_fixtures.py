"""Helpers of the background pyramid tests (test_cluster.py, test_pyramid_shared.py): large flat
images, the pyramid counters of /metrics, and where a render's pixels came from."""

import glob
import http.client
import os
import signal
import threading
import time
import urllib.parse

import numpy as np

import fixtures as fx
from PIL import Image

BUILDS_OK = 'iiifd_pyramid_builds_total{result="ok"}'
BUILDS_FAILED = 'iiifd_pyramid_builds_total{result="failed"}'
CLAIMS_BUSY = "iiifd_pyramid_claims_busy_total"


def flat_png(path, w, h, seed):
    """A flat (untiled) PNG with detail everywhere, so that pyramid levels differ; it appears
    under its name complete (written hidden, then renamed)."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[..., 0] = (np.arange(w) * 255 // w).astype(np.uint8)[None, :]
    rgb[..., 1] = (np.arange(h) * 255 // h).astype(np.uint8)[:, None]
    rgb[..., 2] = rng.integers(0, 64, (h, w), dtype=np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    part = os.path.join(os.path.dirname(path), "." + os.path.basename(path))
    Image.fromarray(rgb).save(part, format="PNG", compress_level=1)
    os.replace(part, path)


def metric(node, key):
    """The value of one sample of node's /metrics, e.g. BUILDS_OK."""
    text = node.get("/metrics").body.decode()
    for line in text.splitlines():
        if line.startswith(key + " "):
            return int(float(line.split()[-1]))
    raise AssertionError(f"{key} not in /metrics")


def from_pyramid(node, ident, width):
    """Whether node renders ident (at a width not asked before: no render cache) from a pyramid."""
    r = node.get(f"/iiif/3/{urllib.parse.quote(ident, safe='')}/full/{width},/0/default.jpg")
    assert r.status == 200, (r.status, r.body[:200])
    timing = r.header("Server-Timing") or ""
    return 'desc="pyramid"' in timing or timing == "passthrough"


def get_status(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status
    finally:
        conn.close()


def at_once(requests):
    """GETs each (port, path) in a thread of its own, all released together; their statuses."""
    barrier, statuses = threading.Barrier(len(requests)), []

    def go(port, path):
        barrier.wait()
        statuses.append(get_status(port, path))
    threads = [threading.Thread(target=go, args=rq) for rq in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return statuses


def wait_for_file(pattern, timeout=20):
    """Polls often (a build is short) for a file matching pattern; its path."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = glob.glob(pattern)
        if found:
            return found[0]
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {pattern}")


def check_takeover(a, b, ident, pdir):
    """Node a claims the build of ident's pyramid in pdir and is frozen half way (SIGSTOP,
    holding the claim): b serves the original and leaves the build to a. a dies (SIGKILL, which
    releases its claim): b, looking again, takes the build over and serves the pyramid.
    ident must take a build of a second or so (a frozen build must not have ended yet)."""
    enc, width = urllib.parse.quote(ident, safe=""), iter(range(300, 2000))
    assert a.get(f"/iiif/3/{enc}/0,0,512,512/256,/0/default.jpg").status == 200
    partial = wait_for_file(os.path.join(pdir, "*.tif.tmp-*"))
    os.kill(a.proc.pid, signal.SIGSTOP)
    assert not glob.glob(os.path.join(pdir, "*.tif")), "the build ended before the freeze"
    assert not from_pyramid(b, ident, next(width))
    fx.wait_for(lambda: metric(b, CLAIMS_BUSY) >= 1, "b leaving the build to a", 10)
    a.stopped_on_purpose = True
    a.proc.kill()  # SIGKILL works on a stopped process
    a.proc.wait(10)
    fx.wait_for(lambda: from_pyramid(b, ident, next(width)), "b serving the pyramid", 40)
    assert metric(b, BUILDS_OK) == 1 and metric(b, BUILDS_FAILED) == 0
    built = glob.glob(os.path.join(pdir, "*.tif"))
    assert len(built) == 1 and os.path.exists(partial), (built, partial)
    pages = fx.run(["vipsheader", "-f", "n-pages", built[0]]).stdout.strip()
    assert pages != "1", "the pyramid b published has one level"
