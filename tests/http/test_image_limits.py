"""Expensive requests must not starve others (issue #10 §2): the upscaling limit, fair turns in
the render queues, and encoder limits refused before any decoding."""

import math
import socket
import threading
import time

import fixtures as fx
import pytest


def _get(port, path, source="127.0.0.1", timeout=120):
    """GET from a chosen loopback address; returns (status, body, seconds)."""
    t0 = time.monotonic()
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body, time.monotonic() - t0


def test_upscaling_beyond_max_upscale_is_400(server):
    ok = fx.request(server.port, "/iiif/3/grid.png/0,0,100,100/^200,/0/default.jpg")
    assert ok.status == 200 and ok.image().size == (200, 200)
    for size in ("^201,", "^pct:250", "^,300"):
        r = fx.request(server.port, f"/iiif/3/grid.png/0,0,100,100/{size}/0/default.jpg")
        assert r.status == 400, (size, r.status)
        assert b"max-upscale" in r.body, r.body
    v2 = fx.request(server.port, "/iiif/2/grid.png/0,0,100,100/300,/0/default.jpg")
    assert v2.status == 400 and b"max-upscale" in v2.body
    # what the limit allows for the whole image is advertised, and ^max stops there
    info = fx.request(server.port, "/iiif/3/grid.png/info.json").json()
    assert (info["maxWidth"], info["maxHeight"]) == (2000, 2000)
    top = fx.request(server.port, "/iiif/3/grid.png/0,0,100,50/^max/0/default.jpg")
    assert top.status == 200 and top.image().size == (200, 100)


@pytest.mark.parametrize("version", [3, 2])
def test_viewer_requests_are_never_refused_for_upscaling(pool, version):
    """With no upscaling at all (max-upscale 1), every size info.json lists and every tile it
    describes (edge tiles too) is served: viewers never meet the limit."""
    s = pool.get("--max-upscale", "1")
    for ident in ("grid.png", "rect.png", "src_pyramid.tif"):
        info = fx.request(s.port, f"/iiif/{version}/{ident}/info.json").json()
        W, H = info["width"], info["height"]
        limits = info if version == 3 else info["profile"][1]
        assert (limits["maxWidth"], limits["maxHeight"]) == (W, H), limits
        paths = [f"full/{sz['width']},{sz['height']}" for sz in info["sizes"]]
        t = info["tiles"][0]
        tw, th = t["width"], t.get("height", t["width"])
        for sf in t["scaleFactors"]:
            for x in sorted({0, (W - 1) // (tw * sf) * tw * sf}):
                for y in sorted({0, (H - 1) // (th * sf) * th * sf}):
                    w, h = min(tw * sf, W - x), min(th * sf, H - y)
                    paths.append(f"{x},{y},{w},{h}/{-(-w // sf)},")
        for p in paths:
            r = fx.request(s.port, f"/iiif/{version}/{ident}/{p}/0/default.jpg")
            assert r.status == 200, (ident, p, r.status, r.body[:200])


@pytest.mark.slowish
def test_one_client_cannot_hold_every_large_render_slot(server_factory):
    """Client A (127.0.0.2) holds both large slots and has a third request waiting; client B
    (127.0.0.3) asks for one large render after it. The first slot to come free must go to B.

    Durations are set by the server, not by the machine's speed: A's renders are far too big to
    finish, so each holds its slot for exactly request-timeout (T) seconds, then gets 503. A1
    starts at 0, A2 at D, A3 and B just after: a slot frees at T (A1) and the next at T + D (A2).
    Taking turns, B gets A1's slot after waiting about T - D seconds; in one first-come line
    A3 takes it and B waits about T, longer than queue-wait-ms (W), and gets 503."""
    T, D, W = 10, 6, 6
    s = server_factory(args=["--large-renders", "2", "--request-timeout", str(T),
                             "--queue-wait-ms", str(W * 1000), "--cache", "false",
                             "--max-upscale", "0", "--max-area", "10000000000",
                             "--memory-budget-mb", "1000000"])
    huge = "/iiif/3/grid.png/full/^30000,/0/default.png"  # minutes of PNG encoding
    done = {}

    def ask(name, source, path):
        status, body, _ = _get(s.port, path, source, timeout=T * 6)
        done[name] = (status, body[:200])

    def start(name, source, path):
        t = threading.Thread(target=ask, args=(name, source, path))
        t.start()
        return t

    threads = [start("A1", "127.0.0.2", huge)]
    time.sleep(D)
    threads.append(start("A2", "127.0.0.2", huge))
    time.sleep(0.5)
    threads.append(start("A3", "127.0.0.2", huge))
    time.sleep(0.5)
    threads.append(start("B", "127.0.0.3", "/iiif/3/grid.png/full/^1100,/0/default.png"))
    for t in threads:
        t.join()
    assert done["A1"][0] == 503 and b"too long" in done["A1"][1], done["A1"]
    assert done["B"][0] == 200, f"B waited behind all of A's requests: {done['B']}"


@pytest.mark.parametrize("version", [3, 2])
def test_never_fitting_the_memory_budget_is_400(pool, version):
    """Permanent: no wait would help, so 400 with the reason (Image API 3.0 §4.2 for sizes beyond
    the limits), never 503 with Retry-After, which makes clients try again."""
    s = pool.get("--memory-budget-mb", "2")
    r = fx.request(s.port, f"/iiif/{version}/grid.png/full/max/0/default.png")
    assert r.status == 400 and r.header("Retry-After") is None, (r.status, r.body[:200])
    assert b"memory-budget-mb" in r.body, r.body
    tile = fx.request(s.port, f"/iiif/{version}/grid.png/0,0,256,256/128,/0/default.png")
    assert tile.status == 200, (tile.status, tile.body[:200])


@pytest.mark.slowish
def test_busy_render_slots_are_503_with_retry_after(server_factory):
    """Transient: the one large slot is held (for request-timeout seconds, by a render too big to
    finish) and nobody may queue, so another large request gets 503 with Retry-After; the same
    request succeeds once the slot is free."""
    s = server_factory(args=["--large-renders", "1", "--queue-wait-ms", "0",
                             "--request-timeout", "4", "--cache", "false", "--max-upscale", "0",
                             "--max-area", "10000000000", "--memory-budget-mb", "1000000"])
    held = {}
    holder = threading.Thread(target=lambda: held.setdefault("r", _get(
        s.port, "/iiif/3/grid.png/full/^30000,/0/default.png", "127.0.0.2", timeout=60)))
    holder.start()
    time.sleep(1.5)
    path = "/iiif/3/grid.png/full/^1100,/0/default.png"
    busy = fx.request(s.port, path)
    holder.join()
    assert held["r"][0] == 503 and b"too long" in held["r"][1], held["r"][:2]
    assert busy.status == 503 and busy.header("Retry-After"), (busy.status, busy.body[:200])
    again = fx.request(s.port, path)
    assert again.status == 200 and again.image().size == (1100, 1100)


ENCODER_LIMITS = [
    ("jpg", "^65501,", "65500"),
    ("webp", "^16384,", "16383"),
    ("gif", "^65536,", "65535"),
    ("pdf", "^14401,", "14400"),
]


@pytest.mark.parametrize("fmt,size,limit", ENCODER_LIMITS, ids=[e[0] for e in ENCODER_LIMITS])
def test_encoder_limits_are_400_before_decoding(pool, fmt, size, limit):
    s = pool.get("--max-upscale", "0", "--max-area", "100000000000")
    r = fx.request(s.port, f"/iiif/3/grid.png/0,0,1000,1/{size}/0/default.{fmt}", timeout=60)
    assert r.status == 400, (r.status, r.body[:200])
    assert fmt.encode() in r.body and limit.encode() in r.body, r.body
    assert r.elapsed < 5, f"refusing took {r.elapsed:.1f} s: it decoded first"
    just_fits = {"webp": "^16383,", "pdf": "^14400,"}.get(fmt)
    if just_fits:
        ok = fx.request(s.port, f"/iiif/3/grid.png/0,0,1000,1/{just_fits}/0/default.{fmt}",
                        timeout=120)
        assert ok.status == 200, (fmt, ok.status, ok.body[:200])


@pytest.mark.parametrize("fmt,limit", [(f, int(lim)) for f, _, lim in ENCODER_LIMITS],
                         ids=[e[0] for e in ENCODER_LIMITS])
def test_encoder_limits_apply_after_rotation(pool, fmt, limit):
    """A square that fits turned by 45 degrees has a bounding box about 1.41 times wider: the
    limit holds for what is encoded, and is still known before decoding."""
    s = pool.get("--max-upscale", "0", "--max-area", "100000000000")
    side = math.ceil(limit / math.sqrt(2)) + 20
    r = fx.request(s.port, f"/iiif/3/grid.png/full/^{side},{side}/45/default.{fmt}", timeout=60)
    assert r.status == 400, (r.status, r.body[:200])
    assert fmt.encode() in r.body and str(limit).encode() in r.body, r.body
    assert r.elapsed < 5, f"refusing took {r.elapsed:.1f} s: it decoded first"


@pytest.mark.parametrize("fmt", ["png", "tif"])
def test_formats_without_a_side_limit_of_their_own(pool, fmt):
    """PNG and TIFF (and JPEG 2000) hold any side up to the request's own limit."""
    s = pool.get("--max-upscale", "0", "--max-area", "100000000000")
    r = fx.request(s.port, f"/iiif/3/grid.png/0,0,1000,1/^70000,/0/default.{fmt}", timeout=120)
    assert r.status == 200, (r.status, r.body[:200])
    assert r.image().size == (70000, 70)
