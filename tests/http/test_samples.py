"""The sample library of `make run` (scripts/make-samples, docs/samples.md), end to end: made
once per session into a tmp folder, checked by `iiifd check`, then served by a real server and
walked: the root Collection down to every Manifest, every image's info.json and a tile of it,
every audio, video and caption file, the annotations (ALTO, COCO, CSV, WebVTT) after the
automatic import, and the promises docs/samples.md makes (the word printed on page 2 only, the
languages, chapters, navPlace). Also the "once" rule: an existing library is left alone, and
one made by an older make-samples is reported."""

import os
import re
import subprocess
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from presentation_fixtures import DocChecks, doc_errors, load_schema, validator_for  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAKE_SAMPLES = os.path.join(REPO, "scripts", "make-samples")
PRES = "/iiif/presentation"
IMPORT_TIMEOUT = 180  # s: the import runs in the background, under ASan on a shared machine

BOOK = "books/keeper-log"
PAGE2_WORD = "narwhal"  # docs/samples.md: printed on page 2 only
# every Manifest of the library, by path (docs/samples.md), with its number of Canvases
MANIFESTS = {
    BOOK: 5, "books/multipage.tif": 3, "pictures/harbour": 3, "pictures/photo.tif": 1,
    "pictures/photo.jp2": 1, "pictures/test-grid.png": 1, "media/dusk-at-the-quay.mp4": 1,
    "media/foghorn.mp3": 1, "media/recordings": 2, "maps": 2,
}
COLLECTIONS = {"": {"books", "pictures", "media"}, "books": set(), "pictures": set(),
               "media": set()}


# --------------------------------------------------------------------------------------------
# Fixtures: the library (made once), a server on it
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def library(tmp_path_factory):
    lib = str(tmp_path_factory.mktemp("samples") / "lib")
    t0 = time.monotonic()
    p = subprocess.run([MAKE_SAMPLES, lib], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"make-samples failed:\n{p.stdout}\n{p.stderr}"
    print(f"make-samples took {time.monotonic() - t0:.1f} s: {p.stdout.strip()}")
    return lib


@pytest.fixture(scope="module")
def srv(iiifd_bin, library, tmp_path_factory):
    s = fx.Server(iiifd_bin, library, tmp_path_factory.mktemp("samples-srv"), name="samples")
    s.start()
    yield s
    s.stop()
    found, text = s.new_sanitizer_reports()
    assert not found, f"sanitizer reports from the server: {found}\n{text[-4000:]}"
    # nothing in the library made the server complain (a sidecar, an annotation file, a media
    # file it could not read...)
    complaints = [line for line in s.stderr_text().splitlines()
                  if re.search(r"\b(warn|error)\b", line)]
    assert not complaints, "\n".join(complaints[:20])


def path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + (f"?{u.query}" if u.query else "")


def get(s, url, status=200, **kw):
    r = s.get(path_of(url) if url.startswith("http") else url, **kw)
    assert r.status == status, f"GET {url}: {r.status} {r.body[:300]!r}"
    return r


def get_json(s, url):
    return get(s, url).json()


def manifest_url(s, path):
    return f"{s.base}{PRES}/{path}/manifest"


def languages(value):
    return set(value) if isinstance(value, dict) else set()


def search(s, scope, q):
    return get_json(s, f"{path_of(scope)}/search?q={urllib.parse.quote(q)}")


def hits(doc):
    return [(i["target"] if isinstance(i["target"], str)
             else i["target"].get("source", i["target"].get("id")),
             i["body"]["value"]) for i in doc.get("items", [])]


def wait_for_hits(s, manifest, q, want):
    """Requests the Manifest (which starts the import) and searches until want(hits) holds."""
    t0 = time.monotonic()
    while True:
        get_json(s, manifest)
        found = hits(search(s, manifest, q))
        if want(found):
            return found
        if time.monotonic() - t0 > IMPORT_TIMEOUT:
            raise AssertionError(f"after {IMPORT_TIMEOUT} s, search {q!r} in {manifest}: {found}")
        time.sleep(0.5)


def walk(s):
    """{collection path: its JSON}, {manifest path: its JSON}, from the root down."""
    collections, manifests = {}, {}
    todo = [""]
    while todo:
        path = todo.pop()
        doc = get_json(s, f"{PRES}/{path + '/' if path else ''}collection")
        collections[path] = doc
        for item in doc["items"]:
            p = path_of(item["id"])[len(PRES) + 1:]
            if item["type"] == "Collection":
                todo.append(p[:-len("/collection")])
            else:
                assert item["type"] == "Manifest", item
                m = p[:-len("/manifest")]
                manifests[m] = get_json(s, item["id"])
    return collections, manifests


def canvases_bodies(manifest):
    for canvas in manifest["items"]:
        for page in canvas["items"]:
            for anno in page["items"]:
                yield canvas, anno["body"]


# --------------------------------------------------------------------------------------------
# The files
# --------------------------------------------------------------------------------------------
def test_check_reports_no_problem(iiifd_bin, library, tmp_path):
    p = subprocess.run([iiifd_bin, "check", library], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert p.returncode == 0, f"iiifd check {library}: {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert re.search(r"\b0 problems\b", p.stdout + p.stderr), p.stdout + p.stderr


def test_made_once_and_old_libraries_reported(library, tmp_path):
    """A second run leaves the library alone; a library of an older version is reported (and
    also left alone); so is a folder make-samples did not make."""
    before = {os.path.join(d, f): os.stat(os.path.join(d, f)).st_mtime_ns
              for d, _, fs in os.walk(library) for f in fs}
    p = subprocess.run([MAKE_SAMPLES, library], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "leaving it alone" in p.stdout, p.stdout + p.stderr
    after = {os.path.join(d, f): os.stat(os.path.join(d, f)).st_mtime_ns
             for d, _, fs in os.walk(library) for f in fs}
    assert after == before
    with open(os.path.join(library, ".make-samples-version")) as f:
        version = int(f.read())

    old = tmp_path / "old"
    old.mkdir()
    (old / ".make-samples-version").write_text(f"{version - 1}\n")
    (old / "page.png").write_bytes(b"old")
    flat = tmp_path / "flat"  # the layout before the version stamp
    flat.mkdir()
    (flat / "photo.tif").write_bytes(b"old")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"mine")
    for d, says in ((old, f"older make-samples (version {version - 1}"),
                    (flat, "older make-samples (version 1"), (mine, "did not make")):
        p = subprocess.run([MAKE_SAMPLES, str(d)], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert says in p.stderr and "WARNING" in p.stderr, (d, p.stdout, p.stderr)
        assert len(os.listdir(d)) == (2 if d == old else 1), os.listdir(d)
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".make-samples.")]


# --------------------------------------------------------------------------------------------
# Served
# --------------------------------------------------------------------------------------------
def test_hierarchy_and_every_manifest(srv):
    collections, manifests = walk(srv)
    assert {p: {path_of(i["id"])[len(PRES) + 1:-len("/collection")] for i in c["items"]
                if i["type"] == "Collection"}
            for p, c in collections.items()} == COLLECTIONS
    assert {p: len(m["items"]) for p, m in manifests.items()} == MANIFESTS
    # labels and summaries in several languages, so Accept-Language has a choice
    root = collections[""]
    assert {"en", "fr", "de"} <= languages(root["label"]) & languages(root["summary"])
    for p in ("books", "pictures", "media"):
        assert {"en", "fr", "de"} <= languages(collections[p]["label"]), p
    assert root["provider"][0]["homepage"] and root["requiredStatement"]["value"]
    for p, m in manifests.items():
        assert {"en", "fr", "de"} <= languages(m["label"]), p
        assert m["rights"] == "http://creativecommons.org/publicdomain/zero/1.0/", p
    book = manifests[BOOK]
    assert book["navPlace"]["features"][0]["geometry"]["type"] == "Point"
    assert book["requiredStatement"] and len(book["metadata"]) >= 3
    assert book["behavior"] == ["paged"] and len(book["structures"]) == 3
    assert [c["label"]["en"][0] for c in book["items"]] == \
        ["Title page", "March", "April", "May", "June"]
    # HTML in a summary is marked as such the way Presentation 3 (4.5) says: < first, > last
    for lang, (text,) in book["summary"].items():
        assert text.startswith("<p>") and text.endswith("</p>") and "<b>narwhal</b>" in text, lang
    assert manifests["pictures/harbour"]["navPlace"]["features"]
    # the maps: each Canvas georeferenced (docs/maps.md), the Manifest's navPlace made from them
    maps = manifests["maps"]
    assert len(maps["navPlace"]["features"]) == 2
    for canvas in maps["items"]:
        page = canvas["annotations"][0]
        assert page["items"][0]["motivation"] == "georeferencing", canvas["id"]
        assert canvas["navPlace"]["features"][0]["geometry"]["type"] == "Polygon"
    # each Collection's thumbnail (its first member's) is a picture, not a test pattern or a
    # waveform: the names in the library are chosen for that (scripts/make-samples)
    thumbs = {path_of(i["id"])[len(PRES) + 1:-len("/collection")]:
              urllib.parse.unquote(path_of(i["thumbnail"][0]["id"]).split("/")[3])
              for i in root["items"] if i["type"] == "Collection"}
    assert thumbs == {"books": "books/keeper-log/page1.jpg",
                      "pictures": "pictures/harbour/1-morning.jpg",
                      "media": "media/dusk-at-the-quay.mp4;poster"}


def test_every_thumbnail_and_placeholder(srv):
    """The images a home page and a viewer show before anything else: the thumbnails of every
    Collection, Manifest and Canvas, and the placeholders (poster frames, waveforms) of audio and
    video, which iiifd makes from the media files themselves."""
    collections, manifests = walk(srv)
    urls = set()
    for doc in list(collections.values()) + list(manifests.values()):
        urls |= {t["id"] for t in doc.get("thumbnail", [])}
        for item in doc["items"]:
            urls |= {t["id"] for t in item.get("thumbnail", [])}
            ph = item.get("placeholderCanvas")
            if ph:
                urls.add(ph["items"][0]["items"][0]["body"]["id"])
    assert sum(";poster" in u for u in urls) >= 1 and sum(";waveform" in u for u in urls) >= 3
    for u in sorted(urls):
        r = get(srv, u)
        assert r.content_type == "image/jpeg" and min(r.image().size) > 0, (u, r)


def test_documents_are_valid_presentation3(srv):
    """Every Collection and Manifest of the library passes the project's structural checks of
    Presentation 3.0 and, when ../shared has it, the official JSON schema."""
    collections, manifests = walk(srv)
    v = validator_for(DocChecks(load_schema()))
    bad = {p: errs for p, doc in list(collections.items()) + list(manifests.items())
           if (errs := doc_errors(v, doc))}
    assert not bad, bad


def test_every_image_info_and_tile(srv):
    _, manifests = walk(srv)
    seen = 0
    for path, m in manifests.items():
        for canvas, body in canvases_bodies(m):
            if body["type"] != "Image":
                continue
            svc = [x for x in body["service"] if x.get("type") == "ImageService3"][0]
            info = get_json(srv, svc["id"] + "/info.json")
            assert (info["width"], info["height"]) == (canvas["width"], canvas["height"]), path
            t = info.get("tiles", [{"width": 256}])[0]
            tw, th = t["width"], t.get("height", t["width"])
            w, h = min(tw, info["width"]), min(th, info["height"])
            r = get(srv, f"{svc['id']}/0,0,{w},{h}/{w},/0/default.jpg")
            assert r.content_type == "image/jpeg" and r.image().size == (w, h), (path, r)
            seen += 1
    assert seen == 5 + 3 + 3 + 3 + 2  # book pages, TIFF pages, harbour photos, tif/jp2/png, maps


def test_every_media_and_caption_file(srv, library):
    _, manifests = walk(srv)
    kinds, caption_langs = {}, {}
    for path, m in manifests.items():
        for canvas, body in canvases_bodies(m):
            if body["type"] not in ("Sound", "Video"):
                continue
            rel = urllib.parse.unquote(path_of(body["id"]).split("/iiif/media/", 1)[1])
            r = get(srv, body["id"])
            with open(os.path.join(library, rel), "rb") as f:
                assert r.body == f.read(), rel
            r = get(srv, body["id"], status=206, headers={"Range": "bytes=0-99"})
            assert len(r.body) == 100
            kinds[rel] = (body["type"], round(canvas["duration"]))
            for page in canvas.get("annotations", []):
                if not path_of(page["id"]).endswith("/captions"):
                    continue
                for anno in get_json(srv, page["id"])["items"]:
                    vtt = get(srv, anno["body"]["id"])
                    assert vtt.body.startswith(b"WEBVTT"), anno["body"]["id"]
                    caption_langs.setdefault(rel, set()).add(anno["body"].get("language"))
    assert kinds == {"media/dusk-at-the-quay.mp4": ("Video", 12),
                     "media/foghorn.mp3": ("Sound", 10),
                     "media/recordings/1-waves.ogg": ("Sound", 6),
                     "media/recordings/2-bell.ogg": ("Sound", 5)}
    assert caption_langs == {"media/dusk-at-the-quay.mp4": {"en", "fr"},
                             "media/foghorn.mp3": {"en"}}
    for path, n in (("media/dusk-at-the-quay.mp4", 3), ("media/foghorn.mp3", 3)):
        ranges = manifests[path]["structures"]
        assert len(ranges) == n and all(len(languages(r["label"])) == 3 for r in ranges), path


def word_box_in_alto(library, page, word):
    root = ET.parse(os.path.join(library, BOOK, f"page{page}.xml")).getroot()
    boxes = [tuple(int(e.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
             for e in root.iter() if e.tag.endswith("String") and e.get("CONTENT") == word]
    return boxes


def test_book_search_finds_the_page2_word(srv, library):
    book = manifest_url(srv, BOOK)
    found = wait_for_hits(srv, book, PAGE2_WORD, lambda h: len(h) > 0)
    assert [t.split("#")[0] for t, _ in found] == [f"{book}/canvas/2"], found
    assert PAGE2_WORD in found[0][1].lower()
    # the hit's line box holds the word's box
    (x, y, w, h), = word_box_in_alto(library, 2, PAGE2_WORD)
    lx, ly, lw, lh = map(int, found[0][0].split("#xywh=")[1].split(","))
    assert lx <= x and ly <= y and x + w <= lx + lw and y + h <= ly + lh
    # the root Collection's search finds it too, and "lamp" is on pages 2 to 5 (docs/samples.md)
    assert [t for t, _ in hits(search(srv, f"{PRES}/collection", PAGE2_WORD))] == \
        [t for t, _ in found]
    # (each page is imported on its own: wait for the last one)
    def pages(found):
        return {t.split("#")[0].rsplit("/", 1)[1] for t, _ in found}
    wait_for_hits(srv, book, "lamp", lambda h: pages(h) >= {"2", "3", "4", "5"})
    assert pages(hits(search(srv, book, "lamp"))) == {"2", "3", "4", "5"}
    # what Mirador and the Universal Viewer ask: Content Search 1.0, and autocomplete
    v1 = get_json(srv, f"{path_of(book)}/search1?q={PAGE2_WORD}")
    assert [r["on"].split("#")[0] for r in v1["resources"]] == [f"{book}/canvas/2"]
    assert [h["match"] for h in v1["hits"]] == [PAGE2_WORD]
    terms = get_json(srv, f"{path_of(book)}/autocomplete?q={PAGE2_WORD[:4]}")["items"]
    assert {"value": PAGE2_WORD, "total": 1} in terms


def test_alto_boxes_sit_on_the_printed_words(srv, library):
    """The word's ALTO box, cut from the served page, holds ink; a strip just beside it (the
    space between words) holds none: the OCR is where the text was drawn."""
    (x, y, w, h), = word_box_in_alto(library, 2, PAGE2_WORD)
    ident = fx.quote_id(f"{BOOK}/page2.jpg")

    def dark_fraction(rx, ry, rw, rh):
        img = get(srv, f"/iiif/3/{ident}/{rx},{ry},{rw},{rh}/max/0/gray.png").image()
        px = list(img.convert("L").getdata())
        return sum(1 for v in px if v < 110) / len(px)

    assert dark_fraction(x, y, w, h) > 0.08
    assert dark_fraction(x - 5, y, 3, h) == 0
    assert dark_fraction(x + w + 2, y, 3, h) == 0


def test_photo_annotations_and_caption_search(srv, library):
    import csv
    import json
    harbour = manifest_url(srv, "pictures/harbour")
    with open(os.path.join(library, "pictures/harbour/detections.json")) as f:
        coco = json.load(f)
    with open(os.path.join(library, "pictures/harbour/tags.csv")) as f:
        rows = list(csv.DictReader(f))
    boats = sum(1 for a in coco["annotations"] if a["category_id"] ==
                [c["id"] for c in coco["categories"] if c["name"] == "boat"][0])
    wait_for_hits(srv, harbour, "boat", lambda h: len(h) == boats)   # detections.json
    found = wait_for_hits(srv, harbour, "cottages", lambda h: len(h) > 0)  # tags.csv
    assert [t.split("#")[0] for t, _ in found] == [f"{harbour}/canvas/1"]  # morning.jpg
    per_canvas = {}
    for n in (1, 2, 3):
        page = get_json(srv, f"{harbour}/canvas/{n}/annotations/tagging")
        per_canvas[n] = len(page["items"])
    names = [i["file_name"] for i in coco["images"]]
    assert per_canvas == {
        n: sum(1 for a in coco["annotations"] if a["image_id"] == coco["images"][n - 1]["id"])
        + sum(1 for r in rows if r["file"] == names[n - 1]) for n in (1, 2, 3)}
    # the film's captions are searchable, in both languages
    film = manifest_url(srv, "media/dusk-at-the-quay.mp4")
    for q in ("anchor", "mouillage"):
        found = wait_for_hits(srv, film, q, lambda h: len(h) == 1)
        assert "#t=" in found[0][0], found


def test_images_only_mode(tmp_path):
    """`--images-only DIR` (what bench/ uses): the four test images, flat, nothing else."""
    d = tmp_path / "flat"
    p = subprocess.run([MAKE_SAMPLES, "--images-only", str(d)], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert sorted(os.listdir(d)) == ["grid.png", "multipage.tif", "photo.jp2", "photo.tif"]
    sizes = {}
    for name in os.listdir(d):
        q = subprocess.run(["vipsheader", "-f", "width", str(d / name)], capture_output=True,
                           text=True, check=True)
        sizes[name] = int(q.stdout)
    assert sizes == {"grid.png": 1000, "multipage.tif": 800, "photo.jp2": 3000,
                     "photo.tif": 6000}


def test_interrupted_run_leaves_nothing(tmp_path):
    """Killed while it works, make-samples leaves no library (a later run would take a half-made
    one for the real thing) and no scratch folder."""
    d = tmp_path / "lib"
    proc = subprocess.Popen([MAKE_SAMPLES, str(d)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(2)
    proc.terminate()
    proc.wait(60)
    if d.exists():  # it finished before the signal (a fast machine): then it is complete
        assert (d / ".make-samples-version").is_file()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".make-samples.")]
