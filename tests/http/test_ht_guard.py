"""A damaged HTJ2K file gets an error for its renders while the server keeps serving.

Debian 12's OpenJPEG 2.5.0 aborts the process on an assert() in ht_dec.c for some malformed HT
code-blocks (fuzz/known-upstream/openjpeg-2.5.0-ht-mel-assert.j2c). iiifd decodes every HTJ2K
file once per version in a child process (`iiifd verify-codestream`, image/ht_guard.c) before it
decodes it itself. The library here:
  - good.jph: `iiifd convert` of a generated picture (HTJ2K, 256x256 tiles);
  - bad.j2c: the reproducer (a full decode reports an error at tile 2, tile 5 aborts);
  - abort.j2c: the reproducer with tile 2 replaced by tile 0's data, so that even a full decode
    of the file in the server would reach the assert (checked here with opj_decompress);
  - bad-ht.jp2: the reproducer's codestream in JP2 boxes (a .jp2 with HT code-blocks);
  - bad-cdef.jp2: abort.j2c in JP2 boxes with channel definitions, which iiifd's JPEG 2000
    index leaves to libvips (so the HT scan of image/jp2_index.c finds its HT code-blocks);
  - hidden-ht.j2c: abort.j2c with its HT code-block style only in the tile-part headers and a
    TLM marker (the index then reads no tile-part header: decodes check them);
  - classic.jp2: classic JPEG 2000, which needs no check.
"""

import os
import shutil
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
REPRODUCER = os.path.join(REPO, "fuzz", "known-upstream", "openjpeg-2.5.0-ht-mel-assert.j2c")
BAD = ["bad.j2c", "abort.j2c", "bad-ht.jp2", "bad-cdef.jp2"]


def run(*cmd):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True)


def tile_parts(codestream):
    """(header, [tile-part bytes], tail) of a codestream."""
    at = codestream.index(b"\xff\x90")
    head, parts = codestream[:at], []
    while codestream[at:at + 2] == b"\xff\x90":
        length = int.from_bytes(codestream[at + 6:at + 10], "big")
        parts.append(bytearray(codestream[at:at + length]))
        at += length
    return head, parts, codestream[at:]


def abort_everywhere(codestream):
    """The reproducer with tile 2 (a decode error at full resolution) made a copy of tile 0."""
    head, parts, tail = tile_parts(codestream)
    tile0 = next(p for p in parts if int.from_bytes(p[4:6], "big") == 0)
    for i, p in enumerate(parts):
        if int.from_bytes(p[4:6], "big") == 2:
            parts[i] = bytearray(tile0)
            parts[i][4:6] = (2).to_bytes(2, "big")
    return head + b"".join(parts) + tail


def main_header_segments(head):
    """The marker segments of a main header after SOC: [(marker, bytes)]."""
    at, out = 2, []
    while at < len(head):
        length = int.from_bytes(head[at + 2:at + 4], "big")
        out.append((int.from_bytes(head[at:at + 2], "big"), bytes(head[at:at + 2 + length])))
        at += 2 + length
    return out


def ht_only_in_tile_headers(codestream):
    """The codestream with a classic-looking main header (no CAP, its COD without the HT
    code-block style) and a TLM, each tile-part header holding the HT COD: the index takes the
    tile-part table from the TLM and reads no tile-part header, but OpenJPEG decodes with its
    HT decoder by the tile-part's COD."""
    head, parts, tail = tile_parts(codestream)
    segments = main_header_segments(head)
    cod = next(b for m, b in segments if m == 0xFF52)
    assert cod[12] & 0x40, "the reproducer's COD has HT code-blocks"
    classic = bytearray(cod)
    classic[12] &= ~0x40
    moved = []
    for p in parts:
        q = bytearray(p[:12]) + cod + p[12:]
        q[6:10] = len(q).to_bytes(4, "big")
        moved.append(q)
    entries = b"".join(q[4:6] + len(q).to_bytes(4, "big") for q in moved)
    tlm = b"\xff\x55" + (4 + len(entries)).to_bytes(2, "big") + b"\x00\x60" + entries
    head = head[:2] + b"".join(classic if m == 0xFF52 else b for m, b in segments
                               if m != 0xFF50) + tlm
    return head + b"".join(moved) + tail


def box(kind, payload):
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def in_jp2_boxes(codestream, width, height, extra=b""):
    ihdr = box(b"ihdr", height.to_bytes(4, "big") + width.to_bytes(4, "big") +
               (3).to_bytes(2, "big") + bytes([7, 7, 0, 0]))
    colr = box(b"colr", bytes([1, 0, 0]) + (16).to_bytes(4, "big"))
    return (box(b"jP  ", b"\r\n\x87\n") + box(b"ftyp", b"jp2 " + bytes(4) + b"jp2 ") +
            box(b"jp2h", ihdr + colr + extra) + box(b"jp2c", codestream))


@pytest.fixture(scope="module")
def library(iiifd_bin, tmp_path_factory):
    base = tmp_path_factory.mktemp("htguard")
    root = base / "root"
    root.mkdir()
    run("vips", "gaussnoise", base / "noise.v", 900, 700)
    run("vips", "bandjoin", f"{base / 'noise.v'} {base / 'noise.v'} {base / 'noise.v'}",
        base / "rgb.v")
    run("vips", "cast", base / "rgb.v", base / "src.tif", "uchar")
    run(iiifd_bin, "convert", base / "src.tif", root / "good.jph", "--tile", 256)
    run("vips", "jp2ksave", base / "src.tif", root / "classic.jp2", "--tile-width", 256,
        "--tile-height", 256)
    data = open(REPRODUCER, "rb").read()
    (root / "bad.j2c").write_bytes(data)
    (root / "abort.j2c").write_bytes(abort_everywhere(data))
    (root / "bad-ht.jp2").write_bytes(in_jp2_boxes(data, 40, 28))
    # channel definitions: a file iiifd's index leaves to libvips (its HT scan still finds it)
    cdef = box(b"cdef", (3).to_bytes(2, "big") + b"".join(
        c.to_bytes(2, "big") + bytes(2) + (c + 1).to_bytes(2, "big") for c in range(3)))
    (root / "bad-cdef.jp2").write_bytes(in_jp2_boxes(abort_everywhere(data), 40, 28, cdef))
    (root / "hidden-ht.j2c").write_bytes(ht_only_in_tile_headers(abort_everywhere(data)))
    # the premise: OpenJPEG aborts on abort.j2c and hidden-ht.j2c even when decoding all of it
    for name in ("abort.j2c", "hidden-ht.j2c"):
        p = subprocess.run(["opj_decompress", "-i", root / name, "-o", base / "x.ppm"],
                           capture_output=True)
        assert p.returncode < 0 or p.returncode == 134, (name, p)
    return base, root


def start(server_factory, library, cache):
    return server_factory(args=["--cache-dir", str(cache)], root_dir=str(library[1]))


def tile(name):
    return f"/iiif/3/{name}/0,0,256,256/256,/0/default.jpg"


def small(name):
    """A render that fits every file here (the damaged ones are 40x28)."""
    return f"/iiif/3/{name}/0,0,16,16/16,/0/default.jpg"


def get_settled(server, path, timeout=120):
    """The answer once the check is over (a 503 while it runs)."""
    end = time.monotonic() + timeout
    while True:
        r = server.get(path)
        if r.status != 503 or time.monotonic() > end:
            return r
        assert r.header("Retry-After")
        time.sleep(0.5)


def test_damaged_files_refused_server_keeps_serving(server_factory, library, tmp_path):
    s = start(server_factory, library, tmp_path / "cache")
    pid = s.proc.pid
    assert get_settled(s, tile("good.jph")).status == 200
    for name in BAD:
        # info.json needs no decode: answered while the check runs (from the header)
        assert s.get(f"/iiif/3/{name}/info.json").status in (200, 500)
        for path in (f"/iiif/3/{name}/0,0,16,16/16,/0/default.jpg",
                     f"/iiif/3/{name}/full/max/0/default.png",
                     f"/iiif/3/{name}/full/20,/0/default.jpg"):
            r = get_settled(s, path)
            assert r.status == 500, (path, r.status, r.body[:200])
            assert b"damaged" in r.body and b"HTJ2K" in r.body, r.body
        assert s.get("/health").status == 200
        assert s.get(tile("good.jph")).status == 200
    assert get_settled(s, tile("classic.jp2")).status == 200
    assert s.alive() and s.proc.pid == pid
    log = s.stderr_text()
    for name in BAD:  # logged once each, with the file
        assert log.count(f"{name}: damaged HTJ2K file") == 1, log[-3000:]
    assert "signal 6" in log  # abort.j2c: the child aborted, not the server
    # classic JPEG 2000 is not checked; the good HTJ2K file was, once
    assert "classic.jp2: HTJ2K check" not in log
    assert log.count("good.jph: HTJ2K check passed") == 1


def test_ht_code_blocks_hidden_from_a_tlm_index(server_factory, library, tmp_path):
    """hidden-ht.j2c looks classic to the index (TLM, no CAP, classic main COD), so no check
    runs; its decodes read each tile-part header first and refuse HT code-blocks there."""
    s = start(server_factory, library, tmp_path / "cache")
    pid = s.proc.pid
    for path in (small("hidden-ht.j2c"), "/iiif/3/hidden-ht.j2c/full/max/0/default.png",
                 "/iiif/3/hidden-ht.j2c/full/10,/0/default.jpg"):
        r = get_settled(s, path)
        assert r.status == 500, (path, r.status, r.body[:200])
        assert s.get("/health").status == 200
    assert s.alive() and s.proc.pid == pid
    assert "hidden-ht.j2c: HTJ2K check" not in s.stderr_text()
    assert get_settled(s, tile("good.jph")).status == 200


def test_verdicts_survive_a_restart(server_factory, library, tmp_path):
    cache = tmp_path / "cache"
    s = start(server_factory, library, cache)
    assert get_settled(s, tile("good.jph")).status == 200
    assert get_settled(s, small("abort.j2c")).status == 500
    assert len(os.listdir(cache / "htj2k-checked")) == 2
    s.stop()
    s2 = start(server_factory, library, cache)
    # no waiting: both verdicts are read back, no check runs; a file known to be damaged is
    # refused at its probe, info.json too
    assert s2.get(tile("good.jph")).status == 200
    r = s2.get("/iiif/3/abort.j2c/info.json")
    assert r.status == 500 and b"damaged" in r.body
    assert s2.get(small("abort.j2c")).status == 500
    log = s2.stderr_text()
    assert "HTJ2K check passed" not in log
    assert "abort.j2c: damaged HTJ2K file (checked before)" in log


def test_replaced_file_checked_again(server_factory, library, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(library[1], root)
    s = server_factory(args=["--cache-dir", str(tmp_path / "cache")], root_dir=str(root))
    assert get_settled(s, tile("good.jph")).status == 200
    # the good file replaced by a damaged one (new mtime, new size): refused
    shutil.copy(root / "abort.j2c", root / "swap.tmp")
    os.replace(root / "swap.tmp", root / "good.jph")
    assert get_settled(s, small("good.jph")).status == 500
    # and back: served again after a new check
    shutil.copy(library[1] / "good.jph", root / "swap.tmp")
    os.utime(root / "swap.tmp", (time.time() + 5, time.time() + 5))
    os.replace(root / "swap.tmp", root / "good.jph")
    assert get_settled(s, tile("good.jph")).status == 200
    log = s.stderr_text()
    assert log.count("good.jph: HTJ2K check passed") == 2
    assert log.count("good.jph: damaged HTJ2K file") == 1
    assert s.alive()


def test_hard_links_share_one_check(server_factory, library, tmp_path):
    """A local file is checked by its identity (device, inode) and version: names that are
    hard links of one file (as bench/run serves its pyramids) are checked once."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(library[1] / "good.jph", root / "a.jph")
    for name in ("b.jph", "c.jph"):
        os.link(root / "a.jph", root / name)
    s = server_factory(args=["--cache-dir", str(tmp_path / "cache")], root_dir=str(root))
    for name in ("a.jph", "b.jph", "c.jph"):
        assert get_settled(s, tile(name)).status == 200
    assert s.stderr_text().count("HTJ2K check passed") == 1
    assert len(os.listdir(tmp_path / "cache" / "htj2k-checked")) == 1


def test_check_switched_off(server_factory, library, tmp_path):
    """htj2k-check = false: no child, files decoded directly (here only the good one)."""
    s = server_factory(args=["--cache-dir", str(tmp_path / "cache"), "--htj2k-check", "false"],
                       root_dir=str(library[1]))
    assert s.get(tile("good.jph")).status == 200
    assert "HTJ2K check" not in s.stderr_text()
    assert not os.path.exists(tmp_path / "cache" / "htj2k-checked")


def test_object_storage_root(iiifd_bin, library, tmp_path):
    """An s3:// root: the child reads a copy of the object; the same verdicts, the server lives,
    no copy is left behind."""
    import fixtures as fx
    import s3_fixtures as s3fx
    store = s3fx.S3Server()
    s = None
    try:
        for name in ["good.jph", *BAD]:
            store.put_file(f"img/{name}", str(library[1] / name))
        cache = tmp_path / "cache"
        s = fx.Server(iiifd_bin, "s3://bkt/img", str(tmp_path),
                      args=["--annotations", "false", "--discovery", "false",
                            "--cache-dir", str(cache),
                            *s3fx.s3_args(f"http://127.0.0.1:{store.port}")],
                      name="s3").start()
        assert get_settled(s, tile("good.jph")).status == 200
        for name in BAD:
            r = get_settled(s, small(name))
            assert r.status == 500 and b"damaged" in r.body, (name, r.status, r.body[:200])
        assert s.get(tile("good.jph")).status == 200 and s.get("/health").status == 200
        assert s.alive()
        assert len(os.listdir(cache / "htj2k-checked")) == 1 + len(BAD)  # verdicts only
        log = s.stderr_text()
        assert "s3://bkt/img/abort.j2c: damaged HTJ2K file" in log, log[-2000:]
    finally:
        if s:
            s.stop()
            found, text = s.new_sanitizer_reports()
            assert not found, text[-4000:]
        store.stop()


def test_unwritable_cache_dir(server_factory, library, tmp_path):
    """A cache-dir that cannot be made (here below a regular file) with the disk cache off: the
    server starts, warns, and still checks (verdicts in memory only)."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    s = server_factory(args=["--cache", "false", "--cache-dir", str(blocker / "cache")],
                       root_dir=str(library[1]))
    assert get_settled(s, tile("good.jph")).status == 200
    assert get_settled(s, small("abort.j2c")).status == 500
    log = s.stderr_text()
    assert "cannot keep HTJ2K check verdicts there" in log
    assert "abort.j2c: damaged HTJ2K file" in log and s.alive()
