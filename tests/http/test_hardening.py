"""Bad input everywhere gets a clear error and stores nothing broken (issue #10 §3)."""

import socket
import time

import fixtures as fx
import pytest


def _raw_request(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(data)
        return s.recv(4096)
    finally:
        s.close()


@pytest.mark.slowish
def test_control_characters_never_reach_the_log_raw(server_factory):
    """ESC, DEL and a forged line in a URL are written escaped in every log line."""
    s = server_factory()
    answer = _raw_request(s.port, b"GET /iiif/3/\x1b[31mRED\x7f\x01/info.json HTTP/1.1\r\n"
                                  b"Host: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404")
    fx.request(s.port, "/iiif/3/a%0d%0a2026-01-01T00:00:00Z%20info%20forged/info.json")
    time.sleep(0.3)
    with open(s.stderr_path, "rb") as f:
        log = f.read()
    assert b"\x1b" not in log and b"\x7f" not in log and b"\x01" not in log
    assert b"\\x1b[31mRED\\x7f\\x01" in log, log[-1500:]
    assert not any(line.startswith(b"2026-01-01T00:00:00Z") for line in log.splitlines())


@pytest.mark.parametrize("value", [",gzip", ",", " , ;q=1", ";", "gzip;;q=0,", "*;q=nan"])
def test_odd_accept_encoding_never_crashes(server_factory, value):
    """`Accept-Encoding: ,gzip` on any compressible answer (a Collection) crashed the server
    (an empty entry split into no parts, then NULL was stripped). Found by fuzz_accept_encoding."""
    s = server_factory()
    r = fx.request(s.port, "/iiif/presentation/collection", headers={"Accept-Encoding": value})
    assert r.status == 200
    assert s.alive(), "the server died"
    assert fx.request(s.port, "/health").status == 200


@pytest.mark.parametrize("query", ["q=%zz", "q=caf%e9", "q=ok&motivation=%", "page=%G1"])
def test_malformed_search_parameters_are_400(server, query):
    """A bad %-escape or a value that is not UTF-8 is an error, not an absent parameter (which
    would turn `q=%zz` into a search for everything)."""
    for service in ("search", "search1", "autocomplete"):
        r = fx.request(server.port, f"/iiif/presentation/collection/{service}?{query}")
        assert r.status == 400, (service, query, r.status, r.body[:200])
        assert b"malformed" in r.body, r.body


@pytest.mark.slowish
def test_broken_media_file_is_logged_once_per_version(server_factory, tmp_path):
    """A corrupt image left out of its Manifest is reported once, not at every request; a new
    version of the file is reported again."""
    import os
    from PIL import Image

    root = tmp_path / "media-root"
    (root / "book").mkdir(parents=True)
    Image.new("RGB", (64, 48), (200, 10, 10)).save(root / "book" / "good.png")
    bad = root / "book" / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 4)
    s = server_factory(root_dir=str(root))

    def mentions():
        with open(s.stderr_path, "rb") as f:
            return sum(1 for line in f if b"bad.png" in line and b"left out of" in line)

    for _ in range(5):
        assert fx.request(s.port, "/iiif/presentation/book/manifest").status == 200
    time.sleep(0.3)
    assert mentions() == 1
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"still not a png" * 5)
    os.utime(bad, (1, 1))
    for _ in range(3):
        assert fx.request(s.port, "/iiif/presentation/book/manifest").status == 200
    time.sleep(0.3)
    assert mentions() == 2
