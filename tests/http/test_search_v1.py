"""Content Search 1.0 and Autocomplete 1.0 (docs/annotations.md: `search1`, `autocomplete1` for
Mirador and the Universal Viewer; "1.0: resources and hits with before, match and after"):
sc:AnnotationList with oa:Annotation resources (cnt:ContentAsText chars, on canvas#xywh= or #t=),
search:Hit hits, `within` (sc:Layer with total) and `next` paging; search:TermList with terms
{match, url, count} whose url answers.

Runs against both stores (fixture `srv`)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from annotation_fixtures import (  # noqa: E402,F401
    LOREM_TOTAL, PAGE1_LINES, PAGE3_LINES, body_of, PAGE_SIZE, SEARCH1_CONTEXT, _anno_health, _anno_shared_cleanup,
    atree, auto_server, canvas_url, collection_url, get_json, http, line_box, main_import,
    main_server, manifest_url, path_of, search, srv)


def s1(s, scope, **params):
    doc = search(s, scope, kind="search1", **params)
    ctx = doc.get("@context")
    ctx = ctx if isinstance(ctx, list) else [ctx]
    assert SEARCH1_CONTEXT in ctx, f"@context {doc.get('@context')!r}"
    assert doc.get("@type") == "sc:AnnotationList", f"@type {doc.get('@type')!r}"
    assert isinstance(doc.get("@id"), str)
    assert isinstance(doc.get("resources"), list), "no resources"
    for a in doc["resources"]:
        assert a.get("@type") == "oa:Annotation", a
        assert isinstance(a.get("@id"), str), a
        res = a.get("resource")
        res = res[0] if isinstance(res, list) else res
        assert res.get("@type") == "cnt:ContentAsText" and isinstance(res.get("chars"), str), res
        on = a.get("on")
        on = on.get("@id") if isinstance(on, dict) else on  # with `within` in a Collection
        assert isinstance(on, str) and "#" in on, f"on {a.get('on')!r}"
    ids = {a["@id"] for a in doc["resources"]}
    for h in doc.get("hits", []):
        assert h.get("@type") == "search:Hit", h
        assert h.get("annotations") and set(h["annotations"]) <= ids, \
            f"hit {h} refers to annotations not in resources"
    return doc


def chars(a):
    res = a["resource"]
    return (res[0] if isinstance(res, list) else res)["chars"]


def test_search1_resources_and_hits(srv):
    doc = s1(srv, manifest_url(srv, "book"), q="quartz")
    assert [chars(a) for a in doc["resources"]] == ["Sphinx of black quartz"]
    a = doc["resources"][0]
    # the line's words are in the store: the resource a hit points at is the matched word's box
    x, y, w, h = (v * 2 for v in line_box([w for w in PAGE3_LINES[0] if w[0] == "quartz"]))
    assert a["on"] == f"{canvas_url(srv, 'book', 3)}#xywh={x},{y},{w},{h}", a["on"]
    hits = doc.get("hits")
    assert isinstance(hits, list) and len(hits) == 1, f"hits {hits!r}"
    hit = hits[0]
    assert hit["annotations"] == [a["@id"]]
    assert hit.get("match") == "quartz"
    assert hit.get("before") == "Sphinx of black ", f"before {hit.get('before')!r}"
    assert hit.get("after", "") == "", f"after {hit.get('after')!r}"


def test_every_occurrence_is_a_hit_on_its_words(srv):
    """Two occurrences in one annotation are two hits, each on its own word's box (2.0 items
    with highlights, 1.0 resources with hits)."""
    book = manifest_url(srv, "book")
    doc = s1(srv, book, q="the")
    on_line = [a for a in doc["resources"] if chars(a) == "The quick brown fox jumps over the dog"]
    assert len(on_line) == 2, [a["on"] for a in on_line]
    boxes = {a["on"].split("#xywh=")[1] for a in on_line}
    words = [w for w in PAGE1_LINES[2] if w[0].lower() == "the"]
    assert boxes == {",".join(str(v // 2) for v in w[1:]) for w in words}, boxes
    v2 = search(srv, book, q="the")
    items = [a for a in v2["items"] if body_of(a)["value"] == on_line[0]["resource"]["chars"]]
    assert len(items) == 2 and len({a["id"] for a in items}) == 2, [a["id"] for a in items]
    sources = [h["target"]["source"] for h in v2["annotations"][0]["items"]]
    assert all(a["id"] in sources for a in items), "each item has its highlight"


@pytest.mark.parametrize("q,matches", [
    ("CAFE", {"Café", "cafe"}), ("naïve", {"naïve", "naive"}),
    ('"quick brown fox"', {"quick brown fox"}),
])
def test_search1_match_before_after(srv, q, matches):
    doc = s1(srv, manifest_url(srv, "book"), q=q)
    text = {a["@id"]: chars(a) for a in doc["resources"]}
    got = set()
    for h in doc["hits"]:
        line = text[h["annotations"][0]]
        before, match, after = h.get("before", ""), h["match"], h.get("after", "")
        assert before + match + after in line, f"{before!r}+{match!r}+{after!r} not in {line!r}"
        got.add(match)
    assert got == matches, f"q={q!r}: matches {got}"


def test_search1_av_and_collection(srv):
    doc = s1(srv, manifest_url(srv, "av"), q="stripes")
    assert [a["on"] for a in doc["resources"]] == [f"{canvas_url(srv, 'av', 1)}#t=4,6.25"]
    doc = s1(srv, collection_url(srv), q="zebra")
    ons = [a["on"] for a in doc["resources"]]
    assert all(isinstance(o, dict) for o in ons), "Collection hits name their Manifest"
    assert len(ons) == 3 and {o["@id"].split("/manifest/")[0] for o in ons} == {
        f"{srv.base}/iiif/presentation/{m}" for m in ("book", "av", "photos")}, ons
    for o in ons:
        w = o["within"]
        assert w["@type"] == "sc:Manifest" and o["@id"].startswith(w["@id"] + "/"), o
        assert isinstance(w.get("label"), str) and w["label"], o


def test_search1_paging(srv):
    first = s1(srv, manifest_url(srv, "book"), q="lorem")
    within = first.get("within")
    assert isinstance(within, dict) and within.get("@type") == "sc:Layer", f"within {within!r}"
    assert within.get("total") == LOREM_TOTAL, within
    pages, doc = [first], first
    while doc.get("next"):
        assert len(pages) < 10
        nxt = doc["next"]
        _r, doc = get_json(srv, nxt if isinstance(nxt, str) else nxt.get("@id"))
        assert doc.get("@type") == "sc:AnnotationList"
        pages.append(doc)
    sizes = [len(p["resources"]) for p in pages]
    assert sizes == [PAGE_SIZE, PAGE_SIZE, LOREM_TOTAL - 2 * PAGE_SIZE], sizes
    ids = [a["@id"] for p in pages for a in p["resources"]]
    assert len(set(ids)) == LOREM_TOTAL, f"{len(set(ids))} distinct of {len(ids)}"
    assert [p.get("startIndex") for p in pages] == [0, PAGE_SIZE, 2 * PAGE_SIZE]
    assert all(len(p["hits"]) == len(p["resources"]) for p in pages)


def test_autocomplete1_terms_and_urls(srv):
    book = manifest_url(srv, "book")
    doc = search(srv, book, kind="autocomplete1", q="lo")
    ctx = doc.get("@context")
    assert ctx == SEARCH1_CONTEXT or SEARCH1_CONTEXT in (ctx or []), f"@context {ctx!r}"
    assert doc.get("@type") == "search:TermList", f"@type {doc.get('@type')!r}"
    terms = doc.get("terms")
    assert isinstance(terms, list), f"terms {terms!r}"
    assert [(t.get("match"), t.get("count")) for t in terms] == [("lobster", 1), ("lorem", LOREM_TOTAL)], terms
    for t in terms:
        url = t.get("url")
        assert isinstance(url, str) and url.startswith(f"{book}/search1?"), f"url {url!r}"
        _r, res = get_json(srv, url)
        assert res.get("@type") == "sc:AnnotationList", res.get("@type")
        total = res.get("within", {}).get("total", len(res.get("resources", [])))
        assert total == t["count"], f"{url}: {total} results, the term says {t['count']}"
    coll = search(srv, collection_url(srv), kind="autocomplete1", q="zeb")
    assert [(t["match"], t["count"]) for t in coll["terms"]] == [("zebra", 3)]
    assert coll["terms"][0]["url"].startswith(f"{collection_url(srv)}/search1?")
    r = http(srv, "GET", path_of(srv, f"{book}/autocomplete1"))
    assert r.status == 400, f"autocomplete1 without q: {r.status}"


def test_autocomplete1_label_is_the_original_form(srv):
    """Autocomplete 1.0 §4.3: a label shows the original rather than the processed term."""
    doc = search(srv, manifest_url(srv, "book"), kind="autocomplete1", q="resu")
    assert [(t["match"], t.get("label")) for t in doc["terms"]] == [("resume", "résumé")], doc
    doc = search(srv, manifest_url(srv, "book"), kind="autocomplete1", q="lobs")
    assert [(t["match"], t.get("label")) for t in doc["terms"]] == [("lobster", None)], doc


@pytest.mark.parametrize("motivation,want", [
    (None, {"sc:painting": 2, "oa:tagging": 1}),
    ("painting", {"sc:painting": 2}), ("sc:painting", {"sc:painting": 2}),
    ("non-painting", {"oa:tagging": 1}), ("tagging", {"oa:tagging": 1}),
    ("oa:tagging painting", {"sc:painting": 2, "oa:tagging": 1}),
])
def test_search1_motivations_agree_with_filters(srv, motivation, want):
    """Search 1.0 speaks Presentation 2.1: OCR and transcript text is sc:painting, a tag is
    oa:tagging, and the motivation filter means what the results say."""
    params = {"q": "zebra"} | ({"motivation": motivation} if motivation else {})
    doc = s1(srv, collection_url(srv), **params)
    got = {}
    for a in doc["resources"]:
        got[a["motivation"]] = got.get(a["motivation"], 0) + 1
    assert got == want, (motivation, got)


def test_search1_for_presentation_2_1_viewers(srv):
    """A 2.1 Manifest declares Search 1.0 (with autocomplete) at its 2.1 URL, and the hits name
    the 2.1 Canvases that Manifest has, so a 2.1-only viewer can show them."""
    v3 = manifest_url(srv, "book")
    v2 = v3.replace("/iiif/presentation/", "/iiif/presentation-v2/")
    _r, man = get_json(srv, v2)
    svc = man.get("service")
    assert svc and svc["profile"] == "http://iiif.io/api/search/1/search", svc
    assert svc["@id"] == f"{v2}/search1" and svc["service"]["@id"] == f"{v2}/autocomplete1"
    canvases = {c["@id"] for c in man["sequences"][0]["canvases"]}
    _r, doc = get_json(srv, f"{svc['@id']}?q=quartz")
    assert doc["resources"], doc
    for a in doc["resources"]:
        on = a["on"] if isinstance(a["on"], str) else a["on"]["@id"]
        assert on.split("#")[0] in canvases, (on, sorted(canvases)[:3])
        assert a["@id"].startswith(v2 + "/"), a["@id"]
    _r, terms = get_json(srv, f"{svc['service']['@id']}?q=quar")
    assert any(t["match"] == "quartz" for t in terms["terms"]), terms
    assert all(t["url"].startswith(f"{v2}/search1?") for t in terms["terms"]), terms


def test_presentation_2_1_canvases_have_their_annotation_lists(srv):
    """otherContent: a 2.1 Canvas lists its stored pages as sc:AnnotationLists, which hold the
    OCR lines (sc:painting) and tags (oa:tagging) on that 2.1 Canvas."""
    for name, motivation in (("book", "sc:painting"), ("photos", "oa:tagging")):
        v2 = manifest_url(srv, name).replace("/iiif/presentation/", "/iiif/presentation-v2/")
        _r, man = get_json(srv, v2)
        canvas = man["sequences"][0]["canvases"][0]
        lists = canvas.get("otherContent")
        assert lists and all(l["@type"] == "sc:AnnotationList" for l in lists), canvas
        _r, lst = get_json(srv, lists[0]["@id"])
        assert lst["@type"] == "sc:AnnotationList" and lst["@id"] == lists[0]["@id"]
        assert lst["resources"], lst
        for a in lst["resources"]:
            assert a["on"].split("#")[0] == canvas["@id"], a["on"]
            assert a["motivation"] == motivation and a["resource"]["chars"], a
