"""An S3-compatible server for the tests: s3rver from npm (scripts/install-test-services), started
on a free port of 127.0.0.1 over a temporary folder with one bucket, and a counting proxy in
front of it that tells how many requests (HEAD, GET, ranged GET, listing) iiifd made.

s3rver does not check signatures (the unit tests check ours against AWS's examples); it stores
objects written by a plain PUT. Missing s3rver is a failure, not a skip: make test installs it.
"""

import http.client
import http.server
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import fixtures as fx

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
S3RVER = os.path.join(REPO, "build", "test-services", "node_modules", ".bin", "s3rver")
BUCKET = "bkt"


class S3Server:
    """s3rver on a free port; put() stores objects, stop() ends it and removes its folder."""

    def __init__(self):
        assert os.access(S3RVER, os.X_OK), f"{S3RVER} missing: run scripts/install-test-services"
        self.dir = tempfile.mkdtemp(prefix="iiifd-s3-")
        self.port = fx.free_port()
        env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
        self.proc = subprocess.Popen(
            [S3RVER, "-d", self.dir, "-a", "127.0.0.1", "-p", str(self.port), "--silent",
             "--configure-bucket", BUCKET],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            env=env)
        fx.wait_for(self._answers, "s3rver to answer", timeout=30)

    def _answers(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("HEAD", "/")
            conn.getresponse().read()
            conn.close()
            return True
        except OSError:
            return False

    def _request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def put(self, key, data):
        status, body = self._request("PUT", f"/{BUCKET}/{key}", data)
        assert status == 200, (key, status, body[:300])

    def put_file(self, key, path):
        with open(path, "rb") as f:
            self.put(key, f.read())

    def delete(self, key):
        status, _ = self._request("DELETE", f"/{BUCKET}/{key}")
        assert status in (200, 204), (key, status)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class CountingProxy:
    """Forwards every request to the S3 server unchanged and counts them by kind:
    "HEAD", "GET" (a whole object), "RANGE" (a ranged GET), "LIST" (a bucket listing); and the
    body bytes of the GETs' answers (body_bytes, bytes_since)."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.counts = {}
        self.body_bytes = 0
        self.ranges = []  # (key, Range header) of every ranged GET, in order
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy._count(self.command, self.path, self.headers.get("Range"))
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in ("connection", "keep-alive")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    data = r.read()
                finally:
                    conn.close()
                if self.command == "GET":
                    proxy._add_bytes(len(data))
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                elif r.getheader("Content-Length") is not None:
                    self.send_header("Content-Length", r.getheader("Content-Length"))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_DELETE = _forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def _count(self, method, path, rng):
        if method == "GET" and "list-type=" in path:
            kind = "LIST"
        elif method == "GET" and rng:
            kind = "RANGE"
        else:
            kind = method
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind == "RANGE":
                self.ranges.append((path, rng))

    def _add_bytes(self, n):
        with self.lock:
            self.body_bytes += n

    def bytes_since(self, before):
        with self.lock:
            return self.body_bytes - before

    def snapshot(self):
        with self.lock:
            return dict(self.counts)

    def since(self, before):
        now = self.snapshot()
        return {k: now.get(k, 0) - before.get(k, 0) for k in set(now) | set(before)
                if now.get(k, 0) - before.get(k, 0)}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def s3_args(endpoint, ttl=None):
    """The serve flags that point iiifd at the test server (credentials are not checked)."""
    args = ["--s3-endpoint", endpoint, "--s3-access-key", "S3RVER", "--s3-secret-key", "S3RVER",
            "--s3-region", "us-east-1"]
    if ttl is not None:
        args += ["--storage-ttl", str(ttl)]
    return args


def wait_until(predicate, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
