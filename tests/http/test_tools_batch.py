"""End-to-end tests of `iiifd convert DIR OUTDIR` (batch) and of the progress every long command
shows: a bar redrawn in place on a terminal (checked through a real pseudo-terminal), plain
lines through a pipe, nothing with --quiet.

The batch tree is generated here: images in nested folders, a truncated JPEG, a text file named
.png, a name clash, files that are not images, a hidden folder.
"""

import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import time
import fcntl
import termios

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402

TIMEOUT = 600


def run(iiifd_bin, *args, env=None, timeout=TIMEOUT):
    p = subprocess.run([iiifd_bin, *[str(a) for a in args]], capture_output=True, text=True,
                       timeout=timeout, env=env)
    for marker in fx.SANITIZER_MARKERS:
        assert marker not in p.stderr, f"sanitizer report from {args}:\n{p.stderr[-4000:]}"
    return p


def noise(w, h, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def make_tree(d, big=0):
    """The source tree; returns the relative paths of the images that must convert."""
    os.makedirs(d / "a" / "b", exist_ok=True)
    os.makedirs(d / "c", exist_ok=True)
    os.makedirs(d / ".hidden", exist_ok=True)
    Image.fromarray(noise(700, 500, 1)).save(d / "a" / "one.png")
    Image.fromarray(noise(600, 900, 2)).save(d / "a" / "b" / "two.jpg", quality=90)
    Image.fromarray(noise(300, 200, 3)).save(d / "c" / "three.tif")
    Image.fromarray(noise(300, 200, 4)).save(d / "top.webp")
    Image.fromarray(noise(100, 100, 5)).save(d / ".hidden" / "skip.png")
    good = ["a/one.png", "a/b/two.jpg", "c/three.tif", "top.webp"]
    if big:
        os.makedirs(d / "big")
    for i in range(big):  # large enough that a run can be caught part-way
        Image.fromarray(noise(2600, 2600, 10 + i)).save(d / "big" / f"p{i:02d}.png")
        good.append(f"big/p{i:02d}.png")
    with open(d / "a" / "b" / "two.jpg", "rb") as f:
        data = f.read()
    with open(d / "c" / "truncated.jpg", "wb") as f:
        f.write(data[: len(data) // 3])
    with open(d / "c" / "text.png", "w") as f:
        f.write("this is not a PNG\n")
    with open(d / "c" / "notes.txt", "w") as f:
        f.write("not an image, ignored\n")
    return good


def out_name(rel):
    return os.path.splitext(rel)[0] + ".tif"


def tree_files(d):
    found = []
    for dirpath, _, names in os.walk(d):
        for n in names:
            found.append(os.path.relpath(os.path.join(dirpath, n), d))
    return sorted(found)


def assert_pyramid(path, size=None):
    img = Image.open(path)
    assert img.info.get("compression") == "jpeg", path
    if size:
        assert img.size == size, (path, img.size)
    assert img.n_frames >= 1
    img.seek(img.n_frames - 1)
    img.load()  # every level decodes: the file is complete


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch-src")
    return d, make_tree(d)


# --------------------------------------------------------------------------------------------
# batch
# --------------------------------------------------------------------------------------------
def test_batch_mirrors_tree_reports_errors_and_resumes(iiifd_bin, tree, tmp_path):
    src, good = tree
    out = tmp_path / "out"
    p = run(iiifd_bin, "convert", src, out, "--jobs", "2")
    assert p.returncode == 1, "a failed file makes the exit status non-zero"
    assert tree_files(out) == sorted(out_name(r) for r in good), "mirrored, .tif, nothing else"
    assert_pyramid(out / "a" / "one.tif", (700, 500))
    assert_pyramid(out / "a" / "b" / "two.tif", (600, 900))
    assert_pyramid(out / "top.tif", (300, 200))
    # every failure listed at the end, by file and reason, after the work went on past them
    tail = p.stderr[p.stderr.index("iiifd convert: 2 files failed:"):]
    assert re.search(r"^  c/text\.png: \S.*$", tail, re.M), tail
    assert re.search(r"^  c/truncated\.jpg: \S.*$", tail, re.M), tail
    assert "notes.txt" not in p.stderr and "skip.png" not in p.stderr
    assert "4 converted, 0 up to date, 2 failed" in p.stdout, p.stdout

    mtimes = {f: os.stat(out / f).st_mtime_ns for f in tree_files(out)}
    again = run(iiifd_bin, "convert", src, out)
    assert again.returncode == 1
    assert "0 converted, 4 up to date, 2 failed" in again.stdout, again.stdout
    assert {f: os.stat(out / f).st_mtime_ns for f in tree_files(out)} == mtimes, \
        "outputs newer than their source are not rewritten"

    # a source changed after its output was written is converted again, alone
    later = os.stat(out / "a" / "one.tif").st_mtime + 5
    os.utime(src / "a" / "one.png", (later, later))
    third = run(iiifd_bin, "convert", src, out, "--quiet")
    assert "1 converted, 3 up to date, 2 failed" in third.stdout, third.stdout
    assert os.stat(out / "a" / "one.tif").st_mtime_ns != mtimes["a/one.tif"]
    assert os.stat(out / "top.tif").st_mtime_ns == mtimes["top.tif"]


def test_batch_all_good_exits_zero_and_same_result_with_one_job(iiifd_bin, tmp_path):
    src = tmp_path / "src"
    os.makedirs(src / "x")
    Image.fromarray(noise(640, 480, 7)).save(src / "x" / "p1.png")
    Image.fromarray(noise(480, 640, 8)).save(src / "x" / "p2.jpg")
    one = run(iiifd_bin, "convert", src, tmp_path / "one", "--jobs", "1")
    two = run(iiifd_bin, "convert", src, tmp_path / "two", "--jobs", "2")
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert "2 converted, 0 up to date, 0 failed" in one.stdout
    for f in ("x/p1.tif", "x/p2.tif"):
        a = np.asarray(Image.open(tmp_path / "one" / f).convert("RGB"))
        b = np.asarray(Image.open(tmp_path / "two" / f).convert("RGB"))
        assert np.array_equal(a, b), f"{f}: --jobs changes nothing in the output"


def test_batch_name_clash_fails_one_and_keeps_the_other(iiifd_bin, tmp_path):
    src = tmp_path / "src"
    os.makedirs(src)
    Image.fromarray(noise(200, 100, 1)).save(src / "page.jpg")
    Image.fromarray(noise(100, 200, 2)).save(src / "page.png")
    p = run(iiifd_bin, "convert", src, tmp_path / "out")
    assert p.returncode == 1
    assert re.search(r"^  page\.png: same output name as page\.jpg", p.stderr, re.M), p.stderr
    assert Image.open(tmp_path / "out" / "page.tif").size == (200, 100)


def test_batch_output_inside_input_is_not_walked(iiifd_bin, tmp_path):
    src = tmp_path / "src"
    os.makedirs(src)
    Image.fromarray(noise(200, 100, 1)).save(src / "a.png")
    for _ in range(2):
        p = run(iiifd_bin, "convert", src, src / "tif")
        assert p.returncode == 0, p.stderr
    assert tree_files(src / "tif") == ["a.tif"], "the output folder's files are not inputs"


def test_batch_usage_errors(iiifd_bin, tmp_path):
    src = tmp_path / "src"
    os.makedirs(src)
    assert run(iiifd_bin, "convert", src, tmp_path / "o", "--jobs", "0").returncode == 2
    assert run(iiifd_bin, "convert", src, tmp_path / "o", "--jobs", "x").returncode == 2
    p = run(iiifd_bin, "convert", src, src)
    assert p.returncode == 1 and "must not be the input folder" in p.stderr


def wait_for(pred, what, timeout=TIMEOUT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def partial_state(out):
    files = tree_files(out) if os.path.isdir(out) else []
    return [f for f in files if f.endswith(".tif")], [f for f in files if ".tmp-" in f]


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch-big")
    return d, make_tree(d, big=6)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_batch_interrupted_then_resumed(iiifd_bin, big_tree, tmp_path, sig):
    """Killed part-way (once a file is done and another is being written), a second run
    finishes the rest: nothing half-written ever counts as done."""
    src, good = big_tree
    out = tmp_path / "out"
    proc = subprocess.Popen([iiifd_bin, "convert", str(src), str(out), "--jobs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: all(partial_state(out)) or proc.poll() is not None,
                 "one output done and one being written")
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(sig)
        proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done, temps = partial_state(out)
    assert done and len(done) < len(good), done
    if sig == signal.SIGINT:
        assert temps == [], "Ctrl-C removes the temporary files being written"
    # SIGKILL leaves the file being written (nothing can remove it then) unless it came between
    # a rename and the next file's start: the next run must sweep whatever is left
    for f in done:
        assert_pyramid(out / f)  # whatever has the final name is complete
    before = {f: os.stat(out / f).st_mtime_ns for f in done}

    p = run(iiifd_bin, "convert", src, out, "--jobs", "2")
    assert p.returncode == 1  # the two broken files
    assert f"{len(good) - len(done)} converted, {len(done)} up to date, 2 failed" in p.stdout, \
        p.stdout
    if temps:
        assert f"removed {len(temps)} temporary file" in p.stdout, p.stdout
    done2, temps2 = partial_state(out)
    assert temps2 == [] and done2 == sorted(out_name(r) for r in good)
    for f in done2:
        assert_pyramid(out / f)
    assert {f: os.stat(out / f).st_mtime_ns for f in done} == before


# --------------------------------------------------------------------------------------------
# progress: plain lines through a pipe, a bar on a terminal, nothing with --quiet
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served_tree(tmp_path_factory):
    """A small root every command can work on: two Manifests, a tags file, a bad file."""
    d = tmp_path_factory.mktemp("progress-root")
    os.makedirs(d / "book")
    os.makedirs(d / "photos")
    for i in range(3):
        Image.fromarray(noise(400, 300, 20 + i)).save(d / "book" / f"p{i}.jpg")
    Image.fromarray(noise(300, 300, 30)).save(d / "photos" / "a.jpg")
    with open(d / "photos" / "tags.csv", "w") as f:
        f.write("file,x,y,w,h,label,score\na.jpg,10,10,50,50,zebra,0.9\n")
    with open(d / "photos" / "broken.png", "w") as f:
        f.write("not a png")
    return d


def commands(root, tmp):
    """Each long-running command, with arguments that make it do some work."""
    return {
        "convert": ["convert", root / "book", tmp / "conv"],
        "tiles": ["tiles", root / "book" / "p0.jpg", tmp / "tiles", "--id", "https://x.org/t",
                  "--tile-size", "64"],
        "manifest": ["manifest", root, "--public-url", "https://x.org", "--out", tmp / "man"],
        "import": ["import", "--root", root, "--data-dir", tmp / "data", root],
        "check": ["check", root],
    }


PLAIN_LINE = re.compile(r"^(convert|tiles|manifest|import|check): \d+(/\d+)? \w+( \(\d+ failed\))?"
                        r"(, [\d.]+ [KMGT]?B( of [\d.]+ [KMGT]?B)?)?, [\d.]+ ([KMGT]?B|\w+)/s"
                        r", (\S+ left|\S+ elapsed|done in \S+)$")


@pytest.mark.parametrize("name", ["convert", "tiles", "manifest", "import", "check"])
def test_progress_plain_lines_through_a_pipe(iiifd_bin, served_tree, tmp_path, name):
    env = dict(os.environ, IIIFD_PROGRESS_INTERVAL_MS="1")
    p = run(iiifd_bin, *commands(served_tree, tmp_path)[name], env=env)
    assert "\r" not in p.stderr and "\033" not in p.stderr, "no terminal codes into a pipe"
    lines = [l for l in p.stderr.splitlines() if l.startswith(name + ": ")]
    assert lines, p.stderr
    for l in lines:
        assert PLAIN_LINE.match(l), l
    assert "done in" in lines[-1], f"a last line at the end: {lines[-1]}"
    assert all("done in" not in l for l in lines[:-1])
    # the totals add up at the end
    m = re.match(r"^\w+: (\d+)/(\d+) ", lines[-1])
    assert m and m.group(1) == m.group(2), lines[-1]
    os.makedirs(tmp_path / "q")
    quiet = run(iiifd_bin, *commands(served_tree, tmp_path / "q")[name], "--quiet", env=env)
    assert not [l for l in quiet.stderr.splitlines() if PLAIN_LINE.match(l)], quiet.stderr
    assert quiet.returncode == p.returncode
    if name == "check":
        assert quiet.stdout == p.stdout, "the same problems listed, on stdout"


def test_progress_quiet_still_prints_errors(iiifd_bin, tree, tmp_path):
    src, _ = tree
    p = run(iiifd_bin, "convert", src, tmp_path / "out", "--quiet")
    assert p.returncode == 1
    assert "c/text.png:" in p.stderr and not re.search(r"^convert: ", p.stderr, re.M)


def run_on_terminal(args, cols=100):
    """Runs args with stderr on a pseudo-terminal of cols columns; returns (rc, bytes, secs)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    env = dict(os.environ, TERM="xterm")
    env.pop("IIIFD_PROGRESS_INTERVAL_MS", None)
    start = time.monotonic()
    proc = subprocess.Popen([str(a) for a in args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], TIMEOUT)
        if not r:
            proc.kill()
            pytest.fail("no output from the terminal")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        out += data
    rc = proc.wait(timeout=TIMEOUT)
    secs = time.monotonic() - start
    os.close(master)
    return rc, out, secs


@pytest.mark.parametrize("name", ["convert", "tiles", "manifest", "import", "check"])
def test_progress_bar_on_a_terminal(iiifd_bin, served_tree, tmp_path, name):
    rc, out, secs = run_on_terminal([iiifd_bin, *commands(served_tree, tmp_path)[name]], cols=100)
    text = out.decode()
    for marker in fx.SANITIZER_MARKERS:
        assert marker not in text
    redraws = [r for r in re.split(r"\r(?!\n)", text.replace("\r\n", "\n")) if r.strip()]
    bars = [r for r in redraws if r.startswith(name + " ")]
    assert bars, repr(text[-2000:])
    assert "\033[K" in text, "each redraw clears the rest of the line"
    # the line is redrawn in place, never wraps, and at most about 10 times a second
    for b in bars:
        line = b.split("\033[K")[0]
        assert len(line) <= 99, f"wider than the terminal: {line!r}"
    assert len(bars) <= 10 * secs + 3, f"{len(bars)} redraws in {secs:.1f} s"
    last = bars[-1].split("\033[K")[0]
    assert "done in" in last, last
    if name in ("convert", "tiles"):  # totals known in advance: a bar and a percentage
        assert re.search(r"\[#+\] 100% ", last), last
    assert bars[-1].split("\033[K")[1].startswith("\n"), "the last state stays on screen"


def test_progress_bar_shows_rate_and_time_left(iiifd_bin, served_tree, tmp_path):
    """tiles of a 400x300 image at 64 px: enough requests for redraws with a known rate."""
    rc, out, _ = run_on_terminal([iiifd_bin, *commands(served_tree, tmp_path)["tiles"]], cols=120)
    assert rc == 0
    text = out.decode()
    assert re.search(r"tiles \[[#.]+\] +\d+% \d+/\d+ images [\d.]+ [KM]?B [\d.]+ images/s "
                     r"(\S+ left|done in)", text), repr(text[-1000:])
