"""The HTML interface (docs/web.md): Collection and Manifest pages built from the Presentation
documents, a hostile sidecar whose markup must come out escaped or removed, security headers,
links (viewer iframe, downloads, IIIF links), paging, the sitemap, the 404 page, Accept
negotiation with Vary, the Accept-Language choice, and search results with marked words and
region thumbnails."""

import html
import json
import html.parser
import os
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import presentation_fixtures as pf  # noqa: E402
from annotation_fixtures import alto_v4, layout, line_box  # noqa: E402

# Accept headers as real clients send them
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
          "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
JSON_CLIENTS = [None, "*/*", "application/json", "application/json, text/plain, */*",
                'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"',
                "application/ld+json, application/json;q=0.9, */*;q=0.1",
                "text/html, application/json", "text/html;q=0.5, application/json"]

HOSTILE_YML = r"""label: {en: "Hostile <script>alert('label')</script> book", fr: "Livre hostile"}
summary: "<p>Safe <b>bold</b> text<script>alert('summary')</script><img src=x onerror=alert('img')><a href=\"javascript:alert('js')\">jslink</a> <a href=\"javascript&#58;alert('ent')\">entlink</a> <a href=\"https://ok.example/\" onclick=\"alert('click')\">oklink</a><!-- hidden comment --><![CDATA[cdata text]]><?php evil ?></p>"
metadata:
  - label: "<b>Label tag</b>"
    value: "<span><IMG SRC=https://ok.example/i.png ONERROR=alert('up') alt=pic><iframe src=https://evil.example/></iframe><svg onload=alert('svg')></svg>visible value</span>"
  - label: Plain
    value: "<b>not markup since it does not end with a tag"
  - label: Style
    value: "<div style=\"background:url(javascript:alert('css'))\"><style>body{display:none}</style><form action=https://evil.example/><input name=x></form>styled</div>"
requiredStatement:
  label: Attribution
  value: "<p>Provided by <a href=https://lib.example/>the library</a><a href=' JaVaScRiPt:alert(1)'>x</a></p>"
provider:
  - label: Example Library
    homepage: https://library.example.org/
    logo: https://library.example.org/logo.png
rights: http://creativecommons.org/licenses/by/4.0/
"""

# OCR on the hostile book's page: a word to find, and markup inside the text itself
OCR_LINES = [layout("the zebra crossing ahead", 100, 200, 40, 20, 40),
             layout("zebra <img src=x onerror=alert(9)> stripes", 100, 300, 40, 15, 20)]
LOREM_LINES = 60  # lines with "lorem" on page2: more than one page of results (50)
MANY = 7          # single images in many/, next to one sub-folder: 8 members
PAGE_SIZE = 3     # --web-page-size of the test server


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Balance(html.parser.HTMLParser):
    """Every element of the page closed, in order (the pages are written, not parsed, so a
    template slip would show here)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append(f"left open: {self.stack}")

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]} at {self.getpos()}")
        else:
            self.stack.pop()


class Parsed(html.parser.HTMLParser):
    """Every start tag with its attributes (values unescaped, as a browser reads them)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def make_web_tree(base):
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "hostile"))
    pf.solid(1000, 1500, (200, 200, 200)).save(os.path.join(root, "hostile", "page1.png"))
    pf.solid(2500, 1200, (100, 150, 200)).save(os.path.join(root, "hostile", "page2.png"))
    pf.write(os.path.join(root, "hostile", "manifest.yml"), HOSTILE_YML)
    pf.write(os.path.join(root, "hostile", "page1.xml"),
             alto_v4(OCR_LINES, 1000, 1500, "page1.png"))
    pf.write(os.path.join(root, "hostile", "page2.xml"),
             alto_v4([layout("lorem ipsum dolor", 100, 100 + 15 * i, 10, 10, 10)
                      for i in range(LOREM_LINES)], 2500, 1200, "page2.png"))
    os.makedirs(os.path.join(root, "sound"))
    pf.ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "libmp3lame",
              os.path.join(root, "sound", "talk.mp3"))
    os.makedirs(os.path.join(root, "many", "sub"))
    pf.solid(40, 30, (10, 200, 10)).save(os.path.join(root, "many", "sub", "x.png"))
    for i in range(MANY):
        pf.solid(40, 30, (10 * i, 50, 50)).save(os.path.join(root, "many", f"item{i}.png"))
    pf.write(os.path.join(root, "many", "collection.yml"),
             "label: {en: Many things, fr: Beaucoup de choses}\n")
    return root


@pytest.fixture(scope="module")
def web(iiifd_bin, tmp_path_factory):
    """A server over the web tree, its OCR imported beforehand with `iiifd import`."""
    base = str(tmp_path_factory.mktemp("iiifd-web"))
    root = make_web_tree(base)
    data = os.path.join(base, "data")
    p = pf.run_cli(iiifd_bin, "import", "--root", root, "--data-dir", data, root)
    assert p.returncode == 0, f"iiifd import failed:\n{p.stdout}\n{p.stderr}"
    s = fx.Server(iiifd_bin, root, base, name="web",
                  args=["--data-dir", data, "--auto-import", "false",
                        "--web-page-size", str(PAGE_SIZE)]).start()
    yield s
    s.stopped_on_purpose = True
    found, text = s.new_sanitizer_reports()
    s.kill()
    assert not found, f"sanitizer report:\n{text[-4000:]}"


@pytest.fixture(scope="module")
def quiet(iiifd_bin, tmp_path_factory):
    """A server with pages off on JSON URLs and a public-url with a path."""
    base = str(tmp_path_factory.mktemp("iiifd-web-quiet"))
    root = make_web_tree(base)
    s = fx.Server(iiifd_bin, root, base, name="webq",
                  args=["--html-pages-on-json-urls", "false",
                        "--public-url", "https://images.example.org/base"]).start()
    yield s
    s.kill()


def get(server, path, accept=FIREFOX, lang=None, headers=None):
    h = dict(headers or {})
    if accept:
        h["Accept"] = accept
    if lang:
        h["Accept-Language"] = lang
    return server.get(path, headers=h)


def page(server, path, status=200, **kw):
    r = get(server, path, **kw)
    assert r.status == status, (path, r.status, r.body[:500])
    check_page_headers(r)
    return r, r.body.decode("utf-8")


def check_page_headers(r):
    assert r.content_type == "text/html; charset=utf-8", r.content_type
    csp = r.header("Content-Security-Policy") or ""
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'",
                      "base-uri 'none'", "frame-ancestors 'self'", "frame-src 'self'"):
        assert directive in csp, (directive, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("Referrer-Policy"), "no Referrer-Policy"
    assert len(r.body) < 100_000, f"page of {len(r.body)} bytes"


def check_no_script(text):
    """No way for the page to run script but its own static file; elements balanced."""
    errors = Balance(text).errors
    assert not errors, errors[:5]
    assert text.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    p = Parsed(text)
    scripts = [a for t, a in p.tags if t == "script"]
    assert scripts == [{"src": "/static/iiifd.js", "defer": None}], scripts
    for tag, attrs in p.tags:
        for k, v in attrs.items():
            assert not k.startswith("on"), f"event attribute {k} on <{tag}>"
            assert k not in ("style", "srcdoc", "formaction"), f"{k} on <{tag}>"
            if k in ("href", "src", "action") and v is not None:
                assert not re.match(r"\s*(javascript|data|vbscript):", v, re.I), (tag, k, v)
        assert tag not in ("style", "object", "embed", "svg", "form") or \
            (tag == "form" and attrs.get("role") == "search"), f"<{tag}> in the page"
        if tag == "iframe":
            assert attrs.get("src", "").startswith("/viewer/"), attrs
    assert "<script>alert" not in text.lower()
    return p


# --------------------------------------------------------------------------------------------
# The hostile sidecar
# --------------------------------------------------------------------------------------------
def test_hostile_sidecar_is_escaped_or_removed(web):
    r, text = page(web, "/view/hostile/manifest", lang="en")
    p = check_no_script(text)
    body = "".join(p.text)
    # what is allowed survives
    assert "<b>bold</b>" in text
    assert '<a href="https://ok.example/">oklink</a>' in text, "a safe link loses only onclick"
    assert '<a href="https://lib.example/">the library</a>' in text
    assert '<img src="https://ok.example/i.png" alt="pic">' in text
    assert "visible value" in body and "styled" in body
    # what is not is gone: script bodies, comments, CDATA, PIs, forbidden elements
    for gone in ("alert('summary')", "hidden comment", "cdata text", "php evil", "alert('svg')",
                 "evil.example", "display:none"):
        assert gone not in text, gone
    # javascript: links keep their text but lose the link
    assert "<a>jslink</a>" in text and "<a>entlink</a>" in text
    # label is never markup: shown as text, escaped
    assert "Hostile &lt;script&gt;alert(&#39;label&#39;)&lt;/script&gt; book" in text
    # a label cannot hold HTML (§4.5): the sidecar's markup is reduced to its text at the source
    assert "Label tag" in text and "<b>Label tag" not in text and "&lt;b&gt;Label" not in text
    # a value not ending in '>' is plain text (§4.5), escaped whole
    assert "&lt;b&gt;not markup since it does not end with a tag" in text


def test_hostile_page_is_safe_in_every_language_and_viewer(web):
    for lang in ("fr", "de", "en-GB"):
        for viewer in ("mirador", "uv", "clover", "<script>"):
            _, text = page(web, "/view/hostile/manifest?viewer=" + urllib.parse.quote(viewer),
                           lang=lang)
            check_no_script(text)


def test_ocr_text_with_markup_is_escaped_in_results(web):
    _, text = page(web, "/view/hostile/manifest?q=stripes")
    check_no_script(text)
    assert "<mark>stripes</mark>" in text
    assert "&lt;img src=x onerror=alert(9)&gt;" in text


# --------------------------------------------------------------------------------------------
# Pages and links
# --------------------------------------------------------------------------------------------
def test_root_page_lists_members_with_thumbnails(web):
    _, text = page(web, "/")
    p = check_no_script(text)
    links = [a["href"] for a in p.find("a")]
    assert "/view/hostile/manifest" in links and "/view/many/collection" in links
    thumbs = [a for t, a in p.tags if t == "img"]
    assert thumbs and all("alt" in a for a in thumbs), thumbs
    for a in thumbs:
        path = urllib.parse.urlsplit(a["src"]).path
        r = web.get(path)
        assert r.status == 200 and r.content_type == "image/jpeg", (path, r)
    assert p.find("html", lang="en"), "no lang on <html>"
    assert p.find("main", id="main") and p.find("a", href="#main"), "no landmark or skip link"
    _, same = page(web, "/view/collection")
    assert same == text


def test_manifest_page_viewer_downloads_and_iiif_links(web):
    _, text = page(web, "/view/hostile/manifest")
    p = Parsed(text)
    mid = f"{web.base}/iiif/presentation/hostile/manifest"
    frames = p.find("iframe")
    assert len(frames) == 1 and frames[0].get("title"), frames
    src = urllib.parse.urlsplit(frames[0]["src"])
    assert src.path == "/viewer/mirador"
    assert urllib.parse.parse_qs(src.query) == {"manifest": [mid]}
    for name in ("uv", "clover", "tify"):
        _, other = page(web, f"/view/hostile/manifest?viewer={name}")
        assert Parsed(other).find("iframe")[0]["src"].startswith(f"/viewer/{name}?manifest=")
    hrefs = [a.get("href") for a in p.find("a")]
    assert "/view/hostile/manifest?viewer=uv#viewer" in hrefs
    assert "/pdf/hostile/manifest?width=1000" in hrefs
    r = web.get("/pdf/hostile/manifest?width=1000")
    assert r.status == 200 and r.content_type == "application/pdf" and r.body[:4] == b"%PDF"
    dnd = [h for h in hrefs if h and "manifest=" in h and h.startswith(mid)]
    q = urllib.parse.quote(mid, safe='')
    # iiif-content (a plain URI, never content-state-encoded) and the older manifest=
    assert dnd == [f"{mid}?iiif-content={q}&manifest={q}"], dnd
    assert p.find("input", id="iiif-url", value=mid, readonly=None, type="text")
    assert p.find("label", **{"for": "iiif-url"}) and p.find("button", **{"data-copy": "iiif-url"})
    # downloads: sizes below the image's own width, and the full size; each one works
    downloads = [h for h in hrefs if h and "/full/" in h and h.endswith("/0/default.jpg")]
    ident = urllib.parse.quote("hostile/page2.png", safe="")
    assert f"{web.base}/iiif/3/{ident}/full/1000,/0/default.jpg" in downloads
    assert f"{web.base}/iiif/3/{ident}/full/2000,/0/default.jpg" in downloads
    assert not any("2000," in h and "page1" in h for h in downloads), "page1 is 1000 px wide"
    for h in downloads:
        r = web.get(urllib.parse.urlsplit(h).path)
        assert r.status == 200 and r.content_type == "image/jpeg", (h, r)
    # the JSON link gives JSON even to a browser
    json_link = [h for h in hrefs if h and h.startswith(mid) and "format=json" in h]
    r = get(web, urllib.parse.urlsplit(json_link[0]).path + "?format=json")
    assert r.status == 200 and r.json()["id"] == mid


def test_audio_manifest_page(web):
    _, text = page(web, "/view/sound/manifest")
    p = check_no_script(text)
    hrefs = [a.get("href") for a in p.find("a")]
    assert f"{web.base}/iiif/media/sound/talk.mp3" in hrefs
    assert not any(h and h.startswith("/pdf/") for h in hrefs), "no PDF of a sound"
    assert p.find("iframe")[0]["src"].startswith("/viewer/mirador?manifest=")


def test_revalidation_and_head(web):
    r, text = page(web, "/view/hostile/manifest")
    etag = r.header("ETag")
    assert etag and r.header("Cache-Control") == "no-cache"
    r2 = get(web, "/view/hostile/manifest", headers={"If-None-Match": etag})
    assert r2.status == 304 and not r2.body
    r3 = get(web, "/view/hostile/manifest", lang="fr", headers={"If-None-Match": etag})
    assert r3.status == 200, "another language is another page"
    h = web.get("/view/hostile/manifest", method="HEAD", headers={"Accept": FIREFOX})
    assert h.status == 200 and not h.body and h.header("Content-Type") == r.content_type


def test_breadcrumbs(web):
    _, text = page(web, "/view/many/sub/manifest")
    nav = re.search(r'<nav class="crumbs" aria-label="Breadcrumb">(.*?)</nav>', text).group(1)
    assert re.findall(r'href="([^"]+)"', nav) == ["/", "/view/many/collection"]
    assert 'aria-current="page"' in nav


def test_static_files(web):
    for path, ctype in (("/static/iiifd.css", "text/css; charset=utf-8"),
                        ("/static/iiifd.js", "text/javascript; charset=utf-8")):
        r = web.get(path)
        assert r.status == 200 and r.content_type == ctype, (path, r)
        assert r.header("X-Content-Type-Options") == "nosniff"
    css = web.get("/static/iiifd.css").body
    _, text = page(web, "/view/hostile/manifest")
    assert len(css) + len(text.encode()) < 100_000
    assert b":focus-visible" in css


def test_paging(web):
    seen = []
    for n in (1, 2, 3):
        _, text = page(web, f"/view/many/collection?page={n}")
        p = Parsed(text)
        cards = [a["href"] for t, a in p.tags if t == "a" and a.get("href", "").startswith(
            "/view/many/") and "/many/collection" not in a["href"]]
        assert len(cards) == (PAGE_SIZE if n < 3 else 2), (n, cards)
        seen += cards
        rels = {a.get("rel"): a["href"] for a in p.find("a") if a.get("rel")}
        assert ("next" in rels) == (n < 3) and ("prev" in rels) == (n > 1), rels
        if n < 3:
            assert rels["next"] == f"/view/many/collection?page={n + 1}"
        assert f"Page {n} of 3" in text
    assert len(set(seen)) == MANY + 1
    _, text = page(web, "/view/many/collection?page=9")
    assert "There is no such page" in text
    page(web, "/view/many/collection?page=abc", status=400)


def test_not_found_page(web):
    for path in ("/view/nope/%3Cscript%3Ealert(1)%3C%2Fscript%3E/manifest",
                 "/view/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
                 "/view/hostile/manifest/canvas/1", "/static/nope.js", "/view/"):
        r, text = page(web, path, status=404)
        check_no_script(text)
        assert "<h1>404 Not Found</h1>" in text
        assert "alert(1)" not in text
    r, text = page(web, "/view/%ZZ%3Cscript%3E/manifest", status=400)
    assert "<h1>400 Bad Request</h1>" in text and "<script>" not in text.replace(
        '<script src="/static/iiifd.js" defer></script>', "")


# --------------------------------------------------------------------------------------------
# Languages
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang, want", [
    ("fr", '<span lang="fr">Beaucoup de choses</span>'),
    ("fr-CH, en;q=0.5", '<span lang="fr">Beaucoup de choses</span>'),
    ("en-GB,fr;q=0.9", '<span lang="en">Many things</span>'),
    ("de, fr;q=0.3", '<span lang="fr">Beaucoup de choses</span>'),
    ("de", '<span lang="en">Many things</span>'),
    (None, '<span lang="en">Many things</span>'),
    ("fr;q=0, *", '<span lang="en">Many things</span>'),
])
def test_accept_language(web, lang, want):
    r, text = page(web, "/view/many/collection", lang=lang)
    assert f"<h1>{want}</h1>" in text, re.search(r"<h1>.*?</h1>", text).group(0)
    assert "Accept-Language" in ", ".join(r.header_all("Vary"))


# --------------------------------------------------------------------------------------------
# Negotiation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/iiif/presentation/hostile/manifest",
                                  "/iiif/presentation/many/collection",
                                  "/iiif/presentation/collection"])
def test_json_urls_give_browsers_the_page(web, path):
    for accept in (FIREFOX, CHROME):
        r, text = page(web, path, accept=accept)
        assert "Accept" in [v.strip() for h in r.header_all("Vary") for v in h.split(",")]
        check_no_script(text)
    for accept in JSON_CLIENTS:
        r = get(web, path, accept=accept)
        assert r.status == 200 and "json" in r.content_type, (accept, r)
        assert r.json()["id"] == web.base + path
        assert "Accept" in [v.strip() for h in r.header_all("Vary") for v in h.split(",")]


def test_sub_resources_stay_json(web):
    r = get(web, "/iiif/presentation/hostile/manifest/canvas/1", accept=FIREFOX)
    assert r.status == 200 and "json" in r.content_type


def test_root_negotiation(web):
    r = get(web, "/", accept=None)
    assert r.status == 200 and r.json()["service"] == "iiifd"
    assert "Accept" in ", ".join(r.header_all("Vary"))
    r = get(web, "/", accept="application/json")
    assert r.status == 200 and r.json()["presentation"] == "/iiif/presentation/collection"
    r, _ = page(web, "/", accept=CHROME)


def test_negotiation_off_and_public_url(quiet):
    r = get(quiet, "/iiif/presentation/hostile/manifest", accept=FIREFOX)
    assert r.status == 200 and "json" in r.content_type
    r, text = page(quiet, "/view/hostile/manifest")
    p = Parsed(text)
    mid = "https://images.example.org/base/iiif/presentation/hostile/manifest"
    assert p.find("input", id="iiif-url", value=mid, readonly=None, type="text")
    assert p.find("a", href=mid), "the JSON link needs no ?format=json when pages are off"
    assert p.find("link", rel="stylesheet", href="/base/static/iiifd.css")
    assert "/base/viewer/mirador?manifest=" in p.find("iframe")[0]["src"]
    # no database search box when annotations are on but nothing asked; the search still works
    assert p.find("input", name="q")


def test_web_off(iiifd_bin, tmp_path_factory):
    base = str(tmp_path_factory.mktemp("iiifd-web-off"))
    root = make_web_tree(base)
    s = fx.Server(iiifd_bin, root, base, name="weboff", args=["--web", "false"]).start()
    try:
        assert get(s, "/view/hostile/manifest").status == 404
        assert get(s, "/sitemap.xml").status == 404
        r = get(s, "/", accept=FIREFOX)
        assert r.status == 200 and r.json()["service"] == "iiifd"
        r = get(s, "/iiif/presentation/hostile/manifest", accept=FIREFOX)
        assert "json" in r.content_type
    finally:
        s.kill()


# --------------------------------------------------------------------------------------------
# Sitemap
# --------------------------------------------------------------------------------------------
def test_sitemap_lists_every_page(web, quiet):
    for server, base in ((web, web.base), (quiet, "https://images.example.org/base")):
        r = server.get("/sitemap.xml")
        assert r.status == 200 and r.content_type.startswith("application/xml"), r
        doc = ET.fromstring(r.body)
        ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
        assert doc.tag == f"{ns}urlset"
        locs = [u.find(f"{ns}loc").text for u in doc.findall(f"{ns}url")]
        want = {f"{base}/", f"{base}/view/hostile/manifest", f"{base}/view/many/collection",
                f"{base}/view/sound/manifest",
                f"{base}/view/many/sub/manifest"}
        want |= {f"{base}/view/many/item{i}.png/manifest" for i in range(MANY)}
        assert sorted(locs) == sorted(want)
    r = web.get("/robots.txt")
    assert r.status == 200 and f"Sitemap: {web.base}/sitemap.xml" in r.body.decode()


def test_sitemap_pages_exist(web):
    doc = ET.fromstring(web.get("/sitemap.xml").body)
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    for u in doc.findall(f"{ns}url"):
        path = urllib.parse.urlsplit(u.find(f"{ns}loc").text).path
        page(web, path)


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------
def hits_of(text):
    return re.findall(r'<li class="hit">(.*?)</li>', text, re.S)


def test_search_on_a_manifest_page(web):
    _, text = page(web, "/view/hostile/manifest?q=zebra")
    check_no_script(text)
    p = Parsed(text)
    assert p.find("label", **{"for": "q"}) and p.find("input", id="q", name="q", value="zebra")
    hits = hits_of(text)
    assert len(hits) == 2, hits
    assert "\u201czebra\u201d found in 2 passages." in text
    boxes = []
    for h in hits:
        assert "<mark>zebra</mark>" in h
        hp = Parsed(h)
        img = hp.find("img")[0]
        assert img.get("alt"), img
        m = re.search(r"/iiif/3/hostile%2Fpage1\.png/(\d+),(\d+),(\d+),(\d+)/!200,200/0/"
                      r"default\.jpg$", img["src"])
        assert m, img["src"]
        r = web.get(urllib.parse.urlsplit(img["src"]).path)
        assert r.status == 200 and r.content_type == "image/jpeg"
        w, h2 = Image.open(__import__("io").BytesIO(r.body)).size
        assert max(w, h2) <= 200
        link = [a["href"] for a in hp.find("a")][0]
        u = urllib.parse.urlsplit(link)
        assert u.path == "/view/hostile/manifest" and u.fragment == "viewer"
        q = urllib.parse.parse_qs(u.query)
        canvas = f"{web.base}/iiif/presentation/hostile/manifest/canvas/1"
        assert q["canvas"] == [canvas]
        box = tuple(int(v) for v in q["xywh"][0].split(","))
        # the OCR is in the canvas's own pixels: the word "zebra" (5 letters of 20 px) or
        # its line, on either line
        words = [w[1:] for line in OCR_LINES for w in line if w[0] == "zebra"]
        assert box in words + [line_box(line) for line in OCR_LINES], box
        boxes.append(box[1])
        assert m.groups() == tuple(str(v) for v in box), "the thumbnail shows the hit's region"
        # the link opens the viewer on that Canvas and region
        _, viewer_page = page(web, link.split("#")[0])
        src = urllib.parse.urlsplit(Parsed(viewer_page).find("iframe")[0]["src"])
        vq = urllib.parse.parse_qs(src.query)
        assert vq["canvas"] == [canvas] and vq["xywh"] == q["xywh"], vq
        # and a IIIF Content State of the hit: the same Canvas and box, partOf its Manifest, as
        # a viewer link (encoded) and as plain JSON to drag (docs/content-state.md)
        cs = hp.find("a", **{"class": "iiif-cs"})[0]
        u = urllib.parse.urlsplit(cs["href"])
        assert u.path == "/viewer/mirador" and cs["draggable"] == "true", cs
        enc = urllib.parse.parse_qs(u.query)["iiif-content"][0]
        state = json.loads(urllib.parse.unquote(__import__("base64").urlsafe_b64decode(
            enc + "=" * (-len(enc) % 4)).decode()))
        assert json.loads(cs["data-iiif-content"]) == state
        assert state["type"] == "Canvas" and state["id"].split("#")[0] == canvas, state
        xywh = tuple(int(float(v)) for v in state["id"].split("#xywh=")[1].split(","))
        assert xywh == box and state["partOf"] == [
            {"id": f"{web.base}/iiif/presentation/hostile/manifest", "type": "Manifest"}], state
        r = web.get(cs["href"])
        assert r.status in (200, 503), r  # the viewer page reads it (503: viewers not installed)
    assert sorted(boxes) == [200, 300], "one hit on each line"


def test_search_from_the_collection(web):
    _, text = page(web, "/?q=zebra")
    hits = hits_of(text)
    assert len(hits) == 2 and all("<mark>zebra</mark>" in h for h in hits)
    assert all("/view/hostile/manifest?" in h and "/iiif/3/hostile%2Fpage1.png/" in h for h in hits)
    _, none = page(web, "/?q=unicornword")
    assert "No results for \u201cunicornword\u201d." in none and not hits_of(none)


def test_search_results_are_paged(web):
    _, text = page(web, "/view/hostile/manifest?q=lorem")
    assert f"\u201clorem\u201d found in {LOREM_LINES} passages." in text
    first = hits_of(text)
    assert len(first) == 50 and all("<mark>lorem</mark>" in h for h in first)
    rels = {a.get("rel"): a["href"] for a in Parsed(text).find("a") if a.get("rel")}
    assert rels == {"next": "/view/hostile/manifest?q=lorem&page=1"}, rels
    assert all("/iiif/3/hostile%2Fpage2.png/" in h for h in first)
    _, text = page(web, rels["next"])
    second = hits_of(text)
    assert len(second) == LOREM_LINES - 50
    rels = {a.get("rel"): a["href"] for a in Parsed(text).find("a") if a.get("rel")}
    assert rels == {"prev": "/view/hostile/manifest?q=lorem&page=0"}, rels
    assert not set(first) & set(second)


def test_search_input_is_escaped(web):
    q = "\"><script>alert(1)</script>"
    _, text = page(web, "/view/hostile/manifest?q=" + urllib.parse.quote(q))
    check_no_script(text)
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_viewer_params_are_checked(web):
    evil = urllib.parse.quote("https://evil.example/canvas/1")
    _, text = page(web, f"/view/hostile/manifest?canvas={evil}&xywh=1,2,3,4")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(Parsed(text).find("iframe")[0]["src"]).query)
    assert "canvas" not in q and q["xywh"] == ["1,2,3,4"]
    _, text = page(web, "/view/hostile/manifest?xywh=" + urllib.parse.quote("1,2,3,javascript:x"))
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(Parsed(text).find("iframe")[0]["src"]).query)
    assert "xywh" not in q


def _decode_state(enc):
    import base64
    return json.loads(urllib.parse.unquote(base64.urlsafe_b64decode(
        enc + "=" * (-len(enc) % 4)).decode()))


def test_manifest_page_shares_its_view_as_a_content_state(web):
    mid = f"{web.base}/iiif/presentation/hostile/manifest"
    canvas = mid + "/canvas/1"
    # "Link to this view": the page with the view as a content state (iiifd.js replaces it with
    # what the viewer shows when the button is pressed; the browser tests do that)
    for query, want in (("", {"id": mid, "type": "Manifest"}),
                        ("?viewer=uv&canvas=" + urllib.parse.quote(canvas, safe="") +
                         "&xywh=1,2,30,40",
                         {"id": canvas + "#xywh=1,2,30,40", "type": "Canvas",
                          "partOf": [{"id": mid, "type": "Manifest"}]})):
        _, text = page(web, "/view/hostile/manifest" + query)
        check_no_script(text)
        p = Parsed(text)
        share = p.find("input", id="share-url")[0]["value"]
        u = urllib.parse.urlsplit(share)
        assert f"{u.scheme}://{u.netloc}{u.path}" == f"{web.base}/view/hostile/manifest", share
        q = urllib.parse.parse_qs(u.query)
        assert q["viewer"] == ["uv" if query else "mirador"] and u.fragment == "viewer"
        assert _decode_state(q["iiif-content"][0]) == want
        assert p.find("button", **{"data-copy": "share-url"})
        assert p.find("label", **{"for": "share-url"})
    # a content state given to the page goes on to its viewer (which reads and checks it), to
    # the viewer switch and to the share link
    enc = q["iiif-content"][0]
    _, text = page(web, "/view/hostile/manifest?iiif-content=" + enc)
    p = Parsed(text)
    src = urllib.parse.parse_qs(urllib.parse.urlsplit(p.find("iframe")[0]["src"]).query)
    assert src["iiif-content"] == [enc]
    assert any("iiif-content=" + enc in (a.get("href") or "") and "viewer=clover" in a.get("href")
               for a in p.find("a"))
    share = urllib.parse.urlsplit(p.find("input", id="share-url")[0]["value"])
    assert urllib.parse.parse_qs(share.query)["iiif-content"] == [enc]
