"""Helpers and fixtures for the annotation / Content Search end-to-end tests (test_annotations*.py,
test_search*.py). The contract is docs/annotations.md; search behaviour is also checked against
the IIIF Content Search 2.0 MUSTs (/work/shared/specs/search_2.0_index.md).

The tree generated here (make_tree) is the contract turned into files:

  ROOT/                         Collection
    book/                       Manifest: page1.png, page2.png, page3.png (1000x1500 each)
      page1.xml                 ALTO v4, MeasurementUnit pixel, page 2000x3000 (coordinates / 2)
      page2.xml                 ALTO v2, MeasurementUnit mm10, page 4000x6000 (coordinates / 4)
      page3.hocr                hOCR, ocr_page bbox 0 0 500 750 (coordinates x 2)
    av/                         Manifest: talk.mp3 (10 s sine) + talk.en.vtt (3 cues)
    photos/                     Manifest: a.jpg (800x600), b.jpg (640x480)
      detections.json           COCO: 2 detections, categories, scores, info.description
      tags.csv                  file,x,y,w,h,label,score: a box on a.jpg, a whole-image tag on b.jpg

  BROKEN/                       a separate root (for `iiifd import` error handling)
    badalto/ badvtt/ badcsv/ badcoco/ badjson/   one malformed file each, at a known line
    good/                       one good ALTO file

Words that exist in exactly one place (so search totals are exact):
  "lorem"   one per lorem line: 60 lines on page1, 40 on page2, 20 on page3 = 120 (3 pages of 50)
  "zebra"   book (page1 line), av (cue 1), photos (tags.csv) = one hit per Manifest
  "quartz"  page3 (hOCR), "lobster" page3 once, "owner" page2, "stripes" av cue 2
  "quokka*" only in the broken files; "wombatgood" only in BROKEN/good/page1.xml

Nothing here is a test.
"""

import atexit
import copy
import http.client as httpclient
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections import Counter

import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import presentation_fixtures as pf  # noqa: E402

PRES = "/iiif/presentation"
TOKEN = "s3cret-token-for-tests"      # the write token of ALICE
TOKEN_BOB = "another-token-for-bob"
ALICE = "https://example.org/users/alice"
BOB = "https://example.org/users/bob"
SEARCH2_CONTEXT = "http://iiif.io/api/search/2/context.json"
SEARCH1_CONTEXT = "http://iiif.io/api/search/1/context.json"
TG_CONTEXT = "http://iiif.io/api/extension/text-granularity/context.json"
P3_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
ANNO_CONTEXT_PATH = "/iiif/context/annotations.json"
PAGE_SIZE = 50

PAGE_W, PAGE_H = 1000, 1500          # every book image
PHOTOS = {"a.jpg": (800, 600, (200, 60, 60)), "b.jpg": (640, 480, (60, 60, 200))}
AUDIO_SECONDS = 10.0

# --------------------------------------------------------------------------------------------
# OCR content. A line is (words, x0, y, h, char_width, gap) in OCR units; word i has width
# char_width * len(word) and the next word starts gap after it. All units are chosen so that the
# scaled Canvas coordinates are whole numbers.
# --------------------------------------------------------------------------------------------
LOREM = "lorem ipsum dolor sit amet"


def layout(words, x0, y, h, cw, gap):
    out, x = [], x0
    for w in words.split():
        out.append((w, x, y, cw * len(w), h))
        x += cw * len(w) + gap
    return out


# page1: ALTO v4 pixel, page 2000x3000 on a 1000x1500 canvas: everything halves
PAGE1_LINES = [
    layout("Café naïve résumé", 100, 200, 40, 20, 40),
    layout("zebra crossing ahead", 100, 250, 40, 20, 40),
    layout("The quick brown fox jumps over the dog", 100, 300, 40, 20, 40),
    layout("brown fox and a quick cat", 100, 350, 40, 20, 40),
] + [layout(LOREM, 100, 400 + i * 40, 30, 20, 20) for i in range(60)]
# page2: ALTO v2 mm10, page 4000x6000 on a 1000x1500 canvas: everything quarters
PAGE2_LINES = [
    layout("owner of the naive cafe", 800, 1200, 160, 80, 80),
] + [layout(LOREM, 400, 1600 + i * 100, 80, 80, 80) for i in range(40)]
# page3: hOCR, page 500x750 on a 1000x1500 canvas: everything doubles
PAGE3_LINES = [
    layout("Sphinx of black quartz", 140, 100, 20, 10, 10),
    layout("a lobster dinner", 20, 130, 20, 10, 10),
] + [layout(LOREM, 20, 200 + i * 20, 15, 10, 10) for i in range(20)]

OCR_FILES = {  # file: (lines, scale to the canvas)
    "book/page1.xml": (PAGE1_LINES, 0.5),
    "book/page2.xml": (PAGE2_LINES, 0.25),
    "book/page3.hocr": (PAGE3_LINES, 2.0),
}
OCR_CANVAS = {"book/page1.xml": 1, "book/page2.xml": 2, "book/page3.hocr": 3}

# the exact Canvas boxes the brief names (hand-computed, not derived from the generator)
KNOWN_WORDS = [
    # canvas, word, xywh on the canvas, where it comes from
    (1, "quick", (100, 150, 50, 20), "ALTO pixel HPOS=200 VPOS=300 WIDTH=100 HEIGHT=40 / 2"),
    (2, "owner", (200, 300, 100, 40), "ALTO mm10 HPOS=800 VPOS=1200 WIDTH=400 HEIGHT=160 / 4"),
    (3, "quartz", (600, 200, 120, 40), "hOCR bbox 300 100 360 120 x 2"),
]

VTT_CUES = [  # (id or None, start, end, text)
    ("intro", 1.0, 3.5, "Welcome to the zebra lecture"),
    (None, 4.0, 6.25, "Horses have stripes"),
    (None, 7.0, 9.0, "Thank you and goodbye"),
]

COCO = {
    "info": {"description": "yolo-test", "version": "1.0"},
    "images": [
        {"id": 1, "file_name": "a.jpg", "width": 800, "height": 600},
        {"id": 2, "file_name": "b.jpg", "width": 640, "height": 480},
    ],
    "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "bicycle"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 100, 50], "score": 0.9},
        {"id": 2, "image_id": 2, "category_id": 2, "bbox": [30, 40, 200, 100], "score": 0.75},
    ],
}
TAGS_CSV = "file,x,y,w,h,label,score\na.jpg,5,6,70,80,zebra,0.5\nb.jpg,,,,,landscape,0.8\n"
# canvas (photos manifest) -> [(label, xywh or None for the whole image, score, generator)]
EXPECTED_TAGS = {
    1: [("cat", (10, 20, 100, 50), 0.9, "yolo-test"), ("zebra", (5, 6, 70, 80), 0.5, None)],
    2: [("bicycle", (30, 40, 200, 100), 0.75, "yolo-test"), ("landscape", None, 0.8, None)],
}

EXPECTED_COUNTS = {  # what `iiifd import` reports per file
    "book/page1.xml": sum(len(l) + 1 for l in PAGE1_LINES),
    "book/page2.xml": sum(len(l) + 1 for l in PAGE2_LINES),
    "book/page3.hocr": sum(len(l) + 1 for l in PAGE3_LINES),
    "av/talk.en.vtt": len(VTT_CUES),
    "photos/detections.json": len(COCO["annotations"]),
    "photos/tags.csv": 2,
}
LOREM_TOTAL = 120


# --------------------------------------------------------------------------------------------
# File writers
# --------------------------------------------------------------------------------------------
def xml_attr(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;"))


def alto_v4(lines, page_w, page_h, image):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">',
           '<Description>',
           '<MeasurementUnit>pixel</MeasurementUnit>',
           f'<sourceImageInformation><fileName>{image}</fileName></sourceImageInformation>',
           '<Processing ID="proc1"><processingSoftware><softwareName>TestOCR</softwareName>'
           '<softwareVersion>4.2</softwareVersion></processingSoftware></Processing>',
           '</Description>',
           '<Layout>',
           f'<Page ID="P1" PHYSICAL_IMG_NR="1" WIDTH="{page_w}" HEIGHT="{page_h}">',
           f'<PrintSpace HPOS="0" VPOS="0" WIDTH="{page_w}" HEIGHT="{page_h}">',
           '<TextBlock ID="B1">']
    out += _alto_lines(lines)
    out += ['</TextBlock>', '</PrintSpace>', '</Page>', '</Layout>', '</alto>']
    return "\n".join(out) + "\n"


def alto_v2(lines, page_w, page_h, image):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<alto xmlns="http://www.loc.gov/standards/alto/ns-v2#" '
           'xmlns:xlink="http://www.w3.org/1999/xlink">',
           '<Description>',
           '<MeasurementUnit>mm10</MeasurementUnit>',
           f'<sourceImageInformation><fileName>{image}</fileName></sourceImageInformation>',
           '<OCRProcessing ID="OCR_0"><ocrProcessingStep><processingSoftware>'
           '<softwareName>OldOCR</softwareName></processingSoftware></ocrProcessingStep>'
           '</OCRProcessing>',
           '</Description>',
           '<Layout>',
           f'<Page ID="P2" PHYSICAL_IMG_NR="2" WIDTH="{page_w}" HEIGHT="{page_h}">',
           f'<PrintSpace HPOS="0" VPOS="0" WIDTH="{page_w}" HEIGHT="{page_h}">',
           '<TextBlock ID="B1">']
    out += _alto_lines(lines)
    out += ['</TextBlock>', '</PrintSpace>', '</Page>', '</Layout>', '</alto>']
    return "\n".join(out) + "\n"


def line_box(words):
    x0 = min(w[1] for w in words)
    y0 = min(w[2] for w in words)
    x1 = max(w[1] + w[3] for w in words)
    y1 = max(w[2] + w[4] for w in words)
    return x0, y0, x1 - x0, y1 - y0


def _alto_lines(lines, prefix="L"):
    out = []
    for i, words in enumerate(lines):
        x, y, w, h = line_box(words)
        out.append(f'<TextLine ID="{prefix}{i}" HPOS="{x}" VPOS="{y}" WIDTH="{w}" HEIGHT="{h}">')
        for j, (text, wx, wy, ww, wh) in enumerate(words):
            if j:
                out.append(f'<SP HPOS="{wx - 1}" VPOS="{wy}" WIDTH="1"/>')
            out.append(f'<String ID="{prefix}{i}_{j}" CONTENT="{xml_attr(text)}" HPOS="{wx}" '
                       f'VPOS="{wy}" WIDTH="{ww}" HEIGHT="{wh}" WC="0.95"/>')
        out.append('</TextLine>')
    return out


def hocr(lines, page_w, page_h, image):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
           '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
           '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
           '<head>',
           '<title></title>',
           '<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
           "<meta name='ocr-system' content='tesseract 5.3.0'/>",
           "<meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word'/>",
           '</head>',
           '<body>',
           f"<div class='ocr_page' id='page_1' title='image \"{image}\"; bbox 0 0 {page_w} {page_h}; ppageno 0'>",
           f"<div class='ocr_carea' id='block_1_1' title=\"bbox 0 0 {page_w} {page_h}\">",
           "<p class='ocr_par' id='par_1_1' lang='eng'>"]
    for i, words in enumerate(lines):
        x, y, w, h = line_box(words)
        out.append(f"<span class='ocr_line' id='line_1_{i}' title=\"bbox {x} {y} {x + w} {y + h}; "
                   f"baseline 0 -3; x_size 20; x_descenders 4; x_ascenders 5\">")
        for j, (text, wx, wy, ww, wh) in enumerate(words):
            out.append(f"<span class='ocrx_word' id='word_1_{i}_{j}' title='bbox {wx} {wy} "
                       f"{wx + ww} {wy + wh}; x_wconf 95'>{xml_attr(text)}</span>")
        out.append("</span>")
    out += ["</p>", "</div>", "</div>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def vtt_time(t):
    h, rem = divmod(t, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def vtt(cues):
    out = ["WEBVTT", ""]
    for cid, a, b, text in cues:
        if cid:
            out.append(cid)
        out.append(f"{vtt_time(a)} --> {vtt_time(b)}")
        out.append(text)
        out.append("")
    return "\n".join(out)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def page_png(path, colour, size=(PAGE_W, PAGE_H)):
    Image.new("RGB", size, colour).save(path)


def make_mp3(path, seconds=AUDIO_SECONDS):
    fx.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i",
            f"sine=frequency=440:sample_rate=22050:duration={seconds}", "-c:a", "libmp3lame",
            "-b:a", "32k", path], timeout=120)


# --------------------------------------------------------------------------------------------
# The broken tree
# --------------------------------------------------------------------------------------------


def _broken_alto():
    """malformed XML (an unescaped '<' in an attribute value)"""
    words = [layout("quokkaalto is here", 100, 100, 40, 20, 40)]
    lines = alto_v4(words, 2000, 3000, "page1.png").split("\n")
    # an unescaped '<' in an attribute value: a well-formedness error on exactly this line
    at = next(i for i, l in enumerate(lines) if l.startswith("</TextBlock>"))
    lines.insert(at, '<TextLine ID="bad" HPOS="1" VPOS="1" WIDTH="5" HEIGHT="5">'
                     '<String CONTENT="a<b" HPOS="1" VPOS="1" WIDTH="5" HEIGHT="5"/></TextLine>')
    return "\n".join(lines), at + 1


def _broken_vtt():
    """a cue timing with a bad timestamp"""
    text = vtt([(None, 0.5, 2.0, "the quokkavtt says hello"), (None, 2.5, 4.0, "fine cue")])
    lines = text.split("\n")
    lines += ["00:00:0x.000 --> 00:00:06.000", "a cue with a bad start", ""]
    return "\n".join(lines), len(lines) - 2


def _broken_csv():
    """x is not a number"""
    text = ("file,x,y,w,h,label,score\n"
            "a.jpg,1,2,30,40,quokkacsv,0.5\n"
            "a.jpg,1x0,5,10,10,quokkacsvb,0.5\n"
            "a.jpg,3,4,10,10,otherlabel,0.5\n")
    return text, 3


def _broken_coco():
    """an image that does not exist"""
    doc = copy.deepcopy(COCO)
    doc["images"] = [{"id": 1, "file_name": "a.jpg", "width": 800, "height": 600},
                     {"id": 2, "file_name": "missing.jpg", "width": 640, "height": 480}]
    doc["categories"] = [{"id": 1, "name": "quokkacoco"}]
    doc["annotations"] = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 30, 40], "score": 0.5},
        {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 2, 30, 40], "score": 0.5}]
    return json.dumps(doc, indent=2), None


def _broken_json():
    """a JSON syntax error (missing comma)"""
    lines = ['{',
             '  "info": {"description": "broken"},',
             '  "images": [{"id": 1, "file_name": "a.jpg", "width": 800, "height": 600}],',
             '  "categories": [{"id": 1, "name": "quokkajson"}],',
             '  "annotations": [{"id": 1, "image_id": 1, "category_id": 1,',
             '                   "bbox": [1, 2, 30, 40]',       # missing comma here...
             '                   "score": 0.5}]',               # ...so this line is the error
             '}']
    return "\n".join(lines) + "\n", 7


# folder: (file name, generator, word only in that file, media files next to it)
_BROKEN_SPECS = {
    "badalto": ("page1.xml", _broken_alto, "quokkaalto", ["page1.png"]),
    "badvtt": ("talk.vtt", _broken_vtt, "quokkavtt", ["talk.mp3"]),
    "badcsv": ("tags.csv", _broken_csv, "quokkacsv", ["a.jpg"]),
    "badcoco": ("det.json", _broken_coco, "quokkacoco", ["a.jpg"]),
    "badjson": ("det.json", _broken_json, "quokkajson", ["a.jpg"]),
}
# folder: (rel path of the broken file, line of the problem or None, its only word, problem)
BROKEN = {f: (f"{f}/{name}", gen()[1], word, gen.__doc__ or "")
          for f, (name, gen, word, _m) in _BROKEN_SPECS.items()}
# what the message must also mention when there is no line (the unknown image of badcoco)
BROKEN_MENTIONS = {"badcoco": "missing.jpg"}
GOOD_BROKEN_TREE = {"good/page1.xml": 4}   # 1 line + 3 words


def make_broken_tree(base):
    root = os.path.join(base, "broken_root")
    for folder, (name, gen, word, media) in _BROKEN_SPECS.items():
        os.makedirs(os.path.join(root, folder))
        for m in media:
            p = os.path.join(root, folder, m)
            if m.endswith(".png"):
                page_png(p, (230, 230, 230), (1000, 1500))
            elif m.endswith(".jpg"):
                Image.new("RGB", (800, 600), (90, 90, 90)).save(p, quality=90)
            else:
                make_mp3(p, 6.0)
        text, line = gen()
        write(os.path.join(root, folder, name), text)
        assert word in text
        if line:   # the generator itself must put the problem where it says
            bad = text.split("\n")[line - 1]
            assert any(s in bad for s in ("a<b", "0x.000", "1x0", '"score"')), (folder, bad)
    os.makedirs(os.path.join(root, "good"))
    page_png(os.path.join(root, "good", "page1.png"), (240, 240, 240))
    write(os.path.join(root, "good", "page1.xml"),
          alto_v4([layout("wombatgood lives here", 100, 100, 40, 20, 40)], 2000, 3000,
                  "page1.png"))
    return root


# --------------------------------------------------------------------------------------------
# The main tree
# --------------------------------------------------------------------------------------------
class Tree:
    def __init__(self, base):
        self.base = base
        self.root = os.path.join(base, "root")
        self.broken = None

    def path(self, *p):
        return os.path.join(self.root, *p)


def make_tree(base):
    t = Tree(base)
    R = t.path
    os.makedirs(R("book"))
    for i, c in enumerate([(250, 240, 220), (240, 250, 220), (220, 240, 250)], 1):
        page_png(R("book", f"page{i}.png"), c)
    write(R("book", "page1.xml"), alto_v4(PAGE1_LINES, 2000, 3000, "page1.png"))
    write(R("book", "page2.xml"), alto_v2(PAGE2_LINES, 4000, 6000, "page2.png"))
    write(R("book", "page3.hocr"), hocr(PAGE3_LINES, 500, 750, "page3.png"))
    os.makedirs(R("av"))
    make_mp3(R("av", "talk.mp3"))
    write(R("av", "talk.en.vtt"), vtt(VTT_CUES))
    os.makedirs(R("photos"))
    for name, (w, h, c) in PHOTOS.items():
        Image.new("RGB", (w, h), c).save(R("photos", name), quality=90)
    write(R("photos", "detections.json"), json.dumps(COCO, indent=2))
    write(R("photos", "tags.csv"), TAGS_CSV)
    t.broken = make_broken_tree(base)
    _verify(t)
    return t


def _verify(t):
    """The generator must say what it means, so a failure points at the server."""
    for canvas, word, xywh, _why in KNOWN_WORDS:
        rel = [r for r, c in OCR_CANVAS.items() if c == canvas][0]
        lines, scale = OCR_FILES[rel]
        found = [w for line in lines for w in line if w[0] == word]
        assert any(tuple(v * scale for v in f[1:]) == xywh for f in found), (word, found, xywh)
    for rel, (lines, scale) in OCR_FILES.items():
        for line in lines:
            for v in list(line_box(line)) + [c for w in line for c in w[1:]]:
                assert float(v * scale).is_integer(), (rel, line)
    n = sum(1 for rel, (lines, _s) in OCR_FILES.items() for l in lines
            if "lorem" in [w[0] for w in l])
    assert n == LOREM_TOTAL
    with open(t.path("book", "page1.xml"), encoding="utf-8") as f:
        s = f.read()
    assert 'HPOS="200" VPOS="300" WIDTH="100" HEIGHT="40"' in s
    with open(t.path("book", "page2.xml"), encoding="utf-8") as f:
        assert 'HPOS="800" VPOS="1200" WIDTH="400" HEIGHT="160"' in f.read()
    with open(t.path("book", "page3.hocr"), encoding="utf-8") as f:
        assert "bbox 300 100 360 120" in f.read()
    assert abs(pf.ffprobe_duration(t.path("av", "talk.mp3")) - AUDIO_SECONDS) < 0.2


def expected_ocr(rel):
    """Counter of (value, granularity, (x, y, w, h) on the canvas) for every record of rel."""
    lines, scale = OCR_FILES[rel]
    c = Counter()
    for line in lines:
        c[(" ".join(w[0] for w in line), "line",
           tuple(int(v * scale) for v in line_box(line)))] += 1
        for w in line:
            c[(w[0], "word", tuple(int(v * scale) for v in w[1:]))] += 1
    return c


def lines_containing(word):
    return [" ".join(w[0] for w in l) for rel, (lines, _s) in OCR_FILES.items() for l in lines
            if word in [w[0] for w in l]]


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------
def http(server, method, path, body=None, headers=None, timeout=60):
    """One request (with an optional body: bytes, str, or a JSON-able object)."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = httpclient.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    t0 = time.monotonic()
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
            hdrs["Content-Length"] = str(len(body))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body is not None:
            conn.send(body)
        r = conn.getresponse()
        data = r.read()
        return fx.Response(r.status, r.reason, r.getheaders(), data, time.monotonic() - t0)
    finally:
        conn.close()


def path_of(server, url):
    if url.startswith("/"):
        return url
    return pf.local_path(server, url)


def get_json(server, url, status=200):
    r = http(server, "GET", path_of(server, url))
    assert r.status == status, f"GET {url} -> {r.status}: {r.body[:400]!r}"
    if status != 200:
        return r, None
    assert "json" in r.content_type, f"GET {url}: Content-Type {r.content_type!r}"
    try:
        return r, r.json()
    except ValueError as e:
        raise AssertionError(f"GET {url}: not JSON ({e}): {r.body[:300]!r}")


def manifest_url(server, name):
    return f"{server.base}{PRES}/{name}/manifest"


def collection_url(server, name=""):
    return f"{server.base}{PRES}/{name + '/' if name else ''}collection"


def canvas_url(server, manifest, n):
    return f"{manifest_url(server, manifest)}/canvas/{n}"


def qs(**params):
    return "&".join(f"{k}={urllib.parse.quote(str(v), safe='')}" for k, v in params.items()
                    if v is not None)


def search(server, scope_url, kind="search", status=200, **params):
    """GET {scope}/{kind}?params; returns the JSON document (or the response if status != 200)."""
    url = f"{scope_url}/{kind}?{qs(**params)}"
    r, doc = get_json(server, url, status)
    return doc if status == 200 else r


def search_total(server, scope_url, **params):
    doc = search(server, scope_url, **params)
    part = doc.get("partOf")
    if isinstance(part, dict) and "total" in part:
        return part["total"]
    assert "next" not in doc, f"paged result without partOf.total: {doc.get('id')}"
    return len(doc.get("items", []))


def walk_search(server, first_doc, limit=50):
    """Follows `next` from first_doc; returns the list of pages."""
    pages, doc = [first_doc], first_doc
    while doc.get("next"):
        assert len(pages) < limit, "more than 50 pages: next never ends"
        nxt = doc["next"]
        url = nxt["id"] if isinstance(nxt, dict) else nxt
        _r, doc = get_json(server, url)
        pages.append(doc)
    return pages


def body_of(anno):
    b = anno.get("body")
    if isinstance(b, list):
        assert len(b) == 1, f"{anno.get('id')}: {len(b)} bodies"
        b = b[0]
    assert isinstance(b, dict), f"{anno.get('id')}: body {b!r}"
    return b


def target_of(anno):
    """(source url, fragment or None) of an annotation's target (string or SpecificResource)."""
    t = anno.get("target")
    if isinstance(t, list):
        assert len(t) == 1, f"{anno.get('id')}: {len(t)} targets"
        t = t[0]
    if isinstance(t, dict):
        if "source" in t:
            src = t["source"]
            src = src if isinstance(src, str) else src.get("id")
            sel = t.get("selector")
            sel = sel[0] if isinstance(sel, list) else sel
            return src, (sel or {}).get("value")
        t = t.get("id")
    assert isinstance(t, str), f"{anno.get('id')}: target {anno.get('target')!r}"
    src, _, frag = t.partition("#")
    return src, frag or None


def xywh_of(anno):
    src, frag = target_of(anno)
    m = re.fullmatch(r"xywh=(?:pixel:)?([\d.]+),([\d.]+),([\d.]+),([\d.]+)", frag or "")
    assert m, f"{anno.get('id')}: target fragment {frag!r} is not xywh=x,y,w,h"
    return src, tuple(float(v) for v in m.groups())


def t_of(anno):
    src, frag = target_of(anno)
    m = re.fullmatch(r"t=(?:npt:)?([\d.]+),([\d.]+)", frag or "")
    assert m, f"{anno.get('id')}: target fragment {frag!r} is not t=start,end"
    return src, (float(m.group(1)), float(m.group(2)))


def motivations(anno):
    m = anno.get("motivation")
    return [m] if isinstance(m, str) else list(m or [])


def fold(s):
    import unicodedata
    return "".join(c for c in unicodedata.normalize("NFD", s)
                   if not unicodedata.combining(c)).lower()


def canvas_pages(canvas):
    """{motivation: id} of the AnnotationPages a Canvas lists in `annotations` at
    .../annotations/{motivation} (others, such as the captions page, are left out)."""
    out = {}
    for p in canvas.get("annotations", []) or []:
        assert p.get("type") == "AnnotationPage", f"annotations entry {p!r}"
        m = re.search(r"/annotations/([^/?#]+)$", p.get("id", ""))
        if m:
            assert m.group(1) not in out, f"two {m.group(1)} pages: {canvas.get('annotations')}"
            out[m.group(1)] = p["id"]
    return out


def canvas_page(server, manifest, n, motivation):
    url = f"{canvas_url(server, manifest, n)}/annotations/{motivation}"
    _r, doc = get_json(server, url)
    return doc


def ocr_items(server, manifest, n):
    """All OCR annotations of a Canvas: its lines page (supplementing) and its words page."""
    items = canvas_page(server, manifest, n, "supplementing")["items"]
    r = http(server, "GET", path_of(server, f"{canvas_url(server, manifest, n)}/annotations/words"))
    assert r.status in (200, 404), r.status
    return items + (r.json()["items"] if r.status == 200 else [])


def service_of(doc, kind):
    for s in doc.get("service", []) or []:
        if (s.get("type") or s.get("@type")) == kind:
            return s
    return None


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------
def run_import(iiifd_bin, root, data_dir, *paths, force=False, timeout=120):
    args = ["import", "--root", root, "--data-dir", data_dir, *fx.database_args(data_dir)]
    if force:
        args.append("--force")
    return pf.run_cli(iiifd_bin, *args, *paths, timeout=timeout)


COUNT_RE = re.compile(r"^(\S.*?): (\d+) annotations?\b", re.M)


def import_counts(stdout):
    """{rel: N} from the `<rel>: N annotations` lines of `iiifd import`."""
    return {m.group(1): int(m.group(2)) for m in COUNT_RE.finditer(stdout)}


# --------------------------------------------------------------------------------------------
# Shared state: built once per session even though every test module imports these fixtures
# (pytest makes one FixtureDef per importing module, so the memo lives here).
# --------------------------------------------------------------------------------------------
_MEMO = {}
_SERVERS = []


def _memo(key, make):
    if key not in _MEMO:
        try:
            _MEMO[key] = ("ok", make())
        except BaseException as e:  # remember failures: do not redo a 30 s poll per test
            _MEMO[key] = ("err", e)
    kind, v = _MEMO[key]
    if kind == "err":
        raise v
    return v


class Shared:
    """A server shared by many tests; restarted (same flags, same data dir) when a test killed
    it, so one crash is reported once (by _anno_health) instead of failing every later test."""

    def __init__(self, iiifd_bin, root, workdir, name, args):
        self.iiifd_bin, self.root, self.workdir, self.name, self.args = \
            iiifd_bin, root, workdir, name, list(args)
        self.s = None
        self.restarts = 0

    def get(self):
        if self.s is None or not self.s.alive():
            if self.s is not None:
                self.restarts += 1
            self.s = fx.Server(self.iiifd_bin, self.root, self.workdir, args=self.args,
                               name=f"{self.name}{self.restarts}").start()
            _SERVERS.append(self.s)
        return self.s


@pytest.fixture(scope="session")
def atree(tmp_path_factory):
    return _memo("tree", lambda: make_tree(str(tmp_path_factory.mktemp("iiifd-anno"))))


@pytest.fixture(scope="session")
def main_import(iiifd_bin, atree, tmp_path_factory):
    """The main tree imported with `iiifd import` into its own data dir: (data_dir, process)."""
    def make():
        data = str(tmp_path_factory.mktemp("anno-data-main"))
        p = run_import(iiifd_bin, atree.root, data, atree.root)
        assert p.returncode == 0, (f"iiifd import of the generated tree failed "
                                   f"({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return data, p
    return _memo("main_import", make)


@pytest.fixture
def main_server(iiifd_bin, atree, main_import, tmp_path_factory):
    """Server over the CLI-imported store: no auto-import, writes allowed with TOKEN."""
    def make():
        work = str(tmp_path_factory.mktemp("anno-srv-main"))
        return Shared(iiifd_bin, atree.root, work, "annomain",
                      ["--data-dir", main_import[0], "--auto-import", "false",
                       "--api-token", f"{ALICE}={TOKEN}, {BOB}={TOKEN_BOB}"])
    return _memo("main_server", make).get()


AUTO_TIMEOUT = 30


def wait_auto_import(server, deadline_s=AUTO_TIMEOUT):
    """Requests every Manifest, then polls until each Canvas lists its annotation pages and the
    searches see every file. Returns the seconds it took; fails with what is missing."""
    t0 = time.monotonic()
    want = {("book", 1): "supplementing", ("book", 2): "supplementing",
            ("book", 3): "supplementing", ("av", 1): "supplementing",
            ("photos", 1): "tagging", ("photos", 2): "tagging"}
    for m in ("book", "av", "photos"):
        get_json(server, manifest_url(server, m))
    missing = dict(want)
    last = ""
    while True:
        for (m, n), mot in list(missing.items()):
            r = http(server, "GET", path_of(server, canvas_url(server, m, n)))
            if r.status == 200 and mot in canvas_pages(r.json()):
                del missing[(m, n)]
            elif m == "av":
                # the A/V Canvas's listing is checked by test_canvas_lists_its_annotation_pages;
                # here it is enough that the cues arrived
                r = http(server, "GET", path_of(server, canvas_url(server, m, n) +
                                                f"/annotations/{mot}"))
                if r.status == 200 and len(r.json().get("items", [])) == 3:
                    del missing[(m, n)]
        if not missing:
            try:
                # every file done: totals that need all of them
                lt = search_total(server, manifest_url(server, "book"), q="lorem")
                tt = search_total(server, manifest_url(server, "photos"), q="zebra")
                last = f"lorem total {lt}, photos zebra {tt}"
                if lt == LOREM_TOTAL and tt == 1 and all(
                        len(canvas_page(server, "photos", n, "tagging")["items"]) == 2
                        for n in (1, 2)):
                    return time.monotonic() - t0
            except AssertionError as e:
                last = str(e)[:300]
        if time.monotonic() - t0 > deadline_s:
            raise AssertionError(
                f"auto-import: after {deadline_s} s still missing annotation pages on "
                f"{sorted(missing)} (wanted {want}); last search check: {last}")
        time.sleep(0.2)


@pytest.fixture
def auto_server(iiifd_bin, atree, tmp_path_factory):
    """Server with --auto-import true and a fresh store, after its background imports finished
    (no CLI involved). (server, seconds the import took)."""
    def make():
        work = str(tmp_path_factory.mktemp("anno-srv-auto"))
        data = os.path.join(work, "data")
        shared = Shared(iiifd_bin, atree.root, work, "annoauto",
                        ["--data-dir", data, "--auto-import", "true"])
        return shared, wait_auto_import(shared.get())
    shared, seconds = _memo("auto_server", make)
    return shared.get(), seconds


@pytest.fixture(params=["cli", "auto"])
def srv(request):
    """The read-only checks run against both stores: filled by `iiifd import` and by the
    server's own background import."""
    if request.param == "cli":
        return request.getfixturevalue("main_server")
    return request.getfixturevalue("auto_server")[0]


pchecks = pf.pchecks   # structural checks, and the official schema when ../shared is there


@pytest.fixture(autouse=True)
def _anno_health():
    """After every test: the shared annotation servers are alive and sanitizer-clean."""
    yield
    problems = []
    for s in _SERVERS:
        found, text = s.new_sanitizer_reports()
        if found:
            problems.append(f"sanitizer report from {s.command()}:\n{text[-4000:]}")
        if not s.alive() and not getattr(s, "_death_reported", False):
            s._death_reported = True
            problems.append(f"annotation server died (exit {s.proc.returncode}):\n"
                            f"{s.stderr_text()[-3000:]}")
    if problems:
        pytest.fail("\n\n".join(problems))


def _kill_shared():
    for s in _SERVERS:
        s.stopped_on_purpose = True
        s.kill()


@pytest.fixture(scope="session", autouse=True)
def _anno_shared_cleanup():
    yield
    _kill_shared()


atexit.register(_kill_shared)
