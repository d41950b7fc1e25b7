"""Issue #10 §3: broken sidecars logged once per file version, invalid UTF-8 in a sidecar named
by file and line, and a cache folder that cleans up after crashes, stays under its limits and is
emptied by `iiifd cache purge`."""

import os
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
