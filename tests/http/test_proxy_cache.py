"""A cache in front (docs/deployment.md): nginx from Debian, configured by dist/nginx-iiifd.conf
itself (only its paths and ports changed), in front of iiifd. Images are kept and revalidated
with If-None-Match (304 while the source is unchanged, the new picture once it is replaced);
Manifests always come from iiifd; nothing private is kept."""

import http.client
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
from PIL import Image

import fixtures as fx

HERE = os.path.dirname(__file__)
EXAMPLE = os.path.join(HERE, "..", "..", "dist", "nginx-iiifd.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MAX_AGE = 2  # seconds: the test waits this long for entries to expire


def example_for(iiifd_port, nginx_port, cache_dir):
    """dist/nginx-iiifd.conf with its paths and ports set for this test, nothing else changed."""
    with open(EXAMPLE) as f:
        conf = f.read()
    subs = [(r"proxy_cache_path /var/cache/nginx/iiifd", f"proxy_cache_path {cache_dir}"),
            (r"server 127\.0\.0\.1:8182;", f"server 127.0.0.1:{iiifd_port};"),
            (r"listen 80;", f"listen 127.0.0.1:{nginx_port};")]
    for pattern, repl in subs:
        conf, n = re.subn(pattern, repl, conf)
        assert n == 1, f"dist/nginx-iiifd.conf no longer has {pattern!r}: update this test"
    return conf


class Nginx:
    def __init__(self, workdir, iiifd_port):
        self.dir = workdir
        self.port = fx.free_port()
        os.makedirs(os.path.join(workdir, "logs"), exist_ok=True)
        site = example_for(iiifd_port, self.port, os.path.join(workdir, "cache"))
        with open(os.path.join(workdir, "site.conf"), "w") as f:
            f.write(site)
        # the main file a Debian nginx.conf would be, reduced to what a test needs
        with open(os.path.join(workdir, "nginx.conf"), "w") as f:
            f.write(f"""daemon off;
master_process off;
pid {workdir}/nginx.pid;
error_log {workdir}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {workdir}/logs/access.log;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {workdir}/site.conf;
}}
""")
        self.proc = subprocess.Popen([NGINX, "-p", workdir, "-c", f"{workdir}/nginx.conf"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        fx.wait_for(self.answers, "nginx to listen", timeout=15)

    def answers(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"nginx exited: {self.proc.stderr.read().decode()[-2000:]}")
        try:
            self.get("/nginx-probe")
            return True
        except OSError:
            return False

    def get(self, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", path, headers={"Host": "iiif.example.org", **(headers or {})})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def image_root(tmp_path):
    """A root with one image, a.png; and nginx, which the tests need."""
    if not os.path.exists(NGINX):
        pytest.fail("nginx is not installed: scripts/install-deps installs it")
    root = tmp_path / "root"
    root.mkdir()
    Image.fromarray(fx.GRID.rgb()).save(root / "a.png")
    return root


@pytest.fixture
def behind_nginx(server_factory, tmp_path):
    root = image_root(tmp_path)
    os.makedirs(root / "book")
    Image.new("RGB", (300, 200), (200, 10, 10)).save(root / "book" / "p1.png")
    s = server_factory(args=("--cache-control", f"public, max-age={MAX_AGE}"),
                       root_dir=str(root))
    n = Nginx(str(tmp_path / "nginx"), s.port)
    yield n, root, s
    n.stop()


TILE = "/iiif/3/a.png/0,0,100,100/100,/0/default.png"


def test_tiles_are_kept_then_revalidated(behind_nginx):
    n, _root, _s = behind_nginx
    status, h, first = n.get(TILE)
    assert status == 200 and h["x-cache-status"] == "MISS", h
    assert h.get("etag"), "iiifd gives every image an ETag, for revalidation"
    status, h, again = n.get(TILE)
    assert (status, h["x-cache-status"], again) == (200, "HIT", first), h
    time.sleep(MAX_AGE + 1)
    status, h, later = n.get(TILE)
    assert (status, h["x-cache-status"], later) == (200, "REVALIDATED", first), \
        f"an expired tile whose source is unchanged is revalidated with a 304: {h}"


def test_a_replaced_image_shows_up_after_max_age(behind_nginx):
    n, root, _s = behind_nginx
    _status, h, first = n.get(TILE)
    Image.new("RGB", (400, 300), (7, 200, 9)).save(root / "a.png.new", format="PNG")
    os.replace(root / "a.png.new", root / "a.png")
    _status, h, kept = n.get(TILE)
    assert h["x-cache-status"] == "HIT" and kept == first, "kept until it expires"
    time.sleep(MAX_AGE + 1)
    status, h, fresh = n.get(TILE)
    assert status == 200 and h["x-cache-status"] == "EXPIRED", h
    assert fresh != first
    px = fx.to_rgb_array(Image.open(__import__("io").BytesIO(fresh)))[50, 50]
    assert tuple(int(v) for v in px) == (7, 200, 9), "the new picture, not the kept one"
    info = n.get("/iiif/3/a.png/info.json")
    assert b'"width": 400' in info[2] or b'"width":400' in info[2], info[2][:200]


def test_manifests_always_come_from_iiifd(behind_nginx):
    n, root, _s = behind_nginx
    url = "/iiif/presentation/book/manifest"
    for _ in range(2):
        status, h, body = n.get(url)
        assert status == 200 and h["x-cache-status"] in ("MISS", "EXPIRED"), h
        assert "no-cache" in h.get("cache-control", ""), h
    Image.new("RGB", (300, 200), (0, 0, 0)).save(root / "book" / "p2.png")
    _status, _h, body = n.get(url)
    assert body.count(b'"type": "Canvas"') + body.count(b'"type":"Canvas"') == 2, \
        "a page added to the folder is in the next Manifest through the cache"


def test_nothing_private_is_kept(server_factory, tmp_path):
    root = image_root(tmp_path)
    s = server_factory(args=("--cache-control", "private, max-age=600"), root_dir=str(root))
    n = Nginx(str(tmp_path / "nginx"), s.port)
    try:
        for _ in range(2):
            status, h, _body = n.get(TILE)
            assert status == 200 and h["x-cache-status"] == "MISS", h
    finally:
        n.stop()
