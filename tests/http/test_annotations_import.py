"""`iiifd import` (docs/annotations.md, "Where annotations come from"): each file's count, re-imports
of unchanged files (0, no duplicates), --force (same count, no duplicates), a changed file
replacing what it gave before, and malformed files (exit 1, a message naming the file and the
line, nothing of that file stored, the good files still imported)."""

import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from annotation_fixtures import (  # noqa: E402,F401
    ocr_items, BROKEN, BROKEN_MENTIONS, EXPECTED_COUNTS, GOOD_BROKEN_TREE, LOREM_TOTAL, _anno_health,
    _anno_shared_cleanup, _memo, _SERVERS, atree, canvas_page, canvas_pages, canvas_url,
    collection_url, get_json, http, import_counts, manifest_url, path_of, run_import,
    search_total)


def server_over(server_factory, root, data):
    return server_factory(args=["--data-dir", data, "--auto-import", "false"], root_dir=root)


def snapshot(server):
    """Numbers that change if anything is missing or stored twice."""
    book, av, photos = (manifest_url(server, m) for m in ("book", "av", "photos"))
    return {
        "book lorem": search_total(server, book, q="lorem"),
        "book quick (2 lines)": search_total(server, book, q="quick"),
        "book cafe (2 lines)": search_total(server, book, q="cafe"),
        "collection zebra": search_total(server, collection_url(server), q="zebra"),
        "av stripes": search_total(server, av, q="stripes"),
        "photos cat": search_total(server, photos, q="cat"),
        "photos landscape": search_total(server, photos, q="landscape"),
        "canvas 1 supplementing items": len(ocr_items(server, "book", 1)),
        "canvas 3 supplementing items": len(ocr_items(server, "book", 3)),
        "photos canvas 1 tagging items": len(canvas_page(server, "photos", 1, "tagging")["items"]),
    }


EXPECTED_SNAPSHOT = {
    "book lorem": LOREM_TOTAL, "book quick (2 lines)": 2, "book cafe (2 lines)": 2,
    "collection zebra": 3, "av stripes": 1, "photos cat": 1, "photos landscape": 1,
    "canvas 1 supplementing items": EXPECTED_COUNTS["book/page1.xml"],
    "canvas 3 supplementing items": EXPECTED_COUNTS["book/page3.hocr"],
    "photos canvas 1 tagging items": 2,
}


def check_counts(p, want, what):
    assert p.returncode == 0, f"{what}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    got = import_counts(p.stdout)
    assert got == want, (f"{what}: per-file counts differ.\n got  {got}\n want {want}\n"
                         f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")


def test_import_counts_per_file(iiifd_bin, atree, tmp_path, server_factory):
    data = str(tmp_path / "data")
    p = run_import(iiifd_bin, atree.root, data, atree.root)
    check_counts(p, EXPECTED_COUNTS, "first import of the tree")
    if not fx.database_args(data):  # SQLite: the file in data-dir (PostgreSQL: no file)
        assert os.path.isfile(os.path.join(data, "annotations.sqlite")), os.listdir(data)
    s = server_over(server_factory, atree.root, data)
    assert snapshot(s) == EXPECTED_SNAPSHOT


def test_reimport_unchanged_then_force_no_duplicates(iiifd_bin, atree, tmp_path, server_factory):
    data = str(tmp_path / "data")
    check_counts(run_import(iiifd_bin, atree.root, data, atree.root), EXPECTED_COUNTS, "import")
    s = server_over(server_factory, atree.root, data)
    before = snapshot(s)
    assert before == EXPECTED_SNAPSHOT

    p = run_import(iiifd_bin, atree.root, data, atree.root)
    check_counts(p, {k: 0 for k in EXPECTED_COUNTS}, "re-import of unchanged files")
    assert "unchanged" in p.stdout, f"re-import does not say the files were unchanged:\n{p.stdout}"
    assert snapshot(s) == before, "re-importing unchanged files changed the store"

    p = run_import(iiifd_bin, atree.root, data, atree.root, force=True)
    check_counts(p, EXPECTED_COUNTS, "re-import with --force")
    assert snapshot(s) == before, "--force stored duplicates or lost annotations"

    # single file, forced twice more: still exactly one copy
    for _ in range(2):
        p = run_import(iiifd_bin, atree.root, data, os.path.join(atree.root, "book", "page2.xml"),
                       force=True)
        check_counts(p, {"book/page2.xml": EXPECTED_COUNTS["book/page2.xml"]}, "forced page2.xml")
    assert snapshot(s) == before


def test_reimport_changed_file_replaces(iiifd_bin, atree, tmp_path, server_factory):
    """'importing a file again replaces what it gave before'"""
    root = str(tmp_path / "root")
    shutil.copytree(atree.path("photos"), os.path.join(root, "photos"))
    data = str(tmp_path / "data")
    check_counts(run_import(iiifd_bin, root, data, root),
                 {"photos/detections.json": 2, "photos/tags.csv": 2}, "import")
    s = server_over(server_factory, root, data)
    photos = manifest_url(s, "photos")
    assert search_total(s, photos, q="zebra") == 1
    csv = os.path.join(root, "photos", "tags.csv")
    with open(csv) as f:
        text = f.read()
    with open(csv, "w") as f:
        f.write(text.replace("zebra", "okapi") + "b.jpg,1,1,10,10,giraffe,0.3\n")
    os.utime(csv, (1700000000, 1700000000))   # a different mtime even on coarse clocks
    p = run_import(iiifd_bin, root, data, root)
    check_counts(p, {"photos/detections.json": 0, "photos/tags.csv": 3}, "import after editing")
    assert search_total(s, photos, q="zebra") == 0, "the old tag is still stored"
    assert search_total(s, photos, q="okapi") == 1
    assert search_total(s, photos, q="giraffe") == 1
    assert search_total(s, photos, q="cat") == 1, "another file's annotations were touched"
    assert len(canvas_page(s, "photos", 1, "tagging")["items"]) == 2
    assert len(canvas_page(s, "photos", 2, "tagging")["items"]) == 3


# --------------------------------------------------------------------------------------------
# malformed files
# --------------------------------------------------------------------------------------------
@pytest.fixture
def broken_run(iiifd_bin, atree, tmp_path_factory):
    """The whole broken tree imported once (memoised): (process, server over its store)."""
    def make():
        work = str(tmp_path_factory.mktemp("anno-broken"))
        data = os.path.join(work, "data")
        p = run_import(iiifd_bin, atree.broken, data, atree.broken)
        s = fx.Server(iiifd_bin, atree.broken, work, name="annobroken",
                      args=["--data-dir", data, "--auto-import", "false"]).start()
        _SERVERS.append(s)
        return p, s
    return _memo("broken_run", make)


def test_import_broken_tree_exit_and_good_files(broken_run):
    p, s = broken_run
    assert p.returncode == 1, (f"import of a tree with malformed files: exit {p.returncode}, "
                               f"want 1\n{p.stdout}\n{p.stderr}")
    got = import_counts(p.stdout)
    for rel, n in GOOD_BROKEN_TREE.items():
        assert got.get(rel) == n, f"good file {rel}: count {got.get(rel)}, want {n}\n{p.stdout}"
    for rel, _line, _w, _why in BROKEN.values():
        assert got.get(rel, 0) == 0, f"malformed {rel} reported as imported:\n{p.stdout}"
    assert search_total(s, manifest_url(s, "good"), q="wombatgood") == 1, \
        "the good file next to the broken ones was not stored"


def _message_for(output, rel):
    name = os.path.basename(rel)
    lines = [l for l in output.splitlines() if rel in l]
    return lines or [l for l in output.splitlines() if name in l and "annotations" not in l]


@pytest.mark.parametrize("folder", sorted(BROKEN))
def test_import_malformed_file(folder, broken_run, iiifd_bin, atree, tmp_path):
    rel, line, word, why = BROKEN[folder]
    p, s = broken_run
    # the message of the whole-tree run
    msgs = _message_for(p.stdout + p.stderr, rel)
    assert msgs, f"no message names {rel} ({why}):\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    if line is not None:
        assert any(f":{line}:" in m or f":{line} " in m or f"line {line}" in m for m in msgs), \
            f"the message for {rel} ({why}) does not name line {line}: {msgs}"
    if folder in BROKEN_MENTIONS:
        assert any(BROKEN_MENTIONS[folder] in m for m in msgs), \
            f"the message for {rel} does not name {BROKEN_MENTIONS[folder]!r}: {msgs}"
    # nothing of that file is stored: its own word, and nothing at all on its Canvas
    assert search_total(s, collection_url(s), q=word) == 0, \
        f"{word!r} (only in malformed {rel}) is searchable: the import was not all or nothing"
    assert search_total(s, manifest_url(s, folder), q=word) == 0
    r, canvas = get_json(s, canvas_url(s, folder, 1))
    assert canvas_pages(canvas) == {}, \
        f"Canvas of {folder} lists annotation pages after a failed import: {canvas_pages(canvas)}"
    # the file alone: exit 1 too, same kind of message
    one = run_import(iiifd_bin, atree.broken, str(tmp_path / "data"),
                     os.path.join(atree.broken, rel))
    assert one.returncode == 1, f"import of {rel} alone: exit {one.returncode}\n{one.stdout}\n{one.stderr}"
    msgs = _message_for(one.stdout + one.stderr, rel)
    assert msgs, f"import of {rel} alone: no message names it:\n{one.stdout}\n{one.stderr}"
    if line is not None:
        assert any(f":{line}:" in m or f":{line} " in m or f"line {line}" in m for m in msgs), msgs


def test_check_reports_malformed_annotation_files(iiifd_bin, atree):
    """docs/annotations.md: '`iiifd check ROOT` reports malformed annotation files too'."""
    from presentation_fixtures import run_cli
    p = run_cli(iiifd_bin, "check", atree.broken)
    out = p.stdout + p.stderr
    assert p.returncode != 0, f"check of a tree with malformed annotation files exits 0:\n{out}"
    missing = [rel for rel, _l, _w, _why in BROKEN.values() if not _message_for(out, rel)]
    assert not missing, f"iiifd check does not name {missing}:\n{out}"
    for rel, line, _w, why in BROKEN.values():
        if line is not None:
            msgs = _message_for(out, rel)
            assert any(f":{line}:" in m or f":{line} " in m or f"line {line}" in m
                       for m in msgs), f"check: the message for {rel} ({why}) lacks line {line}: {msgs}"
    assert not [ln for ln in out.splitlines() if "good/page1.xml" in ln], \
        f"check complains about the good file:\n{out}"
    good = run_cli(iiifd_bin, "check", atree.root)
    assert good.returncode == 0, f"check of the clean tree: {good.returncode}\n{good.stdout}{good.stderr}"
