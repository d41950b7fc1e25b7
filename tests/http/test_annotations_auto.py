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
    alto_v4, auto_server, canvas_page, canvas_pages, canvas_url, collection_url, get_json, http,
    layout, manifest_url, page_png, path_of, search, search_total, write)
import fixtures as fx  # noqa: E402


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


def _ocr_book(root, words_per_line, lines):
    book = root / "fresh"
    book.mkdir(parents=True)
    page_png(str(book / "p1.png"), (235, 235, 225))
    rows = [layout(" ".join(f"w{i}x{j}" for j in range(words_per_line)) + " okapi", 10,
                   10 + 3 * i, 2, 1, 1) for i in range(lines)]
    write(str(book / "p1.xml"), alto_v4(rows, 1000, 10 + 3 * lines + 10, "p1.png"))
    return book


def test_first_visitor_sees_the_ocr(server_factory, tmp_path):
    """The Manifest waits (import-wait-ms) for its folder's imports: the very first response
    already lists the OCR pages, and the search finds the words."""
    root = tmp_path / "root"
    _ocr_book(root, 3, 20)
    s = server_factory(args=("--data-dir", str(tmp_path / "data")), root_dir=str(root))
    r, m = get_json(s, "/iiif/presentation/fresh/manifest")
    pages = [p["id"] for p in m["items"][0].get("annotations", [])]
    assert pages and pages[0].endswith("/annotations/supplementing"), m["items"][0]
    _r, page = get_json(s, pages[0])
    assert len(page["items"]) == 20
    doc = search(s, f"{s.base}/iiif/presentation/fresh/manifest", q="okapi")
    assert len(doc["items"]) == 20


def test_page_still_importing_is_503_not_an_incomplete_page(server_factory, tmp_path):
    """With import-wait-ms 0, the Manifest lists the pages of an OCR file still importing (from
    the file's presence); asking for such a page answers 503 with Retry-After and no-store,
    never an incomplete page, until the import is done."""
    root = tmp_path / "root"
    _ocr_book(root, 40, 2500)  # 100,000 words: seconds to import under the sanitizers
    s = server_factory(args=("--data-dir", str(tmp_path / "data"), "--import-wait-ms", "0"),
                       root_dir=str(root))
    _r, m = get_json(s, "/iiif/presentation/fresh/manifest")
    canvas = m["items"][0]
    pages = [p["id"] for p in canvas.get("annotations", [])]
    assert pages == [canvas["id"] + "/annotations/supplementing"], canvas
    assert canvas["seeAlso"][0]["id"] == canvas["id"] + "/annotations/words"
    r = http(s, "GET", path_of(s, pages[0]))
    assert r.status == 503, (r.status, "the import finished too fast for this test")
    assert r.header("Retry-After") and r.header("Cache-Control") == "no-store", r.headers
    def complete():
        r = http(s, "GET", path_of(s, pages[0]))
        assert r.status in (200, 503), r.status
        return r.status == 200 and len(r.json()["items"]) == 2500
    fx.wait_for(complete, "the import", timeout=240)
