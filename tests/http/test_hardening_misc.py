"""Issue #10 §3: broken sidecars logged once per file version, invalid UTF-8 in a sidecar named
by file and line, and a cache folder that cleans up after crashes, stays under its limits and is
emptied by `iiifd cache purge`."""

import hashlib
import os
import socket
import subprocess
import time

import fixtures as fx
from PIL import Image

PRES = "/iiif/presentation"


def _tree(tmp_path, sidecar):
    root = tmp_path / "root"
    (root / "bk").mkdir(parents=True)
    Image.fromarray(fx.GRID.rgb()).save(root / "bk" / "page1.png")
    (root / "bk" / "manifest.yml").write_bytes(sidecar)
    return root


def _lines(server, needle):
    return [ln for ln in server.stderr_text().splitlines() if needle in ln]


def _get_manifest(server, times):
    for _ in range(times):
        r = server.get(f"{PRES}/bk/manifest")
        assert r.status == 200, r.status
    return r.json()


def test_broken_sidecar_logged_once_per_file_version(server_factory, tmp_path):
    """A broken sidecar is logged at the first request that reads it, not at every request; a
    new version of it (same mtime, another size: a copy that kept the time) is logged again."""
    yml = b"label: Broken\nrights: not-a-uri\n"
    root = _tree(tmp_path, yml)
    s = server_factory(root_dir=str(root))
    _get_manifest(s, 8)
    assert len(_lines(s, "bk/manifest.yml:2")) == 1, s.stderr_text()[-2000:]

    path = root / "bk" / "manifest.yml"
    before = os.stat(path)
    path.write_bytes(yml + b"# edited, same time\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    _get_manifest(s, 8)
    assert len(_lines(s, "bk/manifest.yml:2")) == 2, s.stderr_text()[-2000:]


def test_table_of_contents_naming_a_missing_file_logged_once(server_factory, tmp_path):
    root = _tree(tmp_path, b"toc:\n  - label: Lost\n    canvases: [page1.png, gone.png]\n")
    s = server_factory(root_dir=str(root))
    man = _get_manifest(s, 6)
    assert man.get("structures"), man  # the Range of the files that exist is still there
    lines = _lines(s, "'gone.png'")
    assert len(lines) == 1, "\n".join(lines)
    assert "bk/manifest.yml" in lines[0], lines[0]


def test_invalid_utf8_in_a_sidecar_is_named_and_not_served(iiifd_bin, server_factory, tmp_path):
    """Raw bytes that are not UTF-8 (here a UTF-16 surrogate) are refused with file and line by
    `iiifd check` and by the server, and none of that sidecar's values reach the Manifest."""
    root = _tree(tmp_path, b"label: Fine\nsummary: \"bad \xed\xa0\x80 bytes\"\n")
    p = subprocess.run([iiifd_bin, "check", str(root)], capture_output=True, text=True)
    text = p.stdout + p.stderr
    assert p.returncode != 0 and "bk/manifest.yml:2" in text and "Unicode" in text, text
    s = server_factory(root_dir=str(root))
    man = _get_manifest(s, 1)
    assert "summary" not in man and "Fine" not in str(man.get("label")), man
    assert _lines(s, "bk/manifest.yml:2"), s.stderr_text()[-2000:]


# --------------------------------------------------------------------------------------------
# the cache folder
# --------------------------------------------------------------------------------------------
def _image_root(tmp_path):
    root = tmp_path / "img"
    root.mkdir()
    Image.fromarray(fx.PYR.rgb()).save(root / "flat.png")  # 2000x1500: gets a pyramid at 1 MP
    Image.fromarray(fx.GRID.rgb()).save(root / "small.png")
    return root


def _pyramids(cache):
    d = cache / "pyramids"
    # .claims: the lock file of builds (image/pyramid_claim.c), not a pyramid
    return sorted(p.name for p in d.iterdir() if p.name != ".claims") if d.is_dir() else []


def test_leftovers_of_a_crash_are_removed_at_start(server_factory, tmp_path):
    cache = tmp_path / "cache"
    planted = [cache / "pyramids" / "0123abcd-1-2.tif.tmp-999999999",  # its process is gone
               cache / "derived" / ("ab" * 32 + "-1.jpg.tmp.Xy12Zq"),
               cache / ("c" * 32) / ("d" * 40 + ".tmp.Ab34Cd")]
    # builds of nodes sharing the folder (pyramid-dir): "<pyramid>.tmp-HOST-PID"
    host = socket.gethostname().replace("-", "_").replace("/", "_")
    planted.append(cache / "pyramids" / f"0123abcd-1-3.tif.tmp-{host}-999999999")  # ours, gone
    stale = cache / "pyramids" / "0123abcd-1-4.tif.tmp-elsewhere-12"  # another host's, a day old
    planted.append(stale)
    running = cache / "pyramids" / "0123abcd-1-5.tif.tmp-elsewhere-12"  # another host's, now
    kept = cache / "pyramids" / "0123abcd-1-2.tif"
    for f in planted + [kept, running]:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"half a file")
    os.utime(stale, (time.time() - 90000, time.time() - 90000))
    s = server_factory(args=("--cache-dir", str(cache), "--pyramid-threshold-mp", "1"),
                       root_dir=str(_image_root(tmp_path)))
    assert s.get("/health").status == 200
    left = [str(f) for f in planted if f.exists()]
    assert not left, f"leftovers still there after start: {left}"
    assert kept.exists(), "a finished pyramid is not a leftover"
    assert running.exists(), "another host's build in progress is not a leftover"


def test_purge_empties_pyramids_and_derived(iiifd_bin, server_factory, tmp_path):
    root, cache = _image_root(tmp_path), tmp_path / "cache"
    s = server_factory(args=("--cache-dir", str(cache), "--pyramid-threshold-mp", "1"),
                       root_dir=str(root))
    assert s.get("/iiif/3/flat.png/512,512,512,512/256,/0/default.png").status == 200
    fx.wait_for(lambda: any(n.endswith(".tif") for n in _pyramids(cache)), "a pyramid", timeout=90)
    still = cache / "derived" / ("ef" * 32 + "-1.jpg")
    still.parent.mkdir(exist_ok=True)
    still.write_bytes(b"\xff\xd8 a poster frame")
    other = cache / "pyramids" / (hashlib.sha256(b"/elsewhere/x.png").hexdigest()[:32] +
                                  "-1.000000000-2.tif")
    other.write_bytes(b"another image's pyramid")

    p = fx.run([iiifd_bin, "cache", "purge", "--cache-dir", str(cache), "--root", str(root),
                "flat.png"])
    assert p.returncode == 0, p.stderr
    assert _pyramids(cache) == [other.name], "purging flat.png must remove its pyramid only"
    assert still.exists()

    p = fx.run([iiifd_bin, "cache", "purge", "--cache-dir", str(cache)])
    assert p.returncode == 0, p.stderr
    assert _pyramids(cache) == [] and not still.exists(), os.listdir(cache)
    # the running server builds the purged pyramid again
    assert s.get("/iiif/3/flat.png/512,512,512,512/256,/0/default.png").status == 200
    fx.wait_for(lambda: any(n.endswith(".tif") for n in _pyramids(cache)), "a rebuilt pyramid", timeout=90)


def test_small_pyramid_limit_evicts_least_recently_used(server_factory, tmp_path):
    cache = tmp_path / "cache"
    (cache / "pyramids").mkdir(parents=True)
    now = time.time()
    old = []
    for i in range(3):  # 400 KiB each, oldest first: 1.2 MiB against a 1 MiB limit
        f = cache / "pyramids" / f"{i:032x}-1.000000000-2.tif"
        f.write_bytes(b"\0" * (400 << 10))
        os.utime(f, (now - 3600 * (3 - i), now - 3600 * (3 - i)))
        old.append(f)
    s = server_factory(args=("--cache-dir", str(cache), "--pyramid-threshold-mp", "1",
                             "--pyramid-cache-size-mb", "1"),
                       root_dir=str(_image_root(tmp_path)))
    assert s.get("/health").status == 200
    assert [f.exists() for f in old] == [False, True, True], "the oldest goes first"
    assert s.get("/iiif/3/flat.png/512,512,512,512/256,/0/default.png").status == 200
    def new_pyramids():
        return [n for n in _pyramids(cache) if n.endswith(".tif") and not n.startswith("0000")]
    fx.wait_for(new_pyramids, "a new pyramid", timeout=90)
    built = new_pyramids()
    total = sum(os.path.getsize(cache / "pyramids" / n) for n in _pyramids(cache))
    assert total <= 1 << 20, _pyramids(cache)
    assert built and not old[1].exists(), "the newest pyramid stays, older ones make room"
    # the new pyramid serves
    r = s.get("/iiif/3/flat.png/256,256,512,512/256,/0/default.png")
    assert r.status == 200 and 'desc="pyramid"' in r.header("Server-Timing"), \
        r.header("Server-Timing")


def test_media_stills_count_against_the_cache_limit(server_factory, tmp_path):
    """Poster frames and waveforms in cache-dir/derived/ are part of cache-size-mb."""
    cache = tmp_path / "cache"
    (cache / "derived").mkdir(parents=True)
    now = time.time()
    stills = []
    for i in range(2):  # 600 KiB each against a 1 MiB limit
        f = cache / "derived" / (f"{i:064x}" + "-1.jpg")
        f.write_bytes(b"\0" * (600 << 10))
        os.utime(f, (now - 3600 * (2 - i), now - 3600 * (2 - i)))
        stills.append(f)
    s = server_factory(args=("--cache-dir", str(cache), "--cache-size-mb", "1"),
                       root_dir=str(_image_root(tmp_path)))
    assert s.get("/health").status == 200
    assert [f.exists() for f in stills] == [False, True], "the older still goes first"


def test_a_new_media_still_makes_room_in_the_cache(server_factory, tmp_path):
    """A waveform rendered while serving is counted too: the older still gives way."""
    root, cache = _image_root(tmp_path), tmp_path / "cache"
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=44100:duration=2", "-c:a", "libmp3lame",
                    str(root / "tone.mp3")], check=True, timeout=120)
    (cache / "derived").mkdir(parents=True)
    old = cache / "derived" / ("0" * 64 + "-1.png")
    old.write_bytes(b"\0" * ((1 << 20) - 512))  # fits the 1 MiB limit alone, just
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    s = server_factory(args=("--cache-dir", str(cache), "--cache-size-mb", "1"),
                       root_dir=str(root))
    assert s.get("/health").status == 200 and old.exists()
    r = s.get("/iiif/3/tone.mp3;waveform/full/max/0/default.png")
    assert r.status == 200, (r.status, r.body[:200])
    new = [p for p in (cache / "derived").iterdir() if p != old]
    assert new and not old.exists(), "the older still must make room for the new waveform"
