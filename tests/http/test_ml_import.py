"""Machine-learning output in (docs/ml.md): PAGE XML, COCO polygons and RLE masks, YOLO, Label
Studio, Whisper transcripts and timed segments imported with `iiifd import`, served as Web
Annotations (outlines as SvgSelector, scores, generators), found by search (word-level hits on
#t= ranges), filtered by score on import and on read; malformed files fail naming the file and
the line or JSON path, and leave nothing behind."""

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from annotation_fixtures import (  # noqa: E402,F401
    canvas_page, canvas_url, get_json, http, import_counts, manifest_url, ocr_items, path_of,
    run_import, search, search_total, t_of, target_of, xywh_of, body_of)
import fixtures as fx  # noqa: E402
import presentation_fixtures as pf  # noqa: E402
from ml_fixtures import BROKEN, EXPECTED_COUNTS, make_broken_ml_tree, make_ml_tree  # noqa: E402


@pytest.fixture(scope="module")
def ml(iiifd_bin, tmp_path_factory):
    base = str(tmp_path_factory.mktemp("ml"))
    root = make_ml_tree(base)
    data = os.path.join(base, "data")
    p = run_import(iiifd_bin, root, data, root)
    return {"root": root, "data": data, "import": p, "base": base}


@pytest.fixture
def srv(ml, server_factory):
    return server_factory(args=["--data-dir", ml["data"], "--auto-import", "false"],
                          root_dir=ml["root"])


def svg_points(anno):
    """The point lists of an annotation's SvgSelector (None without one)."""
    t = anno["target"]
    if not isinstance(t, dict):
        return None
    sels = t["selector"] if isinstance(t["selector"], list) else [t["selector"]]
    svg = [s for s in sels if s.get("type") == "SvgSelector"]
    if not svg:
        return None
    assert svg[0]["value"].startswith('<svg xmlns="http://www.w3.org/2000/svg">'), svg[0]
    return re.findall(r'<polygon points="([^"]*)"/>', svg[0]["value"])


def test_import_counts(ml):
    p = ml["import"]
    assert p.returncode == 0, p.stderr
    assert import_counts(p.stdout) == EXPECTED_COUNTS, p.stdout


def test_page_xml_reading_order_and_outlines(srv):
    items = ocr_items(srv, "htr", 1)
    texts = [(a.get("textGranularity"), body_of(a)["value"]) for a in items]
    # the ReadingOrder puts r-first before r-second (the file has them the other way round)
    assert texts == [("block", "opening line\nquokkapage here"), ("line", "opening line"),
                     ("line", "quokkapage here"), ("block", "closing words"),
                     ("line", "closing words"), ("word", "quokkapage"), ("word", "here")], texts
    first_line = items[1]
    assert svg_points(first_line) == ["50,50 950,50 950,150 50,150"]
    _src, box = xywh_of(first_line)
    assert box == (50, 50, 900, 100)
    assert first_line["generator"] == {"type": "Software", "name": "Kraken 4.3"}
    word = items[5]
    assert svg_points(word) == ["50,200 300,200 300,300 50,300"]
    assert word["score"] == pytest.approx(0.9)


def test_page_xml_search_finds_the_line_once_on_its_word(srv):
    doc = search(srv, manifest_url(srv, "htr"), q="quokkapage")
    # the region repeats the line's text but is not searched: one hit, on the word's box
    assert len(doc["items"]) == 1, doc["items"]
    _src, box = xywh_of(doc["items"][0])
    assert box == (50, 200, 250, 100)


def test_coco_polygon_and_rle_mask(srv):
    a = canvas_page(srv, "det", 1, "tagging")["items"]
    okapi = [x for x in a if body_of(x)["value"] == "okapi"]
    assert len(okapi) == 1
    # declared 400x300, Canvas 800x600: x2
    assert svg_points(okapi[0]) == ["20,20 220,20 220,120 20,120"]
    assert xywh_of(okapi[0])[1] == (20, 20, 200, 100)
    assert okapi[0]["score"] == pytest.approx(0.9)
    assert okapi[0]["generator"]["name"] == "Mask R-CNN R50"
    b = canvas_page(srv, "det", 2, "tagging")["items"]
    lynx = [x for x in b if body_of(x)["value"] == "lynx"]
    # a 4x3 mask on a 640x480 Canvas: 160 x 160 per mask pixel, two regions traced
    assert svg_points(lynx[0]) == ["160,0 320,0 320,320 160,320",
                                   "480,160 640,160 640,480 480,480"]


def test_yolo_and_label_studio(srv):
    a = canvas_page(srv, "det", 1, "tagging")["items"]
    heron = [x for x in a if body_of(x)["value"] == "heron"]
    assert len(heron) == 1
    assert xywh_of(heron[0])[1] == (300, 150, 200, 300)
    assert heron[0]["score"] == pytest.approx(0.8)
    b = canvas_page(srv, "det", 2, "tagging")["items"]
    ibis = [x for x in b if body_of(x)["value"] == "ibis"]
    assert len(ibis) == 1
    assert xywh_of(ibis[0])[1] == (160, 240, 320, 120)
    assert ibis[0]["generator"] == {"type": "Software", "name": "ls-model 2"}
    assert ibis[0]["score"] == pytest.approx(0.3)


def test_whisper_word_level_hits_on_time_ranges(srv):
    av = manifest_url(srv, "av")
    doc = search(srv, av, q="wombat")
    assert len(doc["items"]) == 1, doc["items"]
    src, (t0, t1) = t_of(doc["items"][0])
    assert src == canvas_url(srv, "av", 1)
    assert (t0, t1) == (1.0, 1.5), "the hit is the word's time, not the segment's"
    items = ocr_items(srv, "av", 1)
    lines = [a for a in items if a.get("textGranularity") == "line"]
    assert [(body_of(a)["value"], t_of(a)[1]) for a in lines] == [
        ("The wombat sleeps.", (0.5, 3.0)), ("Goodbye now.", (4.0, 6.0))]
    words = [a for a in items if a.get("textGranularity") == "word"]
    assert [body_of(w)["value"] for w in words] == ["The", "wombat", "sleeps."]
    assert words[1]["score"] == pytest.approx(0.92)


def test_speaker_turns_csv(srv):
    items = canvas_page(srv, "av", 1, "tagging")["items"]
    turns = sorted((t_of(a)[1], body_of(a)["value"]) for a in items)
    assert turns == [((0.0, 3.5), "SPEAKER_00"), ((3.5, 7.0), "SPEAKER_01")]


def test_score_range_on_search_and_listing(srv):
    det = manifest_url(srv, "det")
    assert search_total(srv, det, q="okapi") == 1
    assert search_total(srv, det, q="okapi", score="0.95") == 0
    assert search_total(srv, det, q="okapi", score="0.5/0.9") == 1
    assert search_total(srv, det, q="lynx", score="0.5") == 0
    assert search_total(srv, det, q="lynx", score="0.3/0.5") == 1
    # without q: every scored annotation of the Manifest in the range
    doc = search(srv, det, score="0.75/1")
    assert sorted(body_of(a)["value"] for a in doc["items"]) == ["heron", "okapi"]
    _r, page = get_json(srv, f"{det}/annotations?score=0.35/0.85")
    assert sorted(body_of(a)["value"] for a in page["items"]) == ["heron", "lynx"]
    for bad in ("2", "0.5/0.1", "x", "0.1/"):
        r = http(srv, "GET", path_of(srv, f"{det}/search?q=okapi&score={bad}"))
        assert r.status == 400 and b"score must be" in r.body, (bad, r.status, r.body[:200])
        r = http(srv, "GET", path_of(srv, f"{det}/annotations?score={bad}"))
        assert r.status == 400, (bad, r.status)


def test_import_min_score_and_generator(iiifd_bin, ml, tmp_path, server_factory):
    data = str(tmp_path / "data")
    det = os.path.join(ml["root"], "det")
    p = pf.run_cli(iiifd_bin, "import", "--root", ml["root"], "--data-dir", data,
                   *fx.database_args(data), "--min-score", "0.5", "--generator", "my-model 1.2",
                   det)
    assert p.returncode == 0, p.stderr
    # lynx (0.4) and ibis (0.3) are left out
    assert import_counts(p.stdout) == {"det/coco.json": 1, "det/a.txt": 1, "det/ls.json": 0}
    s = server_factory(args=["--data-dir", data, "--auto-import", "false"], root_dir=ml["root"])
    a = canvas_page(s, "det", 1, "tagging")["items"]
    gens = {body_of(x)["value"]: x["generator"]["name"] for x in a}
    # the file's own generator wins; YOLO files name none
    assert gens == {"okapi": "Mask R-CNN R50", "heron": "my-model 1.2"}
    for bad in (["--min-score", "1.5"], ["--min-score", "x"], ["--generator", ""]):
        p = pf.run_cli(iiifd_bin, "import", "--root", ml["root"], "--data-dir", data, *bad, det)
        assert p.returncode == 2 and "usage" in p.stderr, (bad, p.returncode, p.stderr)


def test_malformed_files_name_file_and_place_and_store_nothing(iiifd_bin, tmp_path,
                                                               server_factory):
    root = make_broken_ml_tree(str(tmp_path))
    data = str(tmp_path / "data")
    p = run_import(iiifd_bin, root, data, root)
    assert p.returncode == 1, p.stdout
    for _folder, _name, _text, msg in BROKEN:
        assert msg in p.stderr, f"missing {msg!r} in:\n{p.stderr}"
    s = server_factory(args=["--data-dir", data, "--auto-import", "false"], root_dir=root)
    for folder, _name, text, _msg in BROKEN:
        found = re.search(r"quokka\w+", text)
        word = found.group(0) if found else "heron"  # YOLO: the class of the good lines
        assert search_total(s, manifest_url(s, folder), q=word) == 0, \
            f"{folder}: '{word}' from before the fault was stored"
