"""Auto-import (docs/annotations.md: "Files next to the media are imported automatically, in the
background, the first time their folder's Manifest is requested"): with --auto-import true and a
fresh store, requesting the Manifests is enough; the Canvases then list their annotation pages
within 30 s. The read-only checks of test_annotations_canvas.py and test_search*.py run against
this server too (fixture `srv`, param "auto"). With --auto-import false nothing is imported."""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from annotation_fixtures import (  # noqa: E402,F401
    ocr_items, AUTO_TIMEOUT, EXPECTED_COUNTS, LOREM_TOTAL, _anno_health, _anno_shared_cleanup, atree,
    auto_server, canvas_page, canvas_pages, canvas_url, collection_url, get_json, http,
    manifest_url, path_of, search_total)


def test_auto_import_after_manifest_request(auto_server):
    s, seconds = auto_server
    assert seconds <= AUTO_TIMEOUT
    print(f"auto-import of the tree took {seconds:.2f} s")
    # every file arrived, exactly once
    assert len(ocr_items(s, "book", 1)) == EXPECTED_COUNTS["book/page1.xml"]
    assert len(ocr_items(s, "book", 2)) == EXPECTED_COUNTS["book/page2.xml"]
    assert len(ocr_items(s, "book", 3)) == EXPECTED_COUNTS["book/page3.hocr"]
    assert len(canvas_page(s, "av", 1, "supplementing")["items"]) == EXPECTED_COUNTS["av/talk.en.vtt"]
    assert search_total(s, collection_url(s), q="zebra") == 3
    # asking again does not import twice
    for m in ("book", "av", "photos"):
        get_json(s, manifest_url(s, m))
    time.sleep(1.0)
    assert search_total(s, manifest_url(s, "book"), q="lorem") == LOREM_TOTAL
    assert len(canvas_page(s, "photos", 1, "tagging")["items"]) == 2


def test_no_auto_import_when_off(iiifd_bin, atree, tmp_path, server_factory):
    s = server_factory(args=["--data-dir", str(tmp_path / "data"), "--auto-import", "false"],
                       root_dir=atree.root)
    for m in ("book", "av", "photos"):
        get_json(s, manifest_url(s, m))
    time.sleep(1.5)
    _r, canvas = get_json(s, canvas_url(s, "book", 1))
    assert canvas_pages(canvas) == {}, \
        f"--auto-import false, yet the Canvas lists annotation pages {canvas_pages(canvas)}"
    assert search_total(s, manifest_url(s, "book"), q="lorem") == 0
    r = http(s, "GET", path_of(s, canvas_url(s, "book", 1) + "/annotations/supplementing"))
    assert r.status == 404 or (r.status == 200 and not r.json().get("items")), \
        f"empty store: {r.status} {r.body[:200]!r}"


def test_auto_import_follows_changes(iiifd_bin, atree, tmp_path, server_factory):
    """'... imported automatically ... (and again whenever they change)'"""
    root = str(tmp_path / "root")
    shutil.copytree(atree.path("photos"), os.path.join(root, "photos"))
    s = server_factory(args=["--data-dir", str(tmp_path / "data"), "--auto-import", "true"],
                       root_dir=root)
    photos = manifest_url(s, "photos")

    def wait(state, want, what):
        """Re-requests the Manifest until state() == want."""
        t0 = time.monotonic()
        while True:
            get_json(s, photos)
            got = state()
            if got == want:
                return
            if time.monotonic() - t0 > AUTO_TIMEOUT:
                raise AssertionError(f"after {AUTO_TIMEOUT} s: {what}: {got}, want {want}")
            time.sleep(0.2)

    def totals():
        return {w: search_total(s, photos, q=w) for w in ("zebra", "okapi")}

    wait(totals, {"zebra": 1, "okapi": 0}, "the first import did not happen")
    csv = os.path.join(root, "photos", "tags.csv")
    with open(csv) as f:
        text = f.read()
    with open(csv, "w") as f:
        f.write(text.replace("zebra", "okapi"))
    os.utime(csv, (1700000000, 1700000000))
    wait(totals, {"zebra": 0, "okapi": 1}, "the edited tags.csv was not imported again")
    assert search_total(s, photos, q="cat") == 1, "the unchanged detections.json was lost"
    assert len(canvas_page(s, "photos", 1, "tagging")["items"]) == 2
