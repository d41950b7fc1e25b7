"""Hostile clients (issue #10 §1): slow and idle sockets, per-client limits, trusted proxies,
request smuggling, bodies refused before they are read, and a fixed CORS preflight.

Slow-client tests open a few hundred sockets, each bound to its own 127.x.y.z address (the whole
127.0.0.0/8 is local), so a per-address limit cannot hide the problem; `make soak` and
`make bench` run the full 2,000. Timeouts here are generous: these tests check behaviour, not
speed.
"""

import re
import select
import socket
import subprocess
import time

import fixtures as fx
import pytest

TILE = "/iiif/3/grid.png/0,0,256,256/256,/0/default.jpg"


def _addr(i):
    """A distinct loopback address per socket: 127.10.x.y (never 127.0.0.1, the normal client)."""
    return f"127.10.{(i // 250) % 250 + 1}.{i % 250 + 1}"


def _connect(port, source="127.0.0.1", timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def _raw(port, data, source="127.0.0.1", timeout=10):
    """Sends raw bytes; returns (status, headers text, closed) where closed says the server
    closed the connection after its answer."""
    s = _connect(port, source, timeout)
    try:
        s.sendall(data)
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in buf and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        m = re.match(r"HTTP/1\.[01] (\d{3})", head)
        status = int(m.group(1)) if m else None
        closed = _closed_within(s, 5)
        return status, head, closed
    finally:
        s.close()


def _closed_within(s, seconds):
    """True when the peer closes (EOF or reset) within seconds; reads and drops any body."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            return False
        try:
            if not s.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def _threads(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def _normal_client_ok(port, rounds):
    """/health and a tile from 127.0.0.1, each answered in time: returns the failures."""
    failures = []
    for i in range(rounds):
        for path in ("/health", TILE):
            try:
                r = fx.request(port, path, timeout=10)
                if r.status != 200:
                    failures.append(f"{path}: {r.status}")
            except OSError as e:
                failures.append(f"{path}: {e!r}")
    return failures


class Trickler:
    """n sockets from n addresses sending an unfinished request one byte every `every` s."""

    def __init__(self, port, n, every=0.5):
        self.every = every
        self.socks = []
        for i in range(n):
            s = _connect(port, _addr(i))
            s.setblocking(False)
            s.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            self.socks.append(s)
        self.next = time.monotonic() + every

    def tick(self):
        """Sends one more byte on every open socket; returns how many are still open."""
        if time.monotonic() < self.next:
            return self.open()
        self.next = time.monotonic() + self.every
        for i, s in enumerate(self.socks):
            if s is None:
                continue
            try:
                if s.recv(1) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                self.socks[i] = None
                continue
            try:
                s.send(b"X")
            except OSError:
                s.close()
                self.socks[i] = None
        return self.open()

    def open(self):
        return sum(1 for s in self.socks if s is not None)

    def close(self):
        for s in self.socks:
            if s is not None:
                s.close()


@pytest.mark.slowish
def test_trickling_clients_are_cut_at_the_header_deadline(server_factory):
    """Sockets that trickle a byte every 0.5 s (never idle long enough for an inactivity timeout)
    are closed once the total header deadline passes, while a normal client is always served and
    the thread count does not grow with the connections."""
    s = server_factory(args=["--header-timeout", "3", "--workers", "8"])
    before = _threads(s.proc.pid)
    t = Trickler(s.port, 300)
    try:
        t.tick()
        during = _threads(s.proc.pid)
        failures = _normal_client_ok(s.port, 5)
        deadline = time.monotonic() + 20
        while t.tick() and time.monotonic() < deadline:
            time.sleep(0.05)
        still_open = t.open()
    finally:
        t.close()
    assert not failures, f"a normal client was not served: {failures[:5]}"
    assert still_open == 0, f"{still_open} of 300 trickling sockets still open 20 s after a " \
                            f"3 s header deadline"
    assert during - before < 20, f"threads grew from {before} to {during} with 300 connections"


@pytest.mark.slowish
def test_idle_keepalive_connections_are_closed(server_factory):
    s = server_factory(args=["--keepalive-timeout", "2"])
    socks = []
    try:
        for i in range(200):
            c = _connect(s.port, _addr(i))
            c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(c)
        for c in socks:  # read each answer; the connection stays open (keep-alive)
            assert b"200" in c.recv(4096).split(b"\r\n")[0]
        failures = _normal_client_ok(s.port, 3)
        t0 = time.monotonic()
        closed = sum(1 for c in socks if _closed_within(c, max(0.1, 15 - (time.monotonic() - t0))))
    finally:
        for c in socks:
            c.close()
    assert not failures, failures[:5]
    assert closed == 200, f"only {closed} of 200 idle keep-alive connections were closed"


@pytest.mark.slowish
def test_per_client_connection_limit_and_proxy_exemption(server_factory):
    s = server_factory(args=["--max-connections-per-client", "5",
                             "--trusted-proxies", "127.20.0.2"])
    held = [_connect(s.port, "127.20.0.1") for _ in range(5)]
    proxy = [_connect(s.port, "127.20.0.2") for _ in range(8)]
    try:
        time.sleep(0.3)
        extra = _connect(s.port, "127.20.0.1")
        extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        refused = _closed_within(extra, 5)
        extra.close()
        status, _, _ = _raw(s.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "127.20.0.3")
        for p in proxy:  # the trusted proxy is over the limit and still served
            p.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b" 200 " in p.recv(4096).split(b"\r\n")[0]
    finally:
        for c in held + proxy:
            c.close()
    assert refused, "a sixth connection from one address was accepted"
    assert status == 200, "another address was refused"
    assert "max-connections-per-client" in s.stderr_text()


@pytest.mark.slowish
def test_client_address_from_trusted_proxies_only(server_factory):
    s = server_factory(args=["--trusted-proxies", "127.30.0.1, 10.0.0.0/8"])
    fwd = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.7, 10.1.2.3\r\n\r\n"
    assert _raw(s.port, fwd, "127.30.0.1")[0] == 200
    assert _raw(s.port, fwd, "127.30.0.9")[0] == 200  # not a proxy: header ignored
    rfc = (b"GET /iiif/3/grid.png/info.json HTTP/1.1\r\nHost: x\r\n"
           b"Forwarded: for=\"[2001:db8::17]:4711\";proto=https, for=10.9.9.9\r\n\r\n")
    assert _raw(s.port, rfc, "127.30.0.1")[0] == 200
    time.sleep(0.3)
    log = s.stderr_text()
    assert re.search(r"access 198\.51\.100\.7 GET /health 200", log), log[-2000:]
    assert re.search(r"access 127\.30\.0\.9 GET /health 200", log), log[-2000:]
    assert re.search(r"access 2001:db8::17 GET /iiif/3/grid.png/info.json 200", log), log[-2000:]


def test_bad_trusted_proxies_setting_is_a_usage_error(iiifd_bin, tmp_path, root):
    r = subprocess.run([iiifd_bin, "serve", "--port", str(fx.free_port()), "--trusted-proxies",
                        "10.0.0.0/99", "--data-dir", str(tmp_path / "data"), "--cache-dir",
                        str(tmp_path / "cache"), str(root)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "trusted-proxies" in r.stderr and "10.0.0.0/99" in r.stderr


SMUGGLING = {
    "duplicate Content-Length": b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                b"Content-Length: 3\r\n\r\nabc",
    "conflicting Content-Length": b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                  b"Content-Length: 30\r\n\r\nabc",
    "Content-Length and Transfer-Encoding": b"POST /health HTTP/1.1\r\nHost: x\r\n"
                                            b"Content-Length: 4\r\nTransfer-Encoding: chunked"
                                            b"\r\n\r\n0\r\n\r\n",
    "unknown transfer coding": b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, "
                               b"chunked\r\n\r\n0\r\n\r\n",
    "missing Host": b"GET /health HTTP/1.1\r\n\r\n",
    "duplicate Host": b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(SMUGGLING))
def test_ambiguous_framing_is_refused_and_closed(server, case):
    status, head, closed = _raw(server.port, SMUGGLING[case])
    assert status == 400, f"{case}: {head!r}"
    assert closed, f"{case}: the connection stayed open after a framing error"


def _token_server(server_factory):
    return server_factory(args=["--api-token", "s3cret"])


@pytest.mark.slowish
def test_bodies_are_refused_before_they_are_read(server_factory):
    """The answer comes although the announced body is never sent: nothing waited for it."""
    s = _token_server(server_factory)
    path = "/iiif/presentation/grid.png/manifest/annotations"
    cases = [
        (b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 405),
        (b"POST /iiif/3/grid.png/info.json HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
         405),
        (b"POST /iiif/presentation/grid.png/manifest HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: 10\r\n\r\n", 404),
        (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", 401),
        (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
         b"Content-Length: 10\r\n\r\n", 403),
        (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
         b"Content-Length: 50000000\r\n\r\n", 413),
    ]
    for data, want in cases:
        status, head, closed = _raw(s.port, data, timeout=10)
        assert status == want, f"{data[:60]!r}: {head!r}"
        assert closed, f"{data[:60]!r}: connection kept open with an unread body"


@pytest.mark.slowish
def test_chunked_body_over_the_cap_is_413(server_factory):
    s = _token_server(server_factory)
    path = b"/iiif/presentation/grid.png/manifest/annotations"
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    data = (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    status, head, _ = _raw(s.port, data, timeout=20)
    assert status == 413, head


def test_preflight_never_reflects_requested_headers(server):
    r = fx.request(server.port, "/iiif/3/grid.png/info.json", method="OPTIONS",
                   headers={"Origin": "https://viewer.example",
                            "Access-Control-Request-Method": "GET",
                            "Access-Control-Request-Headers": "X-Evil, Authorization"})
    assert r.status == 204
    allowed = [h.strip().lower() for h in r.header("Access-Control-Allow-Headers").split(",")]
    assert "authorization" in allowed and "range" in allowed
    assert "x-evil" not in allowed


@pytest.mark.slowish
def test_many_connections_need_few_threads(server_factory):
    """500 open connections (from 500 addresses) leave the thread count where it was."""
    s = server_factory(args=["--workers", "8"])
    fx.request(s.port, "/health")
    before = _threads(s.proc.pid)
    socks = []
    try:
        for i in range(500):
            socks.append(_connect(s.port, _addr(i)))
        time.sleep(0.5)
        during = _threads(s.proc.pid)
        assert not _normal_client_ok(s.port, 2)
    finally:
        for c in socks:
            c.close()
    assert during <= before + 4, f"threads went from {before} to {during} with 500 connections"


@pytest.mark.slowish
def test_slow_renders_do_not_stall_other_connections(server_factory):
    """Renders queue for one render slot on the workers; /health and an already cached tile are
    answered on the I/O threads meanwhile."""
    import threading

    s = server_factory(args=["--threads", "1", "--large-renders", "1", "--workers", "4",
                             "--queue-wait-ms", "60000"])
    tile = "/iiif/3/grid.png/0,0,200,200/200,/0/default.jpg"
    assert fx.request(s.port, tile).status == 200  # now cached
    results = []

    def render(i):
        r = fx.request(s.port, f"/iiif/3/grid.png/full/^{1900 + i},/{10 + i}/default.png",
                       timeout=120)
        results.append(r.status)

    threads = [threading.Thread(target=render, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    slow = []
    for _ in range(10):
        for path in ("/health", tile):
            r = fx.request(s.port, path, timeout=10)
            if r.status != 200 or r.elapsed > 2.0:
                slow.append((path, r.status, round(r.elapsed, 2)))
    for t in threads:
        t.join()
    assert not slow, f"answers delayed behind renders: {slow}"
    assert results == [200] * 6, results
