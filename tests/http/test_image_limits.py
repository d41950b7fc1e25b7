"""Expensive requests must not starve others (issue #10 §2): the upscaling limit, fair turns in
the render queues, and encoder limits refused before any decoding."""

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


@pytest.mark.slowish
def test_one_client_cannot_hold_every_large_render_slot(server_factory):
    """Client A starts three large renders, client B one just after: with two large slots B
    gets the next free one, ahead of A's third, instead of waiting behind all of A's."""
    s = server_factory(args=["--large-renders", "2", "--threads", "1", "--queue-wait-ms",
                             "120000", "--cache", "false", "--max-upscale", "0"])
    done = []
    lock = threading.Lock()

    def render(source, i):
        status, _, _ = _get(s.port, f"/iiif/3/grid.png/full/^{7000 + i},/{i}/default.jpg",
                            source)
        with lock:
            done.append((source, status))

    a = [threading.Thread(target=render, args=("127.0.0.2", i)) for i in range(3)]
    for t in a:
        t.start()
        time.sleep(0.05)
    time.sleep(0.3)
    b = threading.Thread(target=render, args=("127.0.0.3", 9))
    b.start()
    for t in a + [b]:
        t.join()
    assert [st for _, st in done] == [200] * 4, done
    order = [src for src, _ in done]
    assert order.index("127.0.0.3") < 3, f"client B finished last, behind all of A's: {order}"


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
