"""Command line and config file: --help, --version, unknown flags, INI config, flags overriding
the file, every key as both flag and config key, SIGTERM shutdown."""

import os
import re
import signal
import subprocess
import time

import pytest

import fixtures as fx


def run_bin(iiifd_bin, *args, timeout=20):
    return subprocess.run([iiifd_bin, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_help(iiifd_bin):
    p = run_bin(iiifd_bin, "--help")
    assert p.returncode == 0, p.stderr
    out = (p.stdout + p.stderr).lower()
    assert "usage" in out and "serve" in out
    for flag in ("--port", "--host", "--config", "--public-url", "--max-area", "--cache-control"):
        assert flag in out, f"{flag} not documented in --help"


def test_version(iiifd_bin):
    p = run_bin(iiifd_bin, "--version")
    assert p.returncode == 0, p.stderr
    assert re.fullmatch(r"iiifd \d+\.\d+\.\d+\s*", p.stdout), repr(p.stdout)


@pytest.mark.parametrize("args", [("--no-such-flag",), ("serve", "--no-such-flag", "/tmp"),
                                  ("serve", "--bogus=1", "/tmp")])
def test_unknown_flag_exits_2(iiifd_bin, args):
    p = run_bin(iiifd_bin, *args)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip(), "no message on stderr"
    flag = args[-2] if args[0] == "serve" else args[0]
    assert flag.split("=")[0].lstrip("-") in p.stderr, p.stderr


@pytest.mark.parametrize("args", [("serve", "--port", "notaport", "{root}"),
                                  ("serve", "--port", "70000", "{root}"),
                                  ("serve", "--max-area", "-5", "{root}"),
                                  ("serve", "--trust-forwarded", "maybe", "{root}"),
                                  ("serve", "--port", "{port}", "--host", "127.0.0.1",
                                   "/nonexistent/iiifd-root")])
def test_invalid_values_fail_fast(iiifd_bin, root, args):
    port = str(fx.free_port())
    args = [a.replace("{root}", root).replace("{port}", port) for a in args]
    try:
        p = run_bin(iiifd_bin, *args, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args} kept running instead of rejecting the value")
    assert p.returncode != 0
    assert p.stderr.strip()


# ---------------------------------------------------------------------------------------------
# SIGTERM
# ---------------------------------------------------------------------------------------------
def test_sigterm_exits_zero(server_factory):
    s = server_factory()
    assert s.get("/iiif/3/tiny.png/full/max/0/default.jpg").status == 200
    t0 = time.monotonic()
    code = s.stop(signal.SIGTERM, timeout=5)
    assert code == 0, f"exit code {code} after SIGTERM; stderr tail:\n{s.stderr_text()[-2000:]}"
    assert time.monotonic() - t0 < 5


def test_sigterm_with_idle_keepalive_connection(server_factory):
    import http.client
    s = server_factory()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    conn.request("GET", "/health")
    conn.getresponse().read()
    try:
        code = s.stop(signal.SIGTERM, timeout=5)
    finally:
        conn.close()
    assert code == 0, f"exit code {code}; stderr tail:\n{s.stderr_text()[-2000:]}"


# ---------------------------------------------------------------------------------------------
# config file
# ---------------------------------------------------------------------------------------------
def test_config_file_sets_port_and_public_url(server_factory):
    s = server_factory(config={"public-url": "http://from-file.example"}, port_in_config=True)
    j = s.get("/iiif/3/tiny.png/info.json").json()
    assert j["id"] == "http://from-file.example/iiif/3/tiny.png"


def test_flags_override_file(server_factory):
    s = server_factory(config={"public-url": "http://from-file.example",
                               "cache-control": "max-age=1"},
                       args=["--public-url", "http://from-flag.example"])
    r = s.get("/iiif/3/tiny.png/info.json")
    assert r.json()["id"] == "http://from-flag.example/iiif/3/tiny.png"
    assert r.header("Cache-Control") == "max-age=1"


def test_flag_port_overrides_file_port(iiifd_bin, root, tmp_path):
    file_port, flag_port = fx.free_port(), fx.free_port()
    cfg = tmp_path / "c.ini"
    # its own data and cache folders: the defaults in /var/tmp are shared with every other iiifd
    cfg.write_text(f"port = {file_port}\nhost = 127.0.0.1\ndata-dir = {tmp_path / 'data'}\n"
                   f"cache-dir = {tmp_path / 'cache'}\n")
    p = subprocess.Popen([iiifd_bin, "serve", "--config", str(cfg), "--port", str(flag_port), root],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, ok = time.time() + 30, False
        while time.time() < deadline and p.poll() is None:
            try:
                ok = fx.request(flag_port, "/health", timeout=2).status == 200
                break
            except OSError:
                time.sleep(0.05)
        assert ok, "not listening on the --port given on the command line"
        with pytest.raises(OSError):
            fx.request(file_port, "/health", timeout=2)
    finally:
        p.kill()
        p.wait(10)


def test_config_comments_and_blank_lines(server_factory, tmp_path):
    cfg = tmp_path / "comments.ini"
    cfg.write_text("; a comment\n# another comment\n\nrights = http://rightsstatements.org/vocab/InC/1.0/\n"
                   "max-area   =   90000   \n"
                   "max-upscale = 0\n")  # the configured maxArea alone, not what upscaling allows
    s = server_factory(args=["--config", str(cfg)])
    j = s.get("/iiif/3/tiny.png/info.json").json()
    assert j["rights"] == "http://rightsstatements.org/vocab/InC/1.0/"
    assert j["maxArea"] == 90000


ALL_KEYS = {
    "host": "127.0.0.1",
    "public-url": "http://all.example/base",
    "threads": "3",
    "max-area": "200000",
    "max-width": "700",
    "max-height": "600",
    "cache-control": "private, max-age=77",
    "trust-forwarded": "false",
    "rights": "http://creativecommons.org/publicdomain/zero/1.0/",
    "jpeg-quality": "40",
}


def _check_all_keys(s):
    r = s.get("/iiif/3/grid.png/info.json", headers={"X-Forwarded-Host": "x.example"})
    j = r.json()
    assert j["id"] == "http://all.example/base/iiif/3/grid.png"
    assert j["maxArea"] == 200000 and j["maxWidth"] == 700 and j["maxHeight"] == 600
    assert j["rights"] == ALL_KEYS["rights"]
    assert r.header("Cache-Control") == "private, max-age=77"
    w, h = s.get("/iiif/3/grid.png/full/max/0/default.jpg").image().size
    assert w == h and w * h <= 200000 and w >= 440, (w, h)
    assert s.get("/iiif/3/grid.png/full/500,500/0/default.jpg").status == 400


@pytest.mark.parametrize("how", ["config", "flags"])
def test_every_key_as_config_and_flag(server_factory, how):
    if how == "config":
        s = server_factory(config=ALL_KEYS, port_in_config=True)
    else:
        args = []
        for k, v in ALL_KEYS.items():
            if k != "host":  # the harness passes --host itself
                args += [f"--{k}", v]
        s = server_factory(args=args)
    _check_all_keys(s)


def test_jpeg_quality(server_factory):
    lo = server_factory(args=["--jpeg-quality", "20"])
    hi = server_factory(args=["--jpeg-quality", "95"])
    path = "/iiif/3/noise.png/full/max/0/default.jpg"
    a, b = lo.get(path), hi.get(path)
    assert a.status == b.status == 200
    assert len(a.body) * 1.5 < len(b.body), (len(a.body), len(b.body))


def test_threads_flag_accepts_values(server_factory):
    s = server_factory(args=["--threads", "2"])
    assert s.get("/health").status == 200
