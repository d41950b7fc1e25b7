"""`iiifd dataset` (docs/ml.md, "ML out"): COCO, YOLO, Pascal VOC and CSV/JSONL crops from the
annotations of ml_fixtures' tree; images through the Image API pipeline at a chosen size;
boxes and outlines mapped onto them; the split by Manifest, deterministic; provenance lines whose
Image API URL returns exactly the written pixels and whose Content State decodes to the region;
the rights filter; and the round trip: detections exported as COCO and imported again give the
same annotations."""

import base64
import json
import os
import re
import shutil
import sys
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from annotation_fixtures import (  # noqa: E402
    body_of, canvas_page, get_json, http, import_counts, ocr_items, path_of, run_import, write,
    page_png, xywh_of)
import presentation_fixtures as pf  # noqa: E402
from ml_fixtures import make_ml_tree  # noqa: E402
from test_ml_import import svg_points  # noqa: E402


@pytest.fixture(scope="module")
def src(iiifd_bin, tmp_path_factory):
    base = str(tmp_path_factory.mktemp("mlds"))
    root = make_ml_tree(base)
    write(os.path.join(root, "det", "manifest.yml"),
          "rights: http://creativecommons.org/licenses/by/4.0/\n")
    data = os.path.join(base, "data")
    p = run_import(iiifd_bin, root, data, root)
    assert p.returncode == 0, p.stderr
    return {"root": root, "data": data, "base": base}


def dataset(iiifd_bin, src, out, *args):
    return pf.run_cli(iiifd_bin, "dataset", "--root", src["root"], "--data-dir", src["data"],
                      "--out", out, "--quiet", *args)


def annos(server, manifest, n, motivation="tagging"):
    """{label: (box, score, outline, generator)} of a Canvas's annotations."""
    out = {}
    for a in canvas_page(server, manifest, n, motivation)["items"]:
        gen = a.get("generator", {}).get("name")
        out[body_of(a)["value"]] = (xywh_of(a)[1], a.get("score"), svg_points(a), gen)
    return out


def test_coco_round_trip(iiifd_bin, src, tmp_path, server_factory):
    root2 = str(tmp_path / "root2")
    out = os.path.join(root2, "out")
    p = dataset(iiifd_bin, src, out, "--format", "coco", "--motivation", "tagging", "--split",
                "100,0,0", "det")
    assert p.returncode == 0, p.stderr
    assert "2 images from 2 Canvases" in p.stdout
    coco = os.path.join(out, "train", "_annotations.coco.json")
    with open(coco) as f:
        doc = json.load(f)
    assert [c["name"] for c in doc["categories"]] == ["heron", "ibis", "lynx", "okapi"]
    assert doc["info"]["description"] == "iiifd dataset"  # the generators differ
    data2 = str(tmp_path / "data2")
    p = run_import(iiifd_bin, root2, data2, coco)
    assert p.returncode == 0, p.stderr
    assert import_counts(p.stdout) == {"out/train/_annotations.coco.json": 4}
    s1 = server_factory(args=["--data-dir", src["data"], "--auto-import", "false"],
                        root_dir=src["root"])
    s2 = server_factory(args=["--data-dir", data2, "--auto-import", "false"], root_dir=root2)
    for n in (1, 2):
        before, after = annos(s1, "det", n), annos(s2, "out/train", n)
        assert {k: v[:3] for k, v in after.items()} == {k: v[:3] for k, v in before.items()}
    # one generator for all: it survives the trip too
    out1 = os.path.join(root2, "one")
    p = dataset(iiifd_bin, src, out1, "--format", "coco", "--label", "okapi,lynx", "--split",
                "100,0,0", "det")
    assert p.returncode == 0, p.stderr
    data3 = str(tmp_path / "data3")
    p = run_import(iiifd_bin, root2, data3, os.path.join(out1, "train"))
    assert p.returncode == 0, p.stderr
    s3 = server_factory(args=["--data-dir", data3, "--auto-import", "false"], root_dir=root2)
    assert annos(s3, "one/train", 1) == {"okapi": annos(s1, "det", 1)["okapi"]}
    assert annos(s3, "one/train", 2) == {"lynx": annos(s1, "det", 2)["lynx"]}


def test_yolo_and_voc_at_a_chosen_size(iiifd_bin, src, tmp_path):
    out = str(tmp_path / "yolo")
    p = dataset(iiifd_bin, src, out, "--format", "yolo", "--size", "400", "--motivation",
                "tagging", "--min-score", "0.5", "det")
    assert p.returncode == 0, p.stderr
    split = json.loads(open(os.path.join(out, "provenance.jsonl")).readline())["split"]
    with Image.open(os.path.join(out, "images", split, "det_a_p0.jpg")) as im:
        assert im.size == (400, 300)
    # okapi (0.9) and heron (0.8) only: lynx and ibis are below 0.5
    assert open(os.path.join(out, "classes.txt")).read() == "heron\nokapi\n"
    labels = open(os.path.join(out, "labels", split, "det_a_p0.txt")).read().split("\n")
    rows = sorted(tuple(float(v) for v in line.split()) for line in labels if line)
    # heron: 300,150 200x300 on 800x600; okapi 20,20 200x100
    assert rows == [pytest.approx((0, 0.5, 0.5, 0.25, 0.5, 0.8), abs=1e-5),
                    pytest.approx((1, 120 / 800, 70 / 600, 0.25, 100 / 600, 0.9), abs=1e-5)]
    assert not os.path.exists(os.path.join(out, "labels", split, "det_b_p0.txt"))
    out = str(tmp_path / "voc")
    p = dataset(iiifd_bin, src, out, "--format", "voc", "--size", "400", "--label", "heron",
                "det")
    assert p.returncode == 0, p.stderr
    x = ET.parse(os.path.join(out, "Annotations", "det_a_p0.xml")).getroot()
    assert x.findtext("size/width") == "400"
    obj = x.find("object")
    assert obj.findtext("name") == "heron"
    assert [obj.findtext(f"bndbox/{k}") for k in ("xmin", "ymin", "xmax", "ymax")] == \
        ["150", "75", "250", "225"]
    lists = {s: open(os.path.join(out, "ImageSets", "Main", f"{s}.txt")).read().split()
             for s in ("train", "val", "test")}
    assert sum(lists.values(), []) == ["det_a_p0"]


def test_htr_line_crops_with_transcriptions(iiifd_bin, src, tmp_path):
    out = str(tmp_path / "htr")
    p = dataset(iiifd_bin, src, out, "--format", "jsonl", "--motivation", "supplementing",
                "--granularity", "line", "htr")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for f in sorted(os.listdir(out)) if f.endswith(".jsonl")
            and f != "provenance.jsonl" for line in open(os.path.join(out, f))]
    assert sorted(r["text"] for r in rows) == ["closing words", "opening line",
                                               "quokkapage here"]
    sizes = {}
    for r in rows:
        with Image.open(os.path.join(out, r["file"])) as im:
            sizes[r["text"]] = im.size
    # the lines' boxes on the 1000x1500 Canvas (PAGE coordinates halved)
    assert sizes == {"opening line": (900, 100), "quokkapage here": (450, 100),
                     "closing words": (900, 100)}
    out = str(tmp_path / "htr-csv")
    p = dataset(iiifd_bin, src, out, "--format", "csv", "--granularity", "line", "--size", "50",
                "htr")
    assert p.returncode == 0, p.stderr
    text = "".join(open(os.path.join(out, f)).read() for f in sorted(os.listdir(out))
                   if f.endswith(".csv"))
    assert '"quokkapage here"' in text and text.startswith("file,text,score,granularity,canvas")


def decode_content_state(s):
    s += "=" * (-len(s) % 4)
    return json.loads(urllib.parse.unquote(base64.urlsafe_b64decode(s).decode("utf-8")))


def test_provenance_opens_the_region_and_serves_the_pixels(iiifd_bin, src, tmp_path,
                                                           server_factory):
    s = server_factory(args=["--data-dir", src["data"], "--auto-import", "false"],
                       root_dir=src["root"])
    out = str(tmp_path / "prov")
    p = dataset(iiifd_bin, src, out, "--format", "csv", "--public-url", s.base, "--size", "120",
                "--label", "okapi", "det")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in open(os.path.join(out, "provenance.jsonl"))]
    assert len(lines) == 1
    prov = lines[0]
    assert prov["region"] == "xywh=20,20,200,100"
    assert prov["rights"] == "http://creativecommons.org/licenses/by/4.0/"
    state = decode_content_state(prov["contentState"])
    assert "=" not in prov["contentState"] and "+" not in prov["contentState"]
    assert state["motivation"] == ["contentState"]
    assert state["target"]["id"] == prov["canvas"] + "#xywh=20,20,200,100"
    assert state["target"]["partOf"][0]["id"] == prov["manifest"]
    _r, manifest = get_json(s, prov["manifest"])
    assert prov["canvas"] == manifest["items"][0]["id"]
    r = http(s, "GET", path_of(s, prov["image"]))
    assert r.status == 200, prov["image"]
    served = os.path.join(str(tmp_path), "served.jpg")
    with open(served, "wb") as f:
        f.write(r.body)
    with Image.open(served) as a, Image.open(os.path.join(out, prov["file"])) as b:
        assert a.size == b.size == (120, 60)
        diff = max(abs(x - y) for x, y in zip(a.convert("RGB").getpixel((60, 30)),
                                               b.convert("RGB").getpixel((60, 30))))
        assert diff <= 2


def test_split_by_manifest_is_deterministic(iiifd_bin, tmp_path):
    root = str(tmp_path / "books")
    for i in range(12):
        d = os.path.join(root, f"book{i:02d}")
        os.makedirs(d)
        for pgn in (1, 2):
            page_png(os.path.join(d, f"p{pgn}.jpg"), (100, 100, 100), (64, 48))
        write(os.path.join(d, "tags.csv"),
              "file,x,y,w,h,label,score\np1.jpg,1,1,10,10,cat,\np2.jpg,1,1,10,10,cat,\n")
    data = str(tmp_path / "data")
    assert run_import(iiifd_bin, root, data, root).returncode == 0

    def splits(out, *extra):
        p = pf.run_cli(iiifd_bin, "dataset", "--root", root, "--data-dir", data, "--out", out,
                       "--format", "yolo", "--quiet", *extra, "")
        assert p.returncode == 0, p.stderr
        got = {}
        for line in open(os.path.join(out, "provenance.jsonl")):
            j = json.loads(line)
            got.setdefault(j["manifest"], set()).add(j["split"])
        return got

    a, b = splits(str(tmp_path / "a")), splits(str(tmp_path / "b"))
    assert a == b and len(a) == 12
    assert all(len(v) == 1 for v in a.values()), "a book's pages straddle splits"
    assert {next(iter(v)) for v in a.values()} >= {"train"}
    c = splits(str(tmp_path / "c"), "--seed", "other")
    assert c != a, "the seed does not change the split"
    d = splits(str(tmp_path / "d"), "--split", "0,0,100")
    assert {next(iter(v)) for v in d.values()} == {"test"}


def test_access_policies_are_respected(iiifd_bin, tmp_path):
    """A training set leaves the library: what an access.yml protects stays out (and is
    counted), unless --include-protected; an open (public) policy changes nothing."""
    root = str(tmp_path / "lib")
    for book in ("open", "closed", "embargoed", "public"):
        d = os.path.join(root, book)
        os.makedirs(d)
        page_png(os.path.join(d, "p1.jpg"), (100, 100, 100), (64, 48))
        write(os.path.join(d, "tags.csv"), "file,x,y,w,h,label,score\np1.jpg,1,1,10,10,cat,\n")
    write(os.path.join(root, "closed", "access.yml"), "policy: login\n")
    write(os.path.join(root, "embargoed", "access.yml"),
          "policy: public\nembargo-until: 2999-01-01\n")
    write(os.path.join(root, "public", "access.yml"), "policy: public\n")
    data = str(tmp_path / "data")
    assert run_import(iiifd_bin, root, data, root).returncode == 0

    def manifests(out, *extra):
        p = pf.run_cli(iiifd_bin, "dataset", "--root", root, "--data-dir", data, "--out", out,
                       "--format", "coco", "--quiet", *extra, "")
        assert p.returncode == 0, p.stderr
        return p, {json.loads(line)["manifest"] for line in
                   open(os.path.join(out, "provenance.jsonl"))}

    p, got = manifests(str(tmp_path / "a"))
    assert {m.rsplit("/", 2)[-2] for m in got} == {"open", "public"}, got
    assert "2 Canvases left out: an access policy protects them" in p.stderr, p.stderr
    _p, got = manifests(str(tmp_path / "b"), "--include-protected")
    assert len(got) == 4, got


def test_rights_filter_and_bad_arguments(iiifd_bin, src, tmp_path):
    out = str(tmp_path / "r")
    p = dataset(iiifd_bin, src, out, "--format", "coco", "--rights",
                "http://rightsstatements.org/", "")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("0 images"), p.stdout
    out = str(tmp_path / "r2")
    p = dataset(iiifd_bin, src, out, "--format", "coco", "--rights",
                "http://creativecommons.org/licenses/by/", "")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("2 images from 2 Canvases"), p.stdout
    for args, code, msg in [
            (["--format", "tiff", "det"], 2, "--format 'tiff'"),
            (["--format", "coco", "--split", "50,50,1", "det"], 2, "adding up to 100"),
            (["--format", "coco", "--min-score", "2", "det"], 2, "--min-score '2'"),
            (["--format", "coco", "--rate", "0", "det"], 2, "--rate '0'"),
            (["--format", "coco", "det"], 1, "is not empty")]:
        p = dataset(iiifd_bin, src, out, *args)
        assert p.returncode == code and msg in p.stderr, (args, p.returncode, p.stderr)


def test_remote_server_gives_the_same_dataset(iiifd_bin, src, tmp_path, server_factory):
    """A Manifest or Collection URL in, the Image API for pixels: the same annotations, images
    and provenance as the local export, at most --rate requests a second."""
    import time
    s = server_factory(args=["--data-dir", src["data"], "--auto-import", "false"],
                       root_dir=src["root"])
    local = str(tmp_path / "local")
    p = dataset(iiifd_bin, src, local, "--format", "coco", "--motivation", "tagging",
                "--public-url", s.base, "--split", "100,0,0", "--size", "300", "")
    assert p.returncode == 0, p.stderr

    def read(out):
        with open(os.path.join(out, "train", "_annotations.coco.json")) as f:
            doc = json.load(f)
        images = {i["id"]: i for i in doc["images"]}
        annos = sorted((images[a["image_id"]]["iiif_canvas"], a["category_id"], a["bbox"],
                        a["segmentation"], a.get("score")) for a in doc["annotations"])
        sizes = sorted((i["iiif_canvas"], i["width"], i["height"]) for i in doc["images"])
        prov = sorted((j["canvas"], j["image"], j["contentState"], j["rights"])
                      for j in map(json.loads, open(os.path.join(out, "provenance.jsonl"))))
        return doc["categories"], annos, sizes, prov

    want = read(local)
    for url in (f"{s.base}/iiif/presentation/det/manifest",
                f"{s.base}/iiif/presentation/collection"):
        out = str(tmp_path / f"remote{len(url)}")
        t0 = time.monotonic()
        p = pf.run_cli(iiifd_bin, "dataset", "--format", "coco", "--motivation", "tagging",
                       "--split", "100,0,0", "--size", "300", "--rate", "4", "--quiet",
                       "--out", out, url)
        elapsed = time.monotonic() - t0
        assert p.returncode == 0, p.stderr
        n = int(re.search(r"\((\d+) requests\)", p.stdout).group(1))
        assert read(out) == want, url
        assert elapsed >= (n - 1) / 4, f"{n} requests in {elapsed:.2f} s: faster than --rate 4"
    p = pf.run_cli(iiifd_bin, "dataset", "--format", "coco", "--quiet", "--out",
                   str(tmp_path / "missing"), f"{s.base}/iiif/presentation/nothing/manifest")
    assert p.returncode == 1 and "nothing/manifest: HTTP 404" in p.stderr, p.stderr
