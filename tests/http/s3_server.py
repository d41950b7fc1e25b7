"""An S3-compatible server for the end-to-end tests of object-storage roots: s3rver from npm
(scripts/install-test-services installs it into build/test-services), started on a free port of
127.0.0.1 over a temporary folder with one bucket, and stopped by pid at the end.

s3rver does not check signatures, so the tests write objects with plain unsigned PUTs and
DELETEs; iiifd signs its own requests as it would for AWS.
"""

import http.client
import os
import signal
import subprocess
import time
import urllib.parse

import fixtures as fx

HERE = os.path.dirname(os.path.abspath(__file__))
S3RVER = os.path.join(HERE, "..", "..", "build", "test-services", "node_modules", ".bin",
                      "s3rver")


class S3Server:
    def __init__(self, workdir, bucket="bkt"):
        self.workdir, self.bucket = str(workdir), bucket
        self.proc = None
        self.port = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20):
        if not os.access(S3RVER, os.X_OK):
            raise AssertionError(f"{S3RVER} is missing: run scripts/install-test-services")
        self.port = fx.free_port()
        data = os.path.join(self.workdir, "s3rver-data")
        os.makedirs(data, exist_ok=True)
        env = dict(os.environ)
        # s3rver 3.7 makes continuation tokens with a cipher Node 18 keeps in its legacy set
        env["NODE_OPTIONS"] = "--openssl-legacy-provider"
        self.log = open(os.path.join(self.workdir, "s3rver.log"), "wb")
        self.proc = subprocess.Popen(
            [S3RVER, "-d", data, "-a", "127.0.0.1", "-p", str(self.port), "--silent",
             "--configure-bucket", self.bucket],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "")[0] == 200:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise AssertionError("s3rver did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def request(self, method, key, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        path = f"/{self.bucket}/{urllib.parse.quote(key)}" if key else f"/{self.bucket}"
        conn.request(method, path, body=body)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, data

    def put(self, key, data):
        status, body = self.request("PUT", key, data)
        assert status == 200, f"PUT {key}: {status} {body[:200]!r}"

    def delete(self, key):
        status, body = self.request("DELETE", key)
        assert status == 204, f"DELETE {key}: {status} {body[:200]!r}"

    def upload_tree(self, folder, prefix):
        """Every file below folder, as objects below prefix (keys with '/' separators)."""
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, folder).replace(os.sep, "/")
                with open(path, "rb") as f:
                    self.put(f"{prefix}/{rel}", f.read())

    def env(self):
        """The environment iiifd reads its endpoint and credentials from (s3.h)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER"}
