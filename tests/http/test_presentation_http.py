"""HTTP behaviour of Presentation responses (spec 6.3: content negotiation, CORS, compression;
ETag / 304; HEAD) and the Presentation 2.1 rendition at /iiif/presentation-v2/."""

import gzip
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from presentation_fixtures import (  # noqa: E402,F401
    BOOK1, IMAGE2_CONTEXT, MULTI, P2_CONTEXT, SINGLE, _pres_health, fetch, local_path, ptree,
    pserver, server_p)

LD_PROFILE = re.compile(
    r'^application/ld\+json\s*;\s*profile="?http://iiif\.io/api/presentation/3/context\.json"?'
    r'(\s*;\s*charset=utf-8)?$', re.I)
PATHS = ["/iiif/presentation/collection", "/iiif/presentation/books/book1/manifest",
         "/iiif/presentation/books/collection", "/iiif/presentation/books/book1/manifest/canvas/2",
         "/iiif/presentation/av/interview.mp3/manifest"]


def is_plain_json(ct):
    return re.match(r"^application/json\s*(;\s*charset=utf-8)?$", ct, re.I) is not None


@pytest.mark.parametrize("path", PATHS)
def test_accept_ld_json(server_p, path):
    r = server_p.get(path, headers={"Accept": "application/ld+json"})
    assert r.status == 200, r
    assert LD_PROFILE.match(r.content_type), r.content_type
    r = server_p.get(path, headers={"Accept": 'application/ld+json;profile='
                                              '"http://iiif.io/api/presentation/3/context.json"'})
    assert LD_PROFILE.match(r.content_type), r.content_type


@pytest.mark.parametrize("path", PATHS[:2])
def test_json_ld_by_default_plain_json_when_preferred(server_p, path):
    """Presentation 3 §6.3: JSON-LD with the profile is the recommended Content-Type; a client
    preferring plain JSON (q-values honoured) gets application/json."""
    for accept in (None, "*/*", "application/*", "application/json;q=0.5, application/ld+json"):
        r = server_p.get(path, headers={"Accept": accept} if accept else {})
        assert r.status == 200
        assert LD_PROFILE.match(r.content_type), f"Accept {accept}: {r.content_type}"
        assert "Accept" in (r.header("Vary") or ""), r.header("Vary")
        json.loads(r.body)
    for accept in ("application/json", "application/ld+json;q=0.5, application/json",
                   "application/json, */*;q=0.1"):
        r = server_p.get(path, headers={"Accept": accept})
        assert r.status == 200
        assert is_plain_json(r.content_type), f"Accept {accept}: {r.content_type}"


def test_v2_and_info_json_are_plain_json_unless_ld_is_preferred(server_p):
    """Presentation 2.1 and Image API info.json: application/json unless JSON-LD is asked for."""
    v2 = "/iiif/presentation-v2/books/book1/manifest"
    for accept in (None, "*/*", "application/json", "application/ld+json;q=0.2, */*"):
        r = server_p.get(v2, headers={"Accept": accept} if accept else {})
        assert r.status == 200 and is_plain_json(r.content_type), (accept, r.content_type)
    r = server_p.get(v2, headers={"Accept": "application/ld+json"})
    assert r.content_type.startswith("application/ld+json") and "presentation/2" in r.content_type
    info = "/iiif/3/books%2Fbook1%2Fpage1.png/info.json"
    r0 = server_p.get(info)
    assert r0.status == 200 and is_plain_json(r0.content_type), r0.content_type
    r = server_p.get(info, headers={"Accept": "application/json;q=0.5, application/ld+json"})
    assert r.content_type.startswith("application/ld+json") and "image/3" in r.content_type


@pytest.mark.parametrize("path", PATHS)
def test_cors(server_p, path):
    r = server_p.get(path, headers={"Origin": "https://viewer.example.org"})
    assert r.header("Access-Control-Allow-Origin") == "*", r.headers


def test_cors_preflight(server_p):
    r = server_p.get(PATHS[1], method="OPTIONS", headers={
        "Origin": "https://viewer.example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Accept"})
    assert r.status in (200, 204), r
    assert r.header("Access-Control-Allow-Origin") == "*"


@pytest.mark.parametrize("path", PATHS[:2])
def test_gzip(server_p, path):
    plain = server_p.get(path)
    assert plain.status == 200
    assert (plain.header("Content-Encoding") or "identity") == "identity"
    z = server_p.get(path, headers={"Accept-Encoding": "gzip"})
    assert z.status == 200
    assert z.header("Content-Encoding") == "gzip", z.headers
    vary = ",".join(z.header_all("Vary")).lower()
    assert "accept-encoding" in vary, f"Vary: {vary!r}"
    assert gzip.decompress(z.body) == plain.body
    assert len(z.body) < len(plain.body)
    if z.header("Content-Length"):
        assert int(z.header("Content-Length")) == len(z.body)
    # a client that refuses gzip gets identity
    n = server_p.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert (n.header("Content-Encoding") or "identity") == "identity" and n.body == plain.body


def test_gzip_variant_has_its_own_strong_etag(server_p):
    """RFC 9110 8.8.1/8.8.3: a strong entity tag is unique across the representations of a
    resource; the gzip-coded and the identity representation differ in their bytes, so they need
    different strong ETags (8.8.3.3 shows exactly this case), or weak ones. Otherwise a cache
    or a Range/If-Range client can combine bytes of the two."""
    path = PATHS[1]
    plain = server_p.get(path).header("ETag")
    z = server_p.get(path, headers={"Accept-Encoding": "gzip"})
    assert z.header("Content-Encoding") == "gzip"
    zt = z.header("ETag")
    assert plain and zt
    assert zt != plain or zt.startswith("W/"), \
        f"identity and gzip representations share the strong ETag {zt}"


@pytest.mark.parametrize("path", PATHS[:3])
def test_head(server_p, path):
    g = server_p.get(path)
    h = server_p.get(path, method="HEAD")
    assert h.status == 200 and h.body == b""
    assert h.content_type == g.content_type
    if h.header("Content-Length") is not None:
        assert int(h.header("Content-Length")) == len(g.body)
    assert h.header("ETag") == g.header("ETag")
    assert h.header("Access-Control-Allow-Origin") == "*"


@pytest.mark.parametrize("path", PATHS[:3])
def test_etag_304(server_p, path):
    g = server_p.get(path)
    etag = g.header("ETag")
    assert etag, "no ETag"
    r = server_p.get(path, headers={"If-None-Match": etag})
    assert r.status == 304 and r.body == b"", r
    assert r.header("ETag") == etag
    r = server_p.get(path, headers={"If-None-Match": '"something-else"'})
    assert r.status == 200 and r.body == g.body
    # the gzip variant answers conditionals too
    z = server_p.get(path, headers={"Accept-Encoding": "gzip"})
    r = server_p.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": z.header("ETag")})
    assert r.status == 304, r


def test_json_404_for_missing(server_p):
    r = server_p.get("/iiif/presentation/nothing/manifest")
    assert r.status == 404
    assert r.header("Access-Control-Allow-Origin") == "*"


# --------------------------------------------------------------------------------------------
# Presentation 2.1
# --------------------------------------------------------------------------------------------
V2 = "/iiif/presentation-v2"


def v2_json(server_p, url):
    r = fetch(server_p, url) if url.startswith("http") else server_p.get(url)
    assert r.status == 200, f"{url} -> {r.status} {r.body[:200]!r}"
    assert "json" in r.content_type, r.content_type
    doc = r.json()
    want = url if url.startswith("http") else server_p.base + url
    assert doc.get("@id") == want, f"{url}: @id {doc.get('@id')!r}"
    return doc


def v2_images(server_p, man, expect):
    """expect: [(w, h, page or None)] per canvas."""
    assert man.get("@context") == P2_CONTEXT, man.get("@context")
    assert man.get("@type") == "sc:Manifest"
    assert man.get("label"), "v2 Manifest needs a label"
    seqs = man.get("sequences")
    assert isinstance(seqs, list) and len(seqs) == 1, seqs
    assert seqs[0].get("@type") == "sc:Sequence"
    canvases = seqs[0].get("canvases", [])
    assert len(canvases) == len(expect), f"{len(canvases)} canvases, expected {len(expect)}"
    bad = []
    for n, (c, (w, h, page)) in enumerate(zip(canvases, expect), 1):
        if c.get("@type") != "sc:Canvas" or not c.get("@id") or not c.get("label"):
            bad.append(f"canvas {n}: {c.get('@type')} {c.get('@id')} label={c.get('label')!r}")
        if (c.get("width"), c.get("height")) != (w, h):
            bad.append(f"canvas {n}: {c.get('width')}x{c.get('height')} expected {w}x{h}")
        imgs = c.get("images", [])
        if len(imgs) != 1:
            bad.append(f"canvas {n}: {len(imgs)} images")
            continue
        a = imgs[0]
        if a.get("@type") != "oa:Annotation" or a.get("motivation") != "sc:painting":
            bad.append(f"canvas {n}: image annotation {a.get('@type')} {a.get('motivation')}")
        if a.get("on") != c.get("@id"):
            bad.append(f"canvas {n}: on {a.get('on')!r} != {c.get('@id')!r}")
        res = a.get("resource", {})
        svc = res.get("service", {})
        if isinstance(svc, list):
            svc = svc[0] if svc else {}
        if res.get("@type") != "dctypes:Image" or svc.get("@context") != IMAGE2_CONTEXT:
            bad.append(f"canvas {n}: resource {res.get('@type')} service context "
                       f"{svc.get('@context')}")
        if page and page > 1 and not str(svc.get("@id", "")).endswith(f";{page}"):
            bad.append(f"canvas {n}: service @id {svc.get('@id')} does not end with ;{page}")
        r = fetch(server_p, res.get("@id", "http://x/"))
        if r.status != 200 or r.image().size != (w, h):
            bad.append(f"canvas {n}: resource {res.get('@id')} -> {r.status}")
        ri = fetch(server_p, svc.get("@id", "http://x/") + "/info.json")
        if ri.status != 200:
            bad.append(f"canvas {n}: service info.json -> {ri.status}")
        else:
            info = ri.json()
            if info.get("@id") != svc.get("@id") or (info.get("width"), info.get("height")) != (w, h):
                bad.append(f"canvas {n}: info.json {info.get('@id')} {info.get('width')}x"
                           f"{info.get('height')}")
    assert not bad, "\n".join(bad)


def test_v2_manifest_book1(server_p):
    man = v2_json(server_p, f"{V2}/books/book1/manifest")
    v2_images(server_p, man, [(w, h, None) for _n, w, h, _c in BOOK1])
    assert "The first book" in json.dumps(man.get("label")), man.get("label")


def test_v2_manifest_multipage(server_p):
    man = v2_json(server_p, f"{V2}/books/book2/manifest")
    v2_images(server_p, man, [(w, h, i + 1) for i, (w, h, _c) in enumerate(MULTI)]
              + [(SINGLE[0], SINGLE[1], None)])


def test_v2_collections_walk(server_p):
    """sc:Collection with collections / manifests; every @id dereferences with that @id."""
    root = v2_json(server_p, f"{V2}/collection")
    assert root.get("@context") == P2_CONTEXT
    assert root.get("@type") == "sc:Collection"
    colls = [c.get("@id") for c in root.get("collections", [])]
    mans = [m.get("@id") for m in root.get("manifests", [])]
    b = server_p.base + V2
    assert colls == [f"{b}/av/collection", f"{b}/books/collection"], colls
    assert mans == [f"{b}/broken/manifest"], mans
    todo, seen, n_man = [root], set(), 0
    while todo:
        c = todo.pop()
        for key, typ in (("collections", "sc:Collection"), ("manifests", "sc:Manifest")):
            for ref in c.get(key, []):
                assert ref.get("@type") == typ and ref.get("label"), ref
                if ref["@id"] in seen:
                    continue
                seen.add(ref["@id"])
                doc = v2_json(server_p, ref["@id"])
                assert doc.get("@type") == typ
                if typ == "sc:Collection":
                    todo.append(doc)
                else:
                    n_man += 1
                    assert doc.get("sequences"), f"{ref['@id']}: no sequences"
    books = v2_json(server_p, f"{V2}/books/collection")
    assert [m["@id"] for m in books.get("manifests", [])] == [
        f"{b}/books/{n}/manifest" for n in ("book1", "book2", "book10", "scans.tif")]
    assert n_man >= 6, f"only {n_man} v2 Manifests reached"


def test_v2_every_manifest_has_canvases(server_p):
    """Presentation 2.1 (5.2 Sequence): "Each sequence must have at least one canvas". 2.1 is
    images only (docs), so media files must not be listed as (empty) v2 Manifests."""
    todo, seen, empty = [f"{V2}/collection"], set(), []
    while todo:
        c = v2_json(server_p, todo.pop())
        todo += [x["@id"] for x in c.get("collections", [])]
        for m in c.get("manifests", []):
            if m["@id"] in seen:
                continue
            seen.add(m["@id"])
            doc = v2_json(server_p, m["@id"])
            seqs = doc.get("sequences") or [{}]
            if not seqs[0].get("canvases"):
                empty.append(m["@id"])
    assert len(seen) >= 6
    assert not empty, f"v2 Manifests with no canvas: {empty}"


def test_v2_paged_viewing_hint(server_p):
    """behavior [paged] in 3.0 is viewingHint "paged" in 2.1 (the same Manifest in 2.1, docs);
    viewingDirection carries over."""
    man = v2_json(server_p, f"{V2}/books/book1/manifest")
    hints = [man.get("viewingHint"), man["sequences"][0].get("viewingHint")]
    assert "paged" in hints, f"no viewingHint paged on the v2 Manifest or its Sequence: {hints}"
    dirs = [man.get("viewingDirection"), man["sequences"][0].get("viewingDirection")]
    assert "right-to-left" in dirs, dirs


def test_v2_never_points_at_audio_or_video(server_factory, tmp_path):
    """Presentation 2.1 has image Canvases only: a Manifest of audio alone answers 404 saying
    to use 3.0 and is not listed in 2.1 Collections; a mixed Manifest keeps its images and
    drops the Ranges that would point at its audio."""
    from PIL import Image
    from presentation_fixtures import ffmpeg
    root = tmp_path / "root"
    for d in ("sounds", "mixed"):
        (root / "lib" / d).mkdir(parents=True)
    for d, name in (("sounds", "bell.mp3"), ("mixed", "b-tune.mp3")):
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "libmp3lame",
               str(root / "lib" / d / name))
    Image.new("RGB", (60, 40), (200, 10, 10)).save(root / "lib" / "mixed" / "a-page.png")
    (root / "lib" / "mixed" / "manifest.yml").write_text(
        "toc:\n  - label: Pictures\n    canvases: [a-page.png]\n"
        "  - label: Music\n    canvases: [b-tune.mp3]\n")
    s = server_factory(root_dir=str(root))
    r = s.get(f"{V2}/lib/sounds/manifest")
    assert r.status == 404 and b"Presentation 3" in r.body, (r.status, r.body)
    assert s.get("/iiif/presentation/lib/sounds/manifest").status == 200
    coll = json.loads(s.get(f"{V2}/lib/collection").body)
    listed = [m["@id"].split("/lib/")[1] for m in coll["manifests"]]
    assert listed == ["mixed/manifest"], listed
    mixed = json.loads(s.get(f"{V2}/lib/mixed/manifest").body)
    canvases = {c["@id"] for c in mixed["sequences"][0]["canvases"]}
    assert len(canvases) == 1
    ranges = mixed.get("structures", [])
    assert [r_["label"] for r_ in ranges] == ["Pictures"], ranges
    assert all(set(r_["canvases"]) <= canvases for r_ in ranges), ranges


def test_v2_carries_languages_links_logo_and_thumbnail(server_p):
    """A 2.1-only viewer gets what a 3.0 one does: every language of a label
    ([{"@value", "@language"}]), related (homepage), logo, thumbnail and viewingHint; plain
    strings stay plain."""
    man = v2_json(server_p, f"{V2}/books/book1/manifest")
    assert sorted((v["@language"], v["@value"]) for v in man["label"]) == [
        ("en", "The first book"), ("fr", "Le premier livre")], man["label"]
    md = {json.dumps(e["label"]): e["value"] for e in man["metadata"]}
    assert md['"Date"'] == "about 1450", md
    assert any(isinstance(json.loads(k), list) for k in md), "the multilingual metadata label"
    assert man["attribution"] == "Provided by the Example Library"
    assert [r["@id"] for r in man["related"]] == ["https://library.example.org/items/42"]
    assert man["related"][0]["format"] == "text/html"
    assert man["logo"] == {"@id": "https://library.example.org/logo.png"}, man.get("logo")
    thumb = man["thumbnail"]["@id"]
    assert "/iiif/3/" in thumb and server_p.get(local_path(server_p, thumb)).status == 200
    assert man["viewingHint"] == "paged"
    ranges = {json.dumps(r["label"]) for r in man["structures"]}
    assert json.dumps([{"@value": "Body", "@language": "en"},
                       {"@value": "Corps", "@language": "fr"}]) in ranges, ranges
