"""iiifd shipped like a daemon: `make install`, the systemd unit, the man pages, logging to the
journal, SIGHUP reloading the config and SIGTERM draining requests in flight.

The install tests run the real Makefile (BIN= the binary under test, so nothing is rebuilt) into
a temporary folder; the unit is checked with systemd-analyze, the man pages with groff -ww.
"""

import ctypes
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
from PIL import Image

import fixtures as fx

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

INSTALLED = [
    "bin/iiifd",
    "lib/systemd/system/iiifd.service",
    "share/doc/iiifd/iiifd.conf.example",
    "share/man/man1/iiifd.1",
    "share/man/man5/iiifd.conf.5",
]


def _need(tool):
    path = shutil.which(tool)
    if not path:
        pytest.fail(f"{tool} is not installed (scripts/install-deps installs it)")
    return path


def make(*args):
    p = subprocess.run(["make", "--no-print-directory", "-C", REPO, *args], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, f"make {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p.stdout + p.stderr


def files_below(top):
    return sorted(os.path.relpath(os.path.join(d, f), top)
                  for d, _dirs, names in os.walk(top) for f in names)


@pytest.fixture(scope="module")
def installed(iiifd_bin, tmp_path_factory):
    """make install into a DESTDIR, PREFIX=/usr/local, the way a package build does it."""
    dest = tmp_path_factory.mktemp("destdir")
    out = make("install", f"BIN={iiifd_bin}", "PREFIX=/usr/local", f"DESTDIR={dest}",
               "WEB_DIR=build/no-such-web-dir")
    return dest, out


def test_install_puts_every_file_in_place_and_the_binary_runs(installed):
    dest, out = installed
    prefix = os.path.join(dest, "usr", "local")
    assert files_below(prefix) == INSTALLED
    assert files_below(dest) == [os.path.join("usr", "local", f) for f in INSTALLED]
    binary = os.path.join(prefix, "bin", "iiifd")
    assert os.stat(binary).st_mode & 0o777 == 0o755
    p = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0 and re.fullmatch(r"iiifd \d+\.\d+\.\d+\n", p.stdout), p
    assert "web assets not installed" in out
    unit = open(os.path.join(prefix, "lib/systemd/system/iiifd.service")).read()
    assert "ExecStart=/usr/local/bin/iiifd serve --config /etc/iiifd/iiifd.conf" in unit
    assert "@" not in unit.replace("@system-service", "").replace("~@privileged", "")


def test_install_copies_web_assets_when_built_and_uninstall_removes_everything(
        iiifd_bin, tmp_path):
    web = tmp_path / "web"
    (web / "mirador").mkdir(parents=True)
    (web / "mirador" / "main.js").write_text("console.log('viewer');\n")
    (web / "index.css").write_text("body{}\n")
    dest = tmp_path / "dest"
    make("install", f"BIN={iiifd_bin}", "PREFIX=/opt/iiifd", f"DESTDIR={dest}", f"WEB_DIR={web}")
    prefix = dest / "opt" / "iiifd"
    assert files_below(prefix) == sorted(
        INSTALLED + ["share/iiifd/web/index.css", "share/iiifd/web/mirador/main.js"])
    assert (prefix / "share/iiifd/web/mirador/main.js").read_text() == "console.log('viewer');\n"
    unit = (prefix / "lib/systemd/system/iiifd.service").read_text()
    assert "ExecStart=/opt/iiifd/bin/iiifd serve" in unit
    make("uninstall", "PREFIX=/opt/iiifd", f"DESTDIR={dest}")
    assert files_below(dest) == []


# --------------------------------------------------------------------------------------------
# the systemd unit
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def unit_file(iiifd_bin, tmp_path_factory):
    """The unit installed with PREFIX= a real folder, so its ExecStart names a binary that exists
    here and systemd-analyze can check it (DestDIR installs name one that does not)."""
    prefix = tmp_path_factory.mktemp("prefix")
    make("install", f"BIN={iiifd_bin}", f"PREFIX={prefix}", "WEB_DIR=build/no-such-web-dir")
    return os.path.join(prefix, "lib", "systemd", "system", "iiifd.service")


def unit_settings(path):
    settings = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def systemd_verify(path):
    """systemd-analyze verify: exit status 0 is not enough, since it only warns about unknown
    keys and bad values; a clean unit gives no output at all."""
    p = subprocess.run([_need("systemd-analyze"), "verify", "--man=no", path],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


def test_unit_passes_systemd_analyze_verify(unit_file):
    rc, out = systemd_verify(unit_file)
    assert rc == 0 and out == "", out


def test_systemd_analyze_verify_would_catch_a_broken_unit(unit_file, tmp_path):
    text = open(unit_file).read()
    broken = [text.replace("ProtectSystem=strict", "ProtectSystem=sometimes"),
              text.replace("KillSignal=SIGTERM", "KillSignal=SIGTERMINATE"),
              re.sub(r"ExecStart=\S+", "ExecStart=/nonexistent/iiifd", text)]
    for i, t in enumerate(broken):
        path = tmp_path / f"iiifd{i}.service"
        path.write_text(t)
        rc, out = systemd_verify(str(path))
        assert rc != 0 or out, f"systemd-analyze verify accepted broken unit {i}"


def test_unit_sandbox(unit_file, iiifd_bin):
    s = unit_settings(unit_file)
    one = {k: v[-1] for k, v in s.items()}
    expected = {
        "DynamicUser": "yes", "ProtectSystem": "strict", "ProtectHome": "read-only",
        "PrivateTmp": "yes", "NoNewPrivileges": "yes", "StateDirectory": "iiifd",
        "CacheDirectory": "iiifd", "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "MemoryDenyWriteExecute": "yes", "KillSignal": "SIGTERM", "Restart": "on-failure",
        "ExecReload": "/bin/kill -HUP $MAINPID",
    }
    for k, v in expected.items():
        assert one.get(k) == v, f"{k}={one.get(k)!r}, expected {v!r}"
    assert "@system-service" in s["SystemCallFilter"]
    assert any(p.lstrip("-") .startswith("/") for p in one["ReadOnlyPaths"].split())
    # the only folders the sandbox lets the service write are the ones iiifd writes to
    exec_start = one["ExecStart"].split()
    flags = dict(zip(exec_start[2::2], exec_start[3::2]))
    assert flags["--data-dir"] == "/var/lib/iiifd"      # StateDirectory=iiifd
    assert flags["--cache-dir"] == "/var/cache/iiifd"   # CacheDirectory=iiifd
    help_text = subprocess.run([iiifd_bin, "--help"], capture_output=True, text=True).stdout
    writers = [k for k in ("data-dir", "cache-dir") if f"--{k}" in help_text]
    assert writers == ["data-dir", "cache-dir"]
    # systemd must wait longer than iiifd drains (shutdown-timeout) and than a render already
    # running may take (request-timeout), with the defaults
    for key in ("shutdown-timeout", "request-timeout"):
        default = int(re.search(rf"--{key} .*\(default: (\d+)", help_text).group(1))
        assert int(one["TimeoutStopSec"]) > default, key


def test_unit_security_exposure_is_low(unit_file):
    p = subprocess.run([_need("systemd-analyze"), "security", "--offline=true", "--man=no",
                        unit_file], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for iiifd.service: (\d+\.\d+)", p.stdout + p.stderr)
    assert m, p.stdout + p.stderr
    assert float(m.group(1)) <= 2.0, p.stdout  # docs/deployment.md states 1.4


# --------------------------------------------------------------------------------------------
# man pages
# --------------------------------------------------------------------------------------------
def groff_warnings(path):
    env = dict(os.environ, LC_ALL="C.UTF-8")
    p = subprocess.run([_need("groff"), "-z", "-man", "-ww", "-rCHECKSTYLE=3", str(path)],
                       capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stderr.strip()


def help_options(iiifd_bin):
    text = subprocess.run([iiifd_bin, "--help"], capture_output=True, text=True).stdout
    section = text.split("serve options", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^  --([a-z0-9-]+)", section, re.M)


def man_text(path):
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="200")
    p = subprocess.run([_need("man"), "-l", "-E", "UTF-8", str(path)], capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.replace("\u2010", "-").replace("\u2212", "-")


@pytest.mark.parametrize("page", ["man1/iiifd.1", "man5/iiifd.conf.5"])
def test_man_pages_render_without_warnings(installed, page):
    path = os.path.join(installed[0], "usr/local/share/man", page)
    rc, warnings = groff_warnings(path)
    assert rc == 0 and warnings == "", warnings
    text = man_text(path)
    assert ".\\\" @OPTIONS@\n" not in open(path).read()  # the marker line was replaced
    for section in (["NAME", "SYNOPSIS", "OPTIONS", "SIGNALS", "ENVIRONMENT", "FILES",
                     "EXIT STATUS", "EXAMPLES", "SEE ALSO"] if page.endswith(".1")
                    else ["NAME", "DESCRIPTION", "SETTINGS", "EXAMPLE"]):
        assert re.search(rf"^{section}$", text, re.M), f"{page}: no {section} section"


def test_groff_check_would_catch_a_broken_page(tmp_path):
    bad = tmp_path / "bad.1"
    bad.write_text(".TH BAD 1\n.SH NAME\nbad \\- page\n.XYZ nonsense\n\\fBunclosed \\*[nosuch]\n")
    rc, warnings = groff_warnings(bad)
    assert rc != 0 or warnings


def test_man_pages_list_every_option_of_help(installed, iiifd_bin):
    options = help_options(iiifd_bin)
    assert len(options) > 30 and "max-area" in options and "config" in options
    man1 = man_text(os.path.join(installed[0], "usr/local/share/man/man1/iiifd.1"))
    man5 = man_text(os.path.join(installed[0], "usr/local/share/man/man5/iiifd.conf.5"))
    for name in options:
        assert re.search(rf"^\s+--{re.escape(name)}( |$)", man1, re.M), f"iiifd(1) lacks --{name}"
        if name != "config":
            assert re.search(rf"^\s+{re.escape(name)} = ", man5, re.M), \
                f"iiifd.conf(5) lacks {name}"


def test_man_page_renderer_escapes_roff(tmp_path):
    """A help text starting with '.' or holding a backslash must not turn into roff requests."""
    fake = tmp_path / "fake-iiifd"
    fake.write_text("#!/bin/sh\ncat <<'X'\nusage\n\nserve options (...):\n"
                    "  --config FILE        read FILE\n"
                    "  --odd                .so /etc/passwd and C:\\temp (default: none)\n\nend\nX\n")
    fake.chmod(0o755)
    template = tmp_path / "t.1"
    template.write_text(".TH T 1\n.SH OPTIONS\n.\\\" @OPTIONS@\n")
    p = subprocess.run([os.path.join(REPO, "scripts", "man-page"), str(template), str(fake)],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert "\n\\&.so /etc/passwd and C:\\etemp (default: none)\n" in p.stdout
    out = tmp_path / "out.1"
    out.write_text(p.stdout)
    assert groff_warnings(out) == (0, "")
    assert ".so /etc/passwd and C:\\temp" in man_text(out)


def test_liborc_works_under_memory_deny_write_execute(iiifd_bin, tmp_path):
    """The unit sets MemoryDenyWriteExecute=yes. With simd = true libvips JIT-compiles liborc
    code; liborc then maps a file twice (writable, and read+execute) instead of asking for
    writable executable memory, which MDWE allows. Checked with the kernel's own MDWE
    (prctl PR_SET_MDWE, the same rule as systemd's seccomp filter): renders still succeed and
    the execute mapping of liborc's file is there."""
    Image.new("RGB", (1600, 1200), (200, 30, 90)).save(tmp_path / "big.png")

    def deny_write_execute():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
            os._exit(99)

    port = fx.free_port()
    env = dict(os.environ, TMPDIR=str(tmp_path), HOME=str(tmp_path))
    env.pop("XDG_RUNTIME_DIR", None)
    log = open(tmp_path / "stderr", "wb")
    proc = subprocess.Popen([iiifd_bin, "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--simd", "true", "--cache", "false", "--annotations", "false",
                             "--data-dir", str(tmp_path / "data"),
                             str(tmp_path)], stderr=log, stdout=log, env=env,
                            preexec_fn=deny_write_execute)
    try:
        for _ in range(200):
            if proc.poll() is not None:
                break
            try:
                if fx.request(port, "/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        assert proc.poll() is None, f"exit {proc.returncode} (99: kernel without PR_SET_MDWE)"
        r = fx.request(port, "/iiif/3/big.png/full/733,/0/default.png")
        assert r.status == 200
        img = r.image().convert("RGB")
        assert img.size == (733, 550) and img.getpixel((300, 300)) == (200, 30, 90)
        maps = open(f"/proc/{proc.pid}/maps").read()
        assert re.search(r" r-xs .*orcexec", maps), "liborc compiled nothing: test proves nothing"
        assert not re.search(r" rwx", maps)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()


# --------------------------------------------------------------------------------------------
# logging: timestamped lines, or syslog priorities for the journal
# --------------------------------------------------------------------------------------------
TIMESTAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) \S")


def run_logged(iiifd_bin, tmp_path, args, journal, wait_for_exit=False):
    """Runs `iiifd serve ARGS` with stderr to a file; with journal, JOURNAL_STREAM names that
    file the way systemd names the journal's socket. Returns (lines, exit code or None)."""
    err_path = tmp_path / f"stderr-{journal}-{len(os.listdir(tmp_path))}"
    err = open(err_path, "wb")
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    if journal:
        st = os.fstat(err.fileno())
        env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
    elif journal is None:  # set, but for another file: a child whose stderr was redirected
        st = os.stat(tmp_path)
        env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
    # its own data and cache folders, never the shared defaults in /var/tmp
    own = ["--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache")]
    proc = subprocess.Popen([iiifd_bin, "serve", "--host", "127.0.0.1", *own, *args,
                             str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=err, env=env,
                            cwd=str(tmp_path))
    try:
        if wait_for_exit:
            code = proc.wait(60)
        else:
            port = args[args.index("--port") + 1]
            for _ in range(400):
                try:
                    if fx.request(int(port), "/health", timeout=2).status == 200:
                        break
                except OSError:
                    time.sleep(0.05)
            assert fx.request(int(port), "/no/such/path").status == 404
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
        err.close()
    return err_path.read_text().splitlines(), code


def own_dirs(tmp_path):
    return ["--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "cache")]


@pytest.mark.parametrize("journal", [False, None])
def test_log_lines_are_timestamped_outside_the_journal(iiifd_bin, tmp_path, journal):
    port = str(fx.free_port())
    lines, code = run_logged(iiifd_bin, tmp_path, ["--port", port, "--max-connections",
                                                   "1000000", *own_dirs(tmp_path)], journal)
    assert code == 0
    lines = [l for l in lines if "AddressSanitizer" not in l]
    assert lines and all(TIMESTAMPED.match(l) for l in lines), lines
    assert any(re.search(r" warn max-connections is 1000000", l) for l in lines), lines
    assert any(re.search(r" info access 127\.0\.0\.1 GET /no/such/path 404", l) for l in lines)


def test_log_lines_carry_syslog_priorities_in_the_journal(iiifd_bin, tmp_path):
    port = str(fx.free_port())
    lines, code = run_logged(iiifd_bin, tmp_path, ["--port", port, "--max-connections",
                                                   "1000000", *own_dirs(tmp_path)], True)
    assert code == 0
    assert lines and all(re.match(r"<[3467]>[^<\d ]", l) for l in lines), lines
    assert not any(TIMESTAMPED.match(l[3:]) or re.search(r"\d\d:\d\d:\d\d", l) for l in lines)
    assert "<4>max-connections is 1000000 but only" in "\n".join(lines)
    assert any(l.startswith("<6>access 127.0.0.1 GET /no/such/path 404") for l in lines)
    assert any(l.startswith("<6>iiifd ") and " serving " in l for l in lines)
    # an error: the port is taken by another server
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = str(s.getsockname()[1])
        lines, code = run_logged(iiifd_bin, tmp_path, ["--port", taken, *own_dirs(tmp_path)],
                                 True, wait_for_exit=True)
    assert code == 1
    assert any(l.startswith("<3>cannot listen on 127.0.0.1:" + taken) for l in lines), lines


# --------------------------------------------------------------------------------------------
# SIGTERM: drain requests in flight, refuse new connections, exit 0
# --------------------------------------------------------------------------------------------
BIG = 64 << 20  # more than socket buffers hold, so the response stays in flight until read


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    with open(root / "big.mp4", "wb") as f:
        f.write(os.urandom(BIG))
    return root


def stop_clean(server, timeout=30):
    """SIGTERM; the process must exit 0 with no sanitizer report (leaks are reported at exit)."""
    code = server.stop(timeout=timeout)
    assert code == 0, server.stderr_text()[-3000:]
    found, text = server.new_sanitizer_reports()
    assert not found, text[-3000:]


def start_plain(iiifd_bin, root, tmp_path, *args):
    s = fx.Server(iiifd_bin, str(root), str(tmp_path),
                  args=["--annotations", "false", "--cache", "false", *args], name="drain")
    return s.start()


def open_slow_download(port):
    """Sends a GET for the 64 MiB file and reads only the response head: the rest waits in
    the server until the test reads it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET /iiif/media/big.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, "closed before the response head"
        head += chunk
    head, _, body = head.partition(b"\r\n\r\n")
    return s, head.decode("latin-1"), bytearray(body)


def read_rest(sock, body, timeout=60):
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            body += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return body


def wait_for_log(server, text, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.stderr_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"no '{text}' in the log:\n{server.stderr_text()[-2000:]}")


def connection_refused(port, attempts=250):
    """Whether new connections are refused; a connection accepted just before the listener
    closed is fine as long as a later attempt is refused."""
    for _ in range(attempts):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except ConnectionRefusedError:
            return True
        time.sleep(0.02)
    return False


def test_sigterm_drains_a_request_in_flight_and_refuses_new_connections(
        iiifd_bin, media_root, tmp_path):
    server = start_plain(iiifd_bin, media_root, tmp_path, "--shutdown-timeout", "60")
    sock, head, body = open_slow_download(server.port)
    assert head.startswith("HTTP/1.1 200") and f"Content-Length: {BIG}" in head, head
    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    kept.request("GET", "/health")
    r = kept.getresponse()
    assert r.status == 200 and r.getheader("Connection") != "close"
    r.read()
    server.proc.send_signal(signal.SIGTERM)
    wait_for_log(server, "received SIGTERM, finishing requests in flight")
    assert connection_refused(server.port), "new connections still accepted while draining"
    assert server.alive(), "exited with a request in flight"
    # a kept-alive connection's next request is still answered, and told to close
    kept.request("GET", "/health")
    r = kept.getresponse()
    assert r.status == 200 and r.getheader("Connection") == "close"
    r.read()
    kept.close()
    body = read_rest(sock, body)
    sock.close()
    assert len(body) == BIG
    assert hashlib.sha256(body).digest() == hashlib.sha256(
        (media_root / "big.mp4").read_bytes()).digest()
    stop_clean(server, timeout=60)  # shutdown-timeout bounds it; it was not needed
    log = server.stderr_text()
    assert "still running" not in log and "stopped" in log, log[-2000:]
    assert f"GET /iiif/media/big.mp4 200 {BIG}" in log


def test_sigterm_cuts_a_request_still_running_after_shutdown_timeout(
        iiifd_bin, media_root, tmp_path):
    server = start_plain(iiifd_bin, media_root, tmp_path, "--shutdown-timeout", "1")
    sock, head, body = open_slow_download(server.port)
    assert head.startswith("HTTP/1.1 200"), head
    server.proc.send_signal(signal.SIGTERM)
    # the client reads nothing more: after 1 s the server gives up on it and exits anyway
    code = server.proc.wait(60)
    stop_clean(server)
    assert code == 0
    body = read_rest(sock, body, timeout=30)
    sock.close()
    assert len(body) < BIG
    assert "stopping with 1 requests still running" in server.stderr_text()


# --------------------------------------------------------------------------------------------
# SIGHUP: reload the config file
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def photo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    Image.new("RGB", (1600, 1200), (20, 120, 220)).save(root / "photo.png")
    return root


def write_config(path, **settings):
    path.write_text("".join(f"{k.replace('_', '-')} = {v}\n" for k, v in settings.items()))


def test_sighup_reloads_the_config_file_and_keeps_it_on_errors(iiifd_bin, photo_root, tmp_path):
    conf = tmp_path / "iiifd.conf"
    write_config(conf, max_area=1000000, log_level="info", cache_control="public, max-age=10")
    server = fx.Server(iiifd_bin, str(photo_root), str(tmp_path),
                       args=["--config", str(conf), "--annotations", "false",
                             "--cache", "false"], name="reload").start()
    big, small = "/iiif/3/photo.png/full/1200,/0/default.jpg", "/iiif/3/photo.png/full/800,/0/default.jpg"
    assert server.get(big).status == 400          # 1200 x 900 > 1,000,000 pixels
    assert server.get(small).status == 200
    info = server.get("/iiif/3/photo.png/info.json")
    assert info.json()["maxArea"] == 1000000
    assert info.header("Cache-Control") == "public, max-age=10"
    etag = info.header("ETag")
    wait_for_log(server, f"GET {small} 200")  # access lines at info level (written just after)

    # a larger limit, a quieter log, a new header; and a setting that needs a restart
    write_config(conf, max_area=2000000, log_level="warn", cache_control="public, max-age=20",
                 workers=7)
    fx.sighup_and_wait(server, "take effect only after a restart: workers")
    assert "applying: cache-control, max-area, log-level" in server.stderr_text()
    r = server.get(big)
    assert r.status == 200 and r.image().size == (1200, 900)
    info = server.get("/iiif/3/photo.png/info.json")
    assert info.json()["maxArea"] == 2000000
    assert info.header("Cache-Control") == "public, max-age=20"
    assert info.header("ETag") != etag               # cached copies of the old one are stale
    assert server.get("/iiif/3/photo.png/info.json",
                      headers={"If-None-Match": etag}).status == 200

    # broken files: each is refused with its file and line, and the running settings stay
    for lines, why in [("max-area = 5\nthis is not a setting line\n", ":2: syntax error"),
                       ("max-area = 5\nno-such-setting = 1\n", ":2: unknown setting"),
                       ("log-level = info\nmax-area = lots\n", ":2: max-area: 'lots'"),
                       ("max-area = 5\nrights = http://example.org/mine\n", ":2: rights:"),
                       ("max-height = 100\n", "max-height needs max-width")]:
        conf.write_text(lines)
        fx.sighup_and_wait(server, "reload failed, keeping the running settings")
        assert why in server.stderr_text().splitlines()[-1], server.stderr_text()[-500:]
        if why.startswith(":"):
            assert f"{conf}{why}" in server.stderr_text()
        assert server.get(big).status == 200         # still 2,000,000
        assert server.get("/iiif/3/photo.png/info.json").json()["maxArea"] == 2000000
    # log-level warn since the first reload: none of those requests was logged (checked after
    # the later reloads, since an access line is written just after its response)
    assert f"GET {big} 200" not in server.stderr_text()
    assert "GET /iiif/3/photo.png/info.json" not in server.stderr_text().split("workers")[1]
    conf.unlink()
    fx.sighup_and_wait(server, "reload failed, keeping the running settings")
    assert "cannot open" in server.stderr_text().splitlines()[-1]

    # and a good file again: back to info, smaller limit
    write_config(conf, max_area=400000, log_level="info")
    fx.sighup_and_wait(server, "applying: cache-control, max-area, log-level")
    assert server.get(small).status == 400           # 800 x 600 > 400,000
    assert server.get(big).status == 400
    assert server.get("/iiif/3/photo.png/info.json").header("Cache-Control") == \
        "public, max-age=86400"                      # the default again: the line is gone
    wait_for_log(server, f"GET {big} 400")
    stop_clean(server)


def test_sighup_without_a_config_file_changes_nothing(iiifd_bin, photo_root, tmp_path):
    server = fx.Server(iiifd_bin, str(photo_root), str(tmp_path),
                       args=["--max-area", "1000000", "--annotations", "false"],
                       name="noconf").start()
    fx.sighup_and_wait(server, "no --config file to re-read")
    assert server.get("/iiif/3/photo.png/info.json").json()["maxArea"] == 1000000
    stop_clean(server)


def test_flags_still_override_the_reloaded_file(iiifd_bin, photo_root, tmp_path):
    conf = tmp_path / "iiifd.conf"
    write_config(conf, max_area=1000000, max_width=1000)
    server = fx.Server(iiifd_bin, str(photo_root), str(tmp_path),
                       args=["--config", str(conf), "--max-width", "900",
                             "--annotations", "false"], name="flags").start()
    assert server.get("/iiif/3/photo.png/info.json").json()["maxWidth"] == 900
    write_config(conf, max_area=3000000, max_width=1500)
    fx.sighup_and_wait(server, "applying: max-area")
    info = server.get("/iiif/3/photo.png/info.json").json()
    assert info["maxArea"] == 3000000 and info["maxWidth"] == 900
    stop_clean(server)


LICENCES = ["http://creativecommons.org/licenses/by/4.0/",
             "http://creativecommons.org/licenses/by-sa/4.0/",
             "http://creativecommons.org/licenses/by-nc/4.0/",
             "http://creativecommons.org/publicdomain/zero/1.0/"]


def test_reloads_under_load_are_safe(iiifd_bin, photo_root, tmp_path):
    """Requests keep the config they started with while reloads replace it: under the sanitizer
    build a config freed too early is a use-after-free report (the fixture fails on any)."""
    conf = tmp_path / "iiifd.conf"
    write_config(conf, max_area=2000000, rights="http://creativecommons.org/licenses/by/4.0/")
    server = fx.Server(iiifd_bin, str(photo_root), str(tmp_path),
                       args=["--config", str(conf), "--annotations", "false", "--cache",
                             "false", "--access-log", "false"], name="load").start()
    stop = threading.Event()
    statuses = []

    def client():
        while not stop.is_set():
            statuses.append(server.get("/iiif/3/photo.png/info.json").status)
            statuses.append(server.get("/iiif/3/photo.png/full/300,/0/default.jpg").status)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(40):
            write_config(conf, max_area=2000000 + i,
                         rights=LICENCES[i % len(LICENCES)])
            server.proc.send_signal(signal.SIGHUP)
            time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    # signals sent close together may merge into one reload: one more after the last write
    # makes sure the last file is read
    write_config(conf, max_area=2100000, rights="http://creativecommons.org/licenses/by-nd/4.0/")
    server.proc.send_signal(signal.SIGHUP)
    for _ in range(1500):
        info = server.get("/iiif/3/photo.png/info.json").json()
        if info["maxArea"] == 2100000:
            break
        time.sleep(0.02)
    assert info["maxArea"] == 2100000
    assert info["rights"] == "http://creativecommons.org/licenses/by-nd/4.0/"
    assert "reload failed" not in server.stderr_text()
    assert statuses and set(statuses) == {200}
    stop_clean(server)
    found, text = server.new_sanitizer_reports()
    assert not found, text[-3000:]


def test_docs_say_which_settings_a_reload_applies(iiifd_bin):
    """docs/deployment.md's table of reloadable settings matches what --help marks reloadable
    (adding a setting: put it in the right column; making one reloadable: src/core/config.c)."""
    text = subprocess.run([iiifd_bin, "--help"], capture_output=True, text=True).stdout
    section = text.split("serve options", 1)[1].split("\n\n", 1)[0]
    options = dict(re.findall(r"^  --([a-z0-9-]+).*?(; reloadable\)|\))$", section, re.M))
    reloadable = {k for k, v in options.items() if v.startswith(";")}
    restart = set(options) - reloadable - {"config"}
    assert "max-area" in reloadable and "log-level" in reloadable and "port" in restart
    doc = open(os.path.join(REPO, "docs", "deployment.md")).read()
    row = next(l for l in doc.splitlines() if l.startswith("| `log-level`"))
    cells = row.split("|")
    assert set(re.findall(r"`([a-z0-9-]+)`", cells[1])) == reloadable
    assert set(re.findall(r"`([a-z0-9-]+)`", cells[2])) == restart


def test_reload_applies_public_url_and_access_log(iiifd_bin, photo_root, tmp_path):
    conf = tmp_path / "iiifd.conf"
    write_config(conf, public_url="https://old.example.org", access_log="true")
    server = fx.Server(iiifd_bin, str(photo_root), str(tmp_path),
                       args=["--config", str(conf), "--annotations", "false"],
                       name="url").start()
    info = server.get("/iiif/3/photo.png/info.json").json()
    assert info["id"] == "https://old.example.org/iiif/3/photo.png"
    coll = server.get("/iiif/presentation/collection").json()
    assert coll["id"].startswith("https://old.example.org/")
    wait_for_log(server, "GET /iiif/presentation/collection 200")
    write_config(conf, public_url="https://new.example.org/images", access_log="false")
    fx.sighup_and_wait(server, "applying: public-url, access-log")
    info = server.get("/iiif/3/photo.png/info.json").json()
    assert info["id"] == "https://new.example.org/images/iiif/3/photo.png"
    coll = server.get("/iiif/presentation/collection").json()
    assert coll["id"].startswith("https://new.example.org/images/iiif/presentation/")
    # the HTML pages follow too (their links and the sitemap)
    sitemap = server.get("/sitemap.xml").body.decode()
    assert "https://new.example.org/images/" in sitemap and "old.example.org" not in sitemap
    write_config(conf, public_url="https://new.example.org/images", access_log="true")
    fx.sighup_and_wait(server, "applying: access-log")
    info_line = "GET /iiif/3/photo.png/info.json 200"
    server.get("/iiif/3/photo.png/info.json")
    for _ in range(500):
        if server.stderr_text().count(info_line) >= 2:
            break
        time.sleep(0.02)
    # one line from before the first reload, one from after the second, none in between
    assert server.stderr_text().count(info_line) == 2, server.stderr_text()
    stop_clean(server)


def test_installed_example_config_starts_the_unit_command_line(installed, photo_root, tmp_path):
    """The unit's ExecStart with the installed example config (only root and port changed, as
    an operator would): the file parses and the server answers."""
    dest = installed[0]
    unit = unit_settings(os.path.join(dest, "usr/local/lib/systemd/system/iiifd.service"))
    words = unit["ExecStart"][-1].split()
    example = open(os.path.join(dest, "usr/local/share/doc/iiifd/iiifd.conf.example")).read()
    port = fx.free_port()
    conf = tmp_path / "iiifd.conf"
    conf.write_text(re.sub(r"(?m)^root = .*$", f"root = {photo_root}",
                           re.sub(r"(?m)^port = .*$", f"port = {port}", example)))
    assert f"root = {photo_root}" in conf.read_text() and f"port = {port}" in conf.read_text()
    flags = dict(zip(words[2::2], words[3::2]))
    assert set(flags) == {"--config", "--data-dir", "--cache-dir"}
    binary = os.path.join(dest, "usr/local/bin/iiifd")
    log = open(tmp_path / "stderr", "wb")
    proc = subprocess.Popen([binary, "serve", "--config", str(conf),
                             "--data-dir", str(tmp_path / "state"),
                             "--cache-dir", str(tmp_path / "cache")],
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        for _ in range(1500):
            assert proc.poll() is None, (tmp_path / "stderr").read_text()
            try:
                r = fx.request(port, "/iiif/3/photo.png/info.json", timeout=5)
                break
            except OSError:
                time.sleep(0.02)
        assert r.status == 200
        assert r.json()["id"].startswith("https://images.example.org/")  # its public-url
        assert (tmp_path / "state" / "annotations.sqlite").exists()
    finally:
        proc.terminate()
        assert proc.wait(60) == 0
        log.close()


def test_reload_applies_connection_timeouts(iiifd_bin, photo_root, tmp_path):
    """header-timeout 3600 at the start, 1 after the reload: a connection opened afterwards that
    sends nothing is closed by the server (with the old value it would wait an hour, and the
    socket's own 60 s timeout would fail the test)."""
    conf = tmp_path / "iiifd.conf"
    write_config(conf, header_timeout=3600)
    server = fx.Server(iiifd_bin, str(photo_root), str(tmp_path),
                       args=["--config", str(conf), "--annotations", "false"],
                       name="timeouts").start()
    write_config(conf, header_timeout=1)
    fx.sighup_and_wait(server, "applying: header-timeout")
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as s:
        s.sendall(b"GET /health HTTP/1.1\r\n")  # and never the rest of the headers
        try:
            got = s.recv(4096)
        except ConnectionResetError:
            got = b""
        assert got == b"" or got.startswith(b"HTTP/1.1 408"), got
    assert server.get("/health").status == 200
    stop_clean(server)


def test_reload_of_a_quality_changes_image_bytes_and_etag(iiifd_bin, tmp_path):
    Image.effect_noise((600, 400), 60).convert("RGB").save(tmp_path / "noise.png")
    conf = tmp_path / "iiifd.conf"
    write_config(conf, jpeg_quality=95)
    server = fx.Server(iiifd_bin, str(tmp_path), str(tmp_path),
                       args=["--config", str(conf), "--annotations", "false"],
                       name="quality").start()
    path = "/iiif/3/noise.png/full/max/0/default.jpg"
    before = server.get(path)
    assert before.status == 200
    write_config(conf, jpeg_quality=30)
    fx.sighup_and_wait(server, "applying: jpeg-quality")
    after = server.get(path, headers={"If-None-Match": before.header("ETag")})
    assert after.status == 200 and after.header("ETag") != before.header("ETag")
    assert len(after.body) < len(before.body) / 2  # noise at quality 30 against 95
    assert server.get(path, headers={"If-None-Match": after.header("ETag")}).status == 304
    stop_clean(server)
