"""Helpers and fixtures for the Presentation API / media end-to-end tests (test_presentation*.py,
test_media_serving.py).

The tree generated here (make_tree) is the contract of docs/presentation.md turned into files:

  ROOT/
    books/                      Collection (sub-folders + a file)
      collection.yml            label {en: Books, fr: Livres}
      book1/                    Manifest: page1.png, page2.png, page10.png (natural order),
        manifest.yml            every sidecar property, canvas label override, nested toc
        page2.png.yml           a per-file sidecar: that file's Canvas label
        .secret.png             hidden: skipped
        data.bin                unservable: skipped (and listed by `iiifd check`)
      book2/                    Manifest: multi.tif (3 pages) + single.jpg -> 4 Canvases
      book10/                   Manifest: a.png, B.png (case-insensitive natural order)
      scans.tif                 2-page TIFF in a Collection folder: its own Manifest
    av/                         Collection (has the sub-folder extra/)
      interview.mp3 (+ .yml with label and chapters, .en.vtt, .fr.vtt)
      film.mp4 (+ film.vtt)     320x240 testsrc, 4 s
      clip.webm                 VP8, 2 s
      notes.txt                 unservable
      link.mp3 -> OUTSIDE/outside.mp3   symlink out of ROOT: never listed nor served
      extra/still café.png      Manifest folder (space and non-ASCII in the file name)
    broken/                     Manifest folder whose manifest.yml has errors on lines 3 and 4
    empty/                      empty folder: skipped
    .hidden/                    hidden folder: skipped (holds an image and an mp3)

Nothing here is a test.
"""

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import structural  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_PATH = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "schemas",
                                            "iiif_presentation_3_0.schema.json"))

P3_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
P2_CONTEXT = "http://iiif.io/api/presentation/2/context.json"
NAVPLACE_CONTEXT = "http://iiif.io/api/extension/navplace/context.json"
IMAGE2_CONTEXT = "http://iiif.io/api/image/2/context.json"
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
EXTERNAL_PREFIX = "https://library.example.org"   # every id the sidecars bring in from outside

PRES = "/iiif/presentation"

# --------------------------------------------------------------------------------------------
# What the tree holds (static so tests can state expectations)
# --------------------------------------------------------------------------------------------
# book1: (file, width, height, colour) in the expected (natural) canvas order
BOOK1 = [("page1.png", 400, 300, (200, 40, 40)),
         ("page2.png", 300, 400, (40, 200, 40)),
         ("page10.png", 500, 350, (40, 40, 200))]
# book2/multi.tif pages, then book2/single.jpg
MULTI = [(200, 100, (220, 120, 20)), (150, 250, (20, 120, 220)), (120, 120, (120, 20, 220))]
SINGLE = (220, 160, (90, 180, 90))
SCANS = [(260, 180, (180, 180, 30)), (180, 260, (30, 180, 180))]
BOOK10 = [("a.png", 60, 40, (10, 10, 10)), ("B.png", 40, 60, (240, 240, 240))]
STILL = ("still caf\u00e9.png", 160, 120, (250, 150, 50))
GOOD = ("good.png", 90, 70, (70, 70, 160))

AUDIO_SECONDS = 5.0
VIDEO_SECONDS = 4.0
WEBM_SECONDS = 2.0
VIDEO_SIZE = (320, 240)
WEBM_SIZE = (160, 120)
CHAPTERS = [("Introduction", 0.0, 2.5), ("Main part", 2.5, 5.0)]

BOOK1_MANIFEST_YML = """\
label: {en: The first book, fr: Le premier livre}
summary: {en: A book made for testing, fr: Un livre pour les essais}
metadata:
  - label: Date
    value: about 1450
  - label: {en: Scribe, fr: Copiste}
    value: Jean Mi\u00e9lot
rights: http://creativecommons.org/licenses/by/4.0/
requiredStatement:
  label: Attribution
  value: Provided by the Example Library
provider:
  - label: Example Library
    homepage: https://library.example.org/
    logo: https://library.example.org/logo.png
homepage: https://library.example.org/items/42
navDate: 1450-01-01
navPlace: {type: Point, coordinates: [4.35, 50.85]}
behavior: [paged]
viewingDirection: right-to-left
canvases:
  page1.png: {label: Cover}
toc:
  - label: Front matter
    canvases: [page1.png]
  - label: {en: Body, fr: Corps}
    items:
      - label: Chapter one
        canvases: [page2.png, page10.png]
"""

PAGE2_YML = "label: {en: Second page}\n"

BOOKS_COLLECTION_YML = "label: {en: Books, fr: Livres}\nsummary: All the books\n"

INTERVIEW_YML = """\
label: {en: An interview, fr: Un entretien}
summary: A conversation about testing
chapters:
  - {label: Introduction, start: 0, end: 2.5}
  - {label: Main part, start: 2.5, end: 5}
"""

# line numbers matter: rights is line 3, navDate line 4 (both invalid)
BROKEN_YML = """\
label: Broken but served
summary: Still has a summary
rights: not-a-uri
navDate: the day after tomorrow
behavior: [individuals]
"""
BROKEN_LINES = {"rights": 3, "navDate": 4}

VTT_EN = """WEBVTT

00:00:00.000 --> 00:00:02.500
Hello and welcome.

00:00:02.500 --> 00:00:05.000
Let us begin.
"""
VTT_FR = VTT_EN.replace("Hello and welcome.", "Bonjour et bienvenue.").replace(
    "Let us begin.", "Commen\u00e7ons.")
VTT_FILM = """WEBVTT

00:00:00.000 --> 00:00:04.000
A test pattern.
"""

# The manifests and collections the tree must produce (paths below PRES)
EXPECTED_COLLECTIONS = ["collection", "books/collection", "av/collection"]
EXPECTED_MANIFESTS = ["books/book1/manifest", "books/book2/manifest", "books/book10/manifest",
                      "books/scans.tif/manifest", "av/extra/manifest",
                      "av/interview.mp3/manifest", "av/film.mp4/manifest",
                      "av/clip.webm/manifest", "broken/manifest"]


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------
def solid(w, h, colour):
    """A w x h image of one colour with a 1/4-size darker square in the top-left corner, so that
    orientation and scaling mistakes show."""
    a = np.empty((h, w, 3), np.uint8)
    a[:] = colour
    a[: h // 4, : w // 4] = [c // 3 for c in colour]
    return Image.fromarray(a)


def ffmpeg(*args):
    fx.run(["ffmpeg", "-nostdin", "-y", "-v", "error", *[str(a) for a in args]], timeout=120)


def ffprobe_duration(path):
    p = fx.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                "default=nw=1:nk=1", str(path)])
    return float(p.stdout.strip())


def ffprobe_video_size(path):
    p = fx.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                "stream=width,height", "-of", "csv=p=0", str(path)])
    w, h = p.stdout.strip().split(",")[:2]
    return int(w), int(h)


def has_encoder(name):
    p = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True)
    return re.search(rf"^\s*\S+\s+{re.escape(name)}\s", p.stdout, re.M) is not None


def make_media(d):
    """interview.mp3, film.mp4, clip.webm in folder d; returns facts about them."""
    os.makedirs(d, exist_ok=True)
    mp3 = os.path.join(d, "interview.mp3")
    mp4 = os.path.join(d, "film.mp4")
    webm = os.path.join(d, "clip.webm")
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={AUDIO_SECONDS}",
           "-c:a", "libmp3lame", "-b:a", "64k", mp3)
    vcodec = (["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
              if has_encoder("libx264") else ["-c:v", "mpeg4", "-q:v", "3"])
    ffmpeg("-f", "lavfi", "-i",
           f"testsrc=size={VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}:rate=25:duration={VIDEO_SECONDS}",
           *vcodec, "-movflags", "+faststart", mp4)
    vp = "libvpx" if has_encoder("libvpx") else "libvpx-vp9"
    ffmpeg("-f", "lavfi", "-i",
           f"testsrc2=size={WEBM_SIZE[0]}x{WEBM_SIZE[1]}:rate=25:duration={WEBM_SECONDS}",
           "-c:v", vp, "-b:v", "300k", "-deadline", "realtime", "-cpu-used", "8", webm)
    facts = {
        "interview.mp3": {"duration": ffprobe_duration(mp3), "nominal": AUDIO_SECONDS},
        "film.mp4": {"duration": ffprobe_duration(mp4), "nominal": VIDEO_SECONDS,
                     "size": ffprobe_video_size(mp4)},
        "clip.webm": {"duration": ffprobe_duration(webm), "nominal": WEBM_SECONDS,
                      "size": ffprobe_video_size(webm)},
    }
    for name, f in facts.items():   # the generator itself must be right
        assert abs(f["duration"] - f["nominal"]) < 0.15, (name, f)
    assert facts["film.mp4"]["size"] == VIDEO_SIZE
    assert facts["clip.webm"]["size"] == WEBM_SIZE
    return facts


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Tree:
    """The generated tree: root, outside, media facts, reference frames of the video."""

    def __init__(self, base):
        self.base = base
        self.root = os.path.join(base, "root")
        self.outside = os.path.join(base, "outside")
        self.work = os.path.join(base, "work")
        self.media = {}
        self.frames = {}

    def path(self, *p):
        return os.path.join(self.root, *p)


def make_tree(base):
    t = Tree(base)
    R = t.path
    for d in (t.root, t.outside, t.work):
        os.makedirs(d, exist_ok=True)

    # books
    os.makedirs(R("books", "book1"))
    for name, w, h, c in BOOK1:
        solid(w, h, c).save(R("books", "book1", name))
    write(R("books", "book1", "manifest.yml"), BOOK1_MANIFEST_YML)
    write(R("books", "book1", "page2.png.yml"), PAGE2_YML)
    solid(50, 50, (1, 2, 3)).save(R("books", "book1", ".secret.png"))
    with open(R("books", "book1", "data.bin"), "wb") as f:
        f.write(np.random.default_rng(5).integers(0, 256, 3000, np.uint8).tobytes())
    write(R("books", "collection.yml"), BOOKS_COLLECTION_YML)

    os.makedirs(R("books", "book2"))
    pages = [solid(w, h, c) for w, h, c in MULTI]
    pages[0].save(R("books", "book2", "multi.tif"), save_all=True, append_images=pages[1:],
                  compression="tiff_deflate")
    solid(*SINGLE).save(R("books", "book2", "single.jpg"), quality=95)

    os.makedirs(R("books", "book10"))
    for name, w, h, c in BOOK10:
        solid(w, h, c).save(R("books", "book10", name))

    pages = [solid(w, h, c) for w, h, c in SCANS]
    pages[0].save(R("books", "scans.tif"), save_all=True, append_images=pages[1:],
                  compression="tiff_deflate")

    # av
    t.media = make_media(R("av"))
    write(R("av", "interview.mp3.yml"), INTERVIEW_YML)
    write(R("av", "interview.en.vtt"), VTT_EN)
    write(R("av", "interview.fr.vtt"), VTT_FR)
    write(R("av", "film.vtt"), VTT_FILM)
    write(R("av", "notes.txt"), "not a picture, not a sound\n")
    os.makedirs(R("av", "extra"))
    solid(*STILL[1:]).save(R("av", "extra", STILL[0]))
    shutil.copy(R("av", "interview.mp3"), os.path.join(t.outside, "outside.mp3"))
    os.symlink(os.path.join(t.outside, "outside.mp3"), R("av", "link.mp3"))

    # reference frames of the video, for the poster check
    for sec in (0.0, 0.4):
        out = os.path.join(t.work, f"frame_{sec}.png")
        ffmpeg("-ss", sec, "-i", R("av", "film.mp4"), "-frames:v", "1", out)
        t.frames[sec] = np.asarray(Image.open(out).convert("RGB")).astype(float)

    # broken sidecar
    os.makedirs(R("broken"))
    solid(*GOOD[1:]).save(R("broken", GOOD[0]))
    write(R("broken", "manifest.yml"), BROKEN_YML)

    # skipped things
    os.makedirs(R("empty"))
    os.makedirs(R(".hidden"))
    solid(64, 64, (9, 9, 9)).save(R(".hidden", "inside.png"))
    shutil.copy(R("av", "interview.mp3"), R(".hidden", "secret.mp3"))
    shutil.copy(R("av", "interview.mp3"), R("av", ".secret.mp3"))

    _verify_tree(t)
    return t


def _verify_tree(t):
    """Sanity checks on the generator itself, so a failure means the server."""
    for (w, h, _c), i in zip(MULTI, range(3)):
        im = Image.open(t.path("books", "book2", "multi.tif"))
        im.seek(i)
        assert im.size == (w, h), (i, im.size)
    assert Image.open(t.path("books", "book2", "multi.tif")).n_frames == 3
    assert Image.open(t.path("books", "scans.tif")).n_frames == 2
    assert Image.open(t.path("av", "extra", STILL[0])).size == STILL[1:3]


def make_clean_tree(base, tree):
    """A small tree without any problem (for `iiifd check` exit 0): copies of book1 (with its
    sidecars, without data.bin) and of the interview with its sidecar and captions."""
    root = os.path.join(base, "clean")
    shutil.copytree(tree.path("books", "book1"), os.path.join(root, "books", "book1"),
                    ignore=shutil.ignore_patterns("data.bin", ".*"))
    os.makedirs(os.path.join(root, "books", "sounds"))
    for n in ("interview.mp3", "interview.mp3.yml", "interview.en.vtt", "interview.fr.vtt"):
        shutil.copy(tree.path("av", n), os.path.join(root, "books", n))
    solid(30, 20, (5, 100, 5)).save(os.path.join(root, "books", "sounds", "x.png"))
    return root


# --------------------------------------------------------------------------------------------
# JSON and URL helpers
# --------------------------------------------------------------------------------------------
SCHEMA_SKIP = (f"{fx.NEEDS_SHARED}: no ../shared/schemas ({SCHEMA_PATH} is absent; the "
               f"[structure] variant of this test ran the structural checks)")
_SCHEMA = []


def load_schema():
    """The official Presentation 3 schema from ../shared/schemas, or None when the checkout has
    no ../shared beside it (a clean clone)."""
    if not _SCHEMA:
        if os.path.isfile(SCHEMA_PATH):
            with open(SCHEMA_PATH) as f:
                _SCHEMA.append(json.load(f))
        else:
            _SCHEMA.append(None)
    return _SCHEMA[0]


class DocChecks:
    """How the tests check Presentation 3.0 documents: always with the project's structural
    checks (structural.py, the MUSTs of the spec); also with the official JSON schema when one is
    given. The pchecks fixture gives each validating test both variants."""

    def __init__(self, schema=None):
        self.schema = schema

    def __repr__(self):
        return "structure+schema" if self.schema is not None else "structure"


class DocValidator:
    def __init__(self, checks, cls=None, top=True):
        self.cls, self.top = cls, top
        self.jsonschema = None
        if checks.schema is not None:
            import jsonschema
            s = copy.deepcopy(checks.schema)
            if cls is not None:
                s["oneOf"] = [{"$ref": f"#/classes/{cls}"}]
            self.jsonschema = jsonschema.Draft7Validator(s)


def validator_for(checks, cls=None, top=True):
    """A validator for a whole document (top-level types: Manifest, Collection, Annotation
    Collection, AnnotationPage, Annotation) or for one class ('canvas', 'range',
    'annotationPage'); top=False for a resource taken out of its document (no @context)."""
    return DocValidator(checks, cls, top)


def doc_errors(validator, doc, limit=3):
    """[] when doc passes the structural checks and (when loaded) the schema; otherwise
    readable messages, each prefixed with what found it."""
    out = ["structure: " + e for e in structural.problems(doc, validator.cls, validator.top)]
    if validator.jsonschema is not None:
        out += ["schema: " + e for e in schema_errors(validator.jsonschema, doc, limit)]
    return out


def _leaves(e):
    if e.context:
        for c in e.context:
            yield from _leaves(c)
    else:
        yield e


_CLASS_OF_TYPE = {"Manifest": "manifest", "Collection": "collection", "Canvas": "canvas",
                  "Range": "range", "AnnotationPage": "annotationPage", "Annotation": "annotation"}


def schema_errors(validator, doc, limit=3):
    """[] when doc is valid under the jsonschema validator; otherwise readable messages: the errors of the
    schema class for doc's type, reduced to their most specific leaves (a failed oneOf alone
    only says 'not valid under any of the given schemas')."""
    errors = list(validator.iter_errors(doc))
    if not errors:
        return []
    cls = _CLASS_OF_TYPE.get(doc.get("type")) if isinstance(doc, dict) else None
    if cls is not None:
        import jsonschema
        s = dict(validator.schema)
        s["oneOf"] = [{"$ref": f"#/classes/{cls}"}]
        errors = list(jsonschema.Draft7Validator(s).iter_errors(doc)) or errors
    out = []
    for e in errors[:limit]:
        leaves = [x for x in _leaves(e)
                  if not (x.validator in ("pattern", "const", "enum", "required")
                          and list(x.path)[-1:] == ["type"])]
        leaves = sorted(leaves or [e], key=lambda x: -len(list(x.absolute_path)))
        seen = []
        for leaf in leaves:
            msg = "/" + "/".join(str(p) for p in leaf.absolute_path) + ": " + leaf.message[:200]
            if msg not in seen:
                seen.append(msg)
            if len(seen) >= 3:
                break
        out.append(" | ".join(seen))
    return out


def walk(node, path=""):
    """Yields (json_path, dict) for every object in a JSON document."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}/{i}")


def all_ids(doc):
    """Every id / @id string value in the document, with its JSON path."""
    for p, o in walk(doc):
        for k in ("id", "@id"):
            if isinstance(o.get(k), str):
                yield p, o[k]


def lang_values(m):
    """All strings of a language map."""
    assert isinstance(m, dict), f"not a language map: {m!r}"
    out = []
    for k, v in m.items():
        assert isinstance(v, list) and all(isinstance(s, str) for s in v), \
            f"language map value for {k!r} is not an array of strings: {v!r}"
        out += v
    return out


def sid(service):
    return service.get("id", service.get("@id"))


def stype(service):
    return service.get("type", service.get("@type"))


def find_service(body, kind):
    for s in body.get("service", []) or []:
        if stype(s) == kind:
            return s
    return None


def local_path(server, url, public=None):
    """The request path of an absolute URL the server emitted (base = public or server.base)."""
    base = (public or server.base).rstrip("/")
    assert url.startswith(base + "/"), f"{url!r} does not start with {base!r}"
    return url[len(base):]


def fetch(server, url, public=None, **kw):
    return server.get(local_path(server, url, public), **kw)


def fetch_json(server, url, public=None, expect_id=True):
    r = fetch(server, url, public)
    assert r.status == 200, f"GET {url} -> {r.status} {r.body[:300]!r}"
    assert "json" in r.content_type, f"GET {url}: Content-Type {r.content_type!r}"
    try:
        doc = r.json()
    except ValueError as e:
        raise AssertionError(f"GET {url}: not JSON ({e}): {r.body[:300]!r}")
    if expect_id:
        got = doc.get("id", doc.get("@id"))
        assert got == url, f"GET {url}: its id is {got!r}"
    return doc


def pres_url(server, path, public=None):
    return f"{(public or server.base).rstrip('/')}{PRES}/{path}"


def crawl(server, public=None, start="collection"):
    """Walks from the root Collection through every member. Returns (collections, manifests,
    problems): {url: json} each, and a list of broken links (a failed fetch does not stop the
    walk, so one bad member does not hide the rest)."""
    colls, mans, problems = {}, {}, []
    todo = [pres_url(server, start, public)]
    while todo:
        url = todo.pop(0)
        if url in colls:
            continue
        try:
            doc = fetch_json(server, url, public)
            assert doc.get("type") == "Collection", f"{url}: type {doc.get('type')!r}"
        except AssertionError as e:
            problems.append(str(e))
            continue
        colls[url] = doc
        for m in doc.get("items", []):
            if m.get("type") == "Collection":
                todo.append(m.get("id"))
            elif m.get("type") == "Manifest":
                if m.get("id") not in mans:
                    try:
                        mans[m["id"]] = fetch_json(server, m["id"], public)
                    except (AssertionError, KeyError) as e:
                        problems.append(f"member {m!r} of {url}: {e}")
            else:
                problems.append(f"{url}: member of type {m.get('type')!r}")
    return colls, mans, problems


def canvas_ref_id(item):
    """The canvas id a Range item points at (a Canvas reference or a SpecificResource)."""
    if item.get("type") == "Canvas":
        return item["id"]
    if item.get("type") == "SpecificResource":
        src = item.get("source")
        return src if isinstance(src, str) else src["id"]
    raise AssertionError(f"Range item is neither a Canvas nor a SpecificResource: {item!r}")


def painting_annotations(canvas):
    out = []
    for page in canvas.get("items", []):
        for anno in page.get("items", []):
            out.append(anno)
    return out


def painting_body(canvas):
    annos = painting_annotations(canvas)
    assert len(annos) == 1, f"{canvas.get('id')}: {len(annos)} painting annotations"
    assert annos[0].get("motivation") in ("painting", ["painting"]), annos[0].get("motivation")
    body = annos[0]["body"]
    if isinstance(body, list):
        assert len(body) == 1, body
        body = body[0]
    return body


def image_identifier(url):
    """The decoded identifier of an Image API service or image URL."""
    path = urllib.parse.urlsplit(url).path
    m = re.search(r"/iiif/[23]/([^/]+)", path)
    assert m, f"not an Image API URL: {url}"
    return urllib.parse.unquote(m.group(1))


def centre_colour(img):
    a = np.asarray(img.convert("RGB")).astype(float)
    h, w = a.shape[:2]
    return a[h * 5 // 8 - 2: h * 5 // 8 + 2, w * 5 // 8 - 2: w * 5 // 8 + 2].reshape(-1, 3).mean(0)


def request_with_host(port, path, host, method="GET", timeout=30):
    """One request with exactly the given Host header (fx.request lets http.client add its own
    first, so a second Host header would be ignored)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.endheaders()
        r = conn.getresponse()
        return fx.Response(r.status, r.reason, r.getheaders(), r.read(), 0.0)
    finally:
        conn.close()


def run_cli(iiifd_bin, *args, timeout=120):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    p = subprocess.run([iiifd_bin, *[str(a) for a in args]], capture_output=True, text=True,
                       timeout=timeout, env=env)
    for marker in fx.SANITIZER_MARKERS:
        assert marker not in p.stderr, f"sanitizer report from iiifd {args}:\n{p.stderr[-4000:]}"
    return p


# --------------------------------------------------------------------------------------------
# Fixtures (import them into each test module)
# --------------------------------------------------------------------------------------------
_PRES_SERVERS = []


@pytest.fixture(scope="session")
def ptree(tmp_path_factory):
    return make_tree(str(tmp_path_factory.mktemp("iiifd-pres")))


class SharedServer:
    """A server over one tree shared by many tests (restarted if it dies); its sanitizer
    reports and death are checked after every test by _pres_health."""

    def __init__(self, binary, root, workdir, name, args=()):
        self.binary, self.root, self.workdir, self.name, self.args = \
            binary, root, workdir, name, list(args)
        self.s = None

    def __call__(self):
        if self.s is None or not self.s.alive():
            self.s = fx.Server(self.binary, self.root, self.workdir, args=self.args,
                               name=f"{self.name}{len(_PRES_SERVERS)}").start()
            _PRES_SERVERS.append(self.s)
        return self.s

    def close(self):
        if self.s is not None:
            self.s.stopped_on_purpose = True
            self.s.kill()


@pytest.fixture(scope="session")
def pserver(iiifd_bin, ptree, tmp_path_factory):
    """One server over the generated tree for the whole session."""
    shared = SharedServer(iiifd_bin, ptree.root, str(tmp_path_factory.mktemp("pres-servers")),
                          "pres")
    yield shared
    shared.close()


@pytest.fixture
def server_p(pserver):
    return pserver()


@pytest.fixture(autouse=True)
def _pres_health():
    """After every test: the shared presentation server must be alive and sanitizer-clean."""
    yield
    problems = []
    for s in _PRES_SERVERS:
        if s.stopped_on_purpose:
            continue
        found, text = s.new_sanitizer_reports()
        if found:
            problems.append(f"sanitizer report from {s.command()}:\n{text[-4000:]}")
        if not s.alive() and not getattr(s, "_death_reported", False):
            s._death_reported = True
            problems.append(f"presentation server died (exit {s.proc.returncode}):\n"
                            f"{s.stderr_text()[-3000:]}")
    if problems:
        pytest.fail("\n\n".join(problems))


_CRAWL = {}


@pytest.fixture
def site(server_p):
    """(collections, manifests) crawled once per server process."""
    key = id(server_p)
    if key not in _CRAWL:
        _CRAWL[key] = crawl(server_p)
    return _CRAWL[key]


@pytest.fixture(params=["structure", "schema"])
def pchecks(request):
    """Every test that validates documents runs twice: [structure] with the project's structural
    checks alone (always), [schema] with those and the official JSON schema (skipped, with the
    reason fixtures.NEEDS_SHARED, when ../shared is not beside the checkout)."""
    if request.param == "structure":
        return DocChecks(None)
    schema = load_schema()
    if schema is None:
        pytest.skip(SCHEMA_SKIP)
    return DocChecks(schema)


def manifest_of(server, site, path):
    url = pres_url(server, path)
    mans = site[1]
    assert url in mans, f"{url} is not a member of any Collection (have {sorted(mans)})"
    return mans[url]


def collection_of(server, site, path):
    url = pres_url(server, path)
    assert url in site[0], f"{url} not reached (have {sorted(site[0])})"
    return site[0][url]
