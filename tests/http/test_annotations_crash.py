"""Crash safety of imports (docs/annotations.md: "An import is all or nothing"; the store is SQLite
in WAL mode): `iiifd import` of a large ALTO file is killed with SIGKILL while it is writing;
afterwards the store opens, holds either every annotation of that file or none, and what was
imported before is intact."""

import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from annotation_fixtures import (  # noqa: E402,F401
    ocr_items, EXPECTED_COUNTS, LOREM_TOTAL, _anno_health, _anno_shared_cleanup, alto_v4, atree,
    canvas_page, import_counts, layout, manifest_url, page_png, run_import, search_total)

BIG_LINES = 20000
BIG_WORDS = "crashword alpha beta gamma delta epsilon zeta eta theta iota"  # 10 words per line
BIG_RECORDS = BIG_LINES * (len(BIG_WORDS.split()) + 1)                  # 220,000
WAL_GROWTH = 1 << 20   # bytes the WAL must have grown by before the kill


def make_crash_root(base, tree):
    root = os.path.join(base, "root")
    shutil.copytree(tree.path("book"), os.path.join(root, "book"))
    os.makedirs(os.path.join(root, "big"))
    page_png(os.path.join(root, "big", "big.png"), (200, 200, 200))
    lines = [layout(BIG_WORDS, 20, (i % 290) * 10, 8, 10, 10) for i in range(BIG_LINES)]
    with open(os.path.join(root, "big", "big.xml"), "w") as f:
        f.write(alto_v4(lines, 2000, 3000, "big.png"))
    os.makedirs(os.path.join(root, "small"))
    page_png(os.path.join(root, "small", "tiny.png"), (100, 100, 100), (200, 300))
    with open(os.path.join(root, "small", "tiny.xml"), "w") as f:
        f.write(alto_v4([layout("tinyword here", 10, 10, 20, 10, 10)], 200, 300, "tiny.png"))
    return root


def wal_size(data):
    try:
        return os.path.getsize(os.path.join(data, "annotations.sqlite-wal"))
    except OSError:
        return 0


def test_sigkill_during_import_is_all_or_nothing(iiifd_bin, atree, tmp_path, server_factory):
    root = make_crash_root(str(tmp_path), atree)
    data = str(tmp_path / "data")
    p = run_import(iiifd_bin, root, data, os.path.join(root, "book"))
    assert p.returncode == 0, f"import of book: {p.returncode}\n{p.stdout}\n{p.stderr}"

    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
    start_wal = wal_size(data)
    proc = subprocess.Popen([iiifd_bin, "import", "--root", root, "--data-dir", data,
                             os.path.join(root, "big", "big.xml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    t0 = time.monotonic()
    grown = False
    try:
        while proc.poll() is None and time.monotonic() - t0 < 60:
            if wal_size(data) > start_wal + WAL_GROWTH:
                grown = True
                break
            time.sleep(0.001)
        wal_at_kill = wal_size(data)
        proc.send_signal(signal.SIGKILL)
    finally:
        out, err = proc.communicate(timeout=30)
    assert grown, (f"the import ended (exit {proc.returncode}) or stalled before its WAL grew by "
                   f"{WAL_GROWTH} bytes (WAL {wal_size(data)}), so it could not be killed while "
                   f"writing\n{out.decode()[-1000:]}\n{err.decode()[-2000:]}")
    assert proc.returncode == -signal.SIGKILL, \
        f"the import was not killed mid-way (exit {proc.returncode}): {out.decode()[-500:]}"

    # a fresh import of a small file must work on the store the crash left behind
    p = run_import(iiifd_bin, root, data, os.path.join(root, "small", "tiny.xml"))
    assert p.returncode == 0, (f"import after the crash failed ({p.returncode}): the store is "
                               f"unusable\n{p.stdout}\n{p.stderr}")
    assert import_counts(p.stdout) == {"small/tiny.xml": 3}, p.stdout

    s = server_factory(args=["--data-dir", data, "--auto-import", "false"], root_dir=root)
    big = search_total(s, manifest_url(s, "big"), q="crashword")
    assert big in (0, BIG_LINES), (f"after SIGKILL (WAL was {wal_at_kill} bytes) the store holds "
                                   f"{big} of the big file's {BIG_LINES} lines: a partial import")
    assert search_total(s, manifest_url(s, "big"), q="iota") == big
    book = manifest_url(s, "book")
    assert search_total(s, book, q="lorem") == LOREM_TOTAL, "earlier import damaged"
    assert search_total(s, book, q="quartz") == 1
    assert len(ocr_items(s, "book", 1)) == \
        EXPECTED_COUNTS["book/page1.xml"], "earlier import damaged"
    assert search_total(s, manifest_url(s, "small"), q="tinyword") == 1
    print(f"SIGKILL at WAL {wal_at_kill} bytes after {time.monotonic() - t0:.2f} s: "
          f"{'all' if big else 'none'} of the big file stored")

    if big == 0:
        # nothing stored: the file must not be taken as current, or it would never be imported
        p = run_import(iiifd_bin, root, data, os.path.join(root, "big", "big.xml"), timeout=120)
        assert p.returncode == 0, f"re-import after the crash: {p.returncode}\n{p.stderr}"
        assert import_counts(p.stdout) == {"big/big.xml": BIG_RECORDS}, \
            (f"after a killed import stored nothing, importing the file again gives "
             f"{p.stdout.strip()!r} (want {BIG_RECORDS} annotations)")
        assert search_total(s, manifest_url(s, "big"), q="crashword") == BIG_LINES
