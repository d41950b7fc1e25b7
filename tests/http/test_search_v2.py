"""IIIF Content Search 2.0 over the annotation store (docs/annotations.md "Search";
/work/shared/specs/search_2.0_index.md). Service declarations (§3), requests (§4.1: q,
motivation, date, user), responses (§4.2: AnnotationPage, paging with partOf/first/last/next/
prev/startIndex), highlighting with TextQuoteSelector (§4.3.2), Collection scope.

Read-only tests run against both stores (fixture `srv`: "cli" and "auto")."""

import datetime
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import presentation_fixtures as pf  # noqa: E402
from annotation_fixtures import (  # noqa: E402,F401
    LOREM_TOTAL, PAGE1_LINES, PAGE3_LINES, PAGE_SIZE, SEARCH2_CONTEXT, _anno_health,
    _anno_shared_cleanup, atree, auto_server, body_of, canvas_url, collection_url, fold,
    get_json, http, line_box, main_import, main_server, manifest_url, motivations, path_of,
    pchecks, qs, search, search_total, service_of, srv, t_of, target_of, walk_search, xywh_of)

CAFE_LINES = {"Café naïve résumé", "owner of the naive cafe"}


def values(doc):
    return sorted(body_of(a)["value"] for a in doc.get("items", []))


def highlights(doc):
    """[(source, selector)] of the highlighting annotations of a 2.0 response."""
    anns = doc.get("annotations")
    if not anns:
        return []
    assert isinstance(anns, list) and len(anns) == 1, \
        f"§4.3: annotations must be an array with a single AnnotationPage: {anns!r}"
    page = anns[0]
    assert page.get("type") == "AnnotationPage", page
    if isinstance(page.get("partOf"), dict) and isinstance(doc.get("partOf"), dict):
        assert page["partOf"].get("id") != doc["partOf"].get("id"), \
            "§4.3.3: the highlights' AnnotationCollection MUST differ from the results' one"
    out = []
    for h in page.get("items", []):
        assert h.get("type") == "Annotation", h
        assert isinstance(h.get("id"), str), f"highlighting annotation without id: {h}"
        assert motivations(h) == ["highlighting"], f"motivation {h.get('motivation')!r}"
        targets = h["target"] if isinstance(h["target"], list) else [h["target"]]
        for t in targets:
            assert t.get("type") == "SpecificResource", t
            sels = t.get("selector")
            sels = sels if isinstance(sels, list) else [sels]
            tq = [s for s in sels if s and s.get("type") == "TextQuoteSelector"]
            assert tq, f"no TextQuoteSelector in {t}"
            src = t.get("source")
            out.append((src if isinstance(src, str) else src.get("id"), tq[0]))
    return out


# --------------------------------------------------------------------------------------------
# §3 service declarations
# --------------------------------------------------------------------------------------------
def _check_services(doc, rid):
    s2 = service_of(doc, "SearchService2")
    assert s2, f"{rid}: no SearchService2 in service: {doc.get('service')}"
    assert s2.get("id") == f"{rid}/search" and s2.get("type") == "SearchService2", s2
    nested = s2.get("service") or []
    ac2 = [s for s in nested if s.get("type") == "AutoCompleteService2"]
    assert ac2 and ac2[0].get("id") == f"{rid}/autocomplete", \
        f"{rid}: SearchService2 lacks a nested AutoCompleteService2: {s2}"
    s1 = service_of(doc, "SearchService1")
    assert s1, f"{rid}: no SearchService1: {doc.get('service')}"
    assert s1.get("@id") == f"{rid}/search1" and s1.get("@type") == "SearchService1", s1
    assert s1.get("profile") == "http://iiif.io/api/search/1/search", s1
    n1 = s1.get("service")
    n1 = n1 if isinstance(n1, list) else [n1]
    ac1 = [s for s in n1 if s and s.get("@type") == "AutoCompleteService1"]
    assert ac1, f"{rid}: SearchService1 lacks a nested AutoCompleteService1: {s1}"
    assert ac1[0].get("@id") == f"{rid}/autocomplete1", ac1
    assert ac1[0].get("profile") == "http://iiif.io/api/search/1/autocomplete", ac1
    for sid in (s2["id"], ac2[0]["id"], s1["@id"], ac1[0]["@id"]):
        assert "?" not in sid, f"service id with a query: {sid}"
    return [s2["id"], ac2[0]["id"], s1["@id"], ac1[0]["@id"]]


@pytest.mark.parametrize("kind,name", [("manifest", "book"), ("manifest", "av"),
                                       ("manifest", "photos"), ("collection", "")])
def test_service_declarations(srv, pchecks, kind, name):
    rid = manifest_url(srv, name) if kind == "manifest" else collection_url(srv, name)
    _r, doc = get_json(srv, rid)
    ids = _check_services(doc, rid)
    errs = pf.doc_errors(pf.validator_for(pchecks), doc)
    assert not errs, f"{rid} with its search services is not valid Presentation 3.0:\n" + \
        "\n".join(errs)
    for sid in ids:   # each answers
        r = http(srv, "GET", path_of(srv, f"{sid}?q=lo"))
        assert r.status == 200, f"GET {sid}?q=lo -> {r.status} {r.body[:200]!r}"


def test_service_ids_differ_per_resource(srv):
    """§4.1: the URIs for services associated with different resources MUST be different."""
    seen = {}
    for rid in [manifest_url(srv, m) for m in ("book", "av", "photos")] + [collection_url(srv)]:
        _r, doc = get_json(srv, rid)
        for kind in ("SearchService2", "SearchService1"):
            svc = service_of(doc, kind)
            assert svc, f"{rid}: no {kind}"
            sid = svc.get("id") or svc.get("@id")
            assert sid not in seen, f"{rid} and {seen.get(sid)} share the service {sid}"
            seen[sid] = rid


# --------------------------------------------------------------------------------------------
# q
# --------------------------------------------------------------------------------------------
def test_single_word(srv):
    doc = search(srv, manifest_url(srv, "book"), q="quartz")
    assert doc.get("@context") == SEARCH2_CONTEXT or SEARCH2_CONTEXT in (doc.get("@context") or []), \
        f"@context {doc.get('@context')!r}"
    assert doc.get("type") == "AnnotationPage"
    assert isinstance(doc.get("id"), str)
    assert values(doc) == ["Sphinx of black quartz"], values(doc)
    a = doc["items"][0]
    assert a.get("type") == "Annotation" and a.get("id")
    assert a.get("textGranularity", "line") == "line", "search must hit lines, not words"
    src, box = xywh_of(a)
    assert src == canvas_url(srv, "book", 3)
    # the store has the line's words: the hit targets the word, not the whole line
    want = tuple(float(v * 2) for v in line_box([w for w in PAGE3_LINES[0] if w[0] == "quartz"]))
    assert box == want, f"the hit targets {box}, want the word's box {want}"
    assert search_total(srv, manifest_url(srv, "book"), q="quartz") == 1


def test_phrase_is_one_hit(srv):
    book = manifest_url(srv, "book")
    doc = search(srv, book, q='"quick brown fox"')
    assert values(doc) == ["The quick brown fox jumps over the dog"], \
        f"phrase: want exactly the one line, got {values(doc)}"
    assert search_total(srv, book, q='"quick brown fox"') == 1
    src, box = xywh_of(doc["items"][0])
    phrase = [w for w in PAGE1_LINES[2] if w[0] in ("quick", "brown", "fox")]
    assert box == tuple(float(v / 2) for v in line_box(phrase)), "the union of the words' boxes"
    # without quotes every word must appear, in any order: both lines
    assert search_total(srv, book, q="quick brown fox") == 2
    assert search_total(srv, book, q="fox quick") == 2
    assert search_total(srv, book, q='"brown fox"') == 2
    assert search_total(srv, book, q='"fox brown"') == 0, "a phrase keeps its word order"
    assert search_total(srv, book, q='"quick brown fox" dog') == 1
    assert search_total(srv, book, q='"quick brown fox" cat') == 0


@pytest.mark.parametrize("q,want", [
    ("cafe", CAFE_LINES), ("café", CAFE_LINES), ("CAFÉ", CAFE_LINES), ("Cafe", CAFE_LINES),
    ("naive", CAFE_LINES), ("naïve", CAFE_LINES), ("NAÏVE", CAFE_LINES),
    ("resume", {"Café naïve résumé"}), ("RÉSUMÉ", {"Café naïve résumé"}),
    ("QUARTZ", {"Sphinx of black quartz"}), ("sPhInX", {"Sphinx of black quartz"}),
])
def test_case_and_diacritics(srv, q, want):
    doc = search(srv, manifest_url(srv, "book"), q=q)
    assert set(values(doc)) == want and len(values(doc)) == len(want), \
        f"q={q!r}: got {values(doc)}, want {sorted(want)}"


def test_word_boundaries(srv):
    book = manifest_url(srv, "book")
    assert search_total(srv, book, q="quar") == 0, "a word prefix is not the word"
    assert search_total(srv, book, q="lobst") == 0, "a word prefix is not the word"
    assert search_total(srv, book, q="uartz") == 0, "part of a word is not the word"


def test_scope_is_the_manifest(srv):
    assert search_total(srv, manifest_url(srv, "av"), q="lorem") == 0
    assert search_total(srv, manifest_url(srv, "photos"), q="quartz") == 0
    assert search_total(srv, manifest_url(srv, "book"), q="zebra") == 1
    assert search_total(srv, manifest_url(srv, "book"), q="nosuchwordanywhere") == 0


# --------------------------------------------------------------------------------------------
# §4.3.2 highlighting
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("q,exacts", [
    ("CAFE", {"Café naïve résumé": "Café", "owner of the naive cafe": "cafe"}),
    ("naïve", {"Café naïve résumé": "naïve", "owner of the naive cafe": "naive"}),
    ('"quick brown fox"', {"The quick brown fox jumps over the dog": "quick brown fox"}),
    ("quartz", {"Sphinx of black quartz": "quartz"}),
])
def test_highlighting_text_quote_selector(srv, q, exacts):
    doc = search(srv, manifest_url(srv, "book"), q=q)
    items = {a["id"]: body_of(a)["value"] for a in doc["items"]}
    assert sorted(items.values()) == sorted(exacts), f"q={q!r}: hits {sorted(items.values())}"
    hl = highlights(doc)
    assert hl, f"q={q!r}: no highlighting annotations"
    sources = {src for src, _sel in hl}
    assert sources == set(items), f"highlights point at {sources}, items are {set(items)}"
    for src, sel in hl:
        value = items[src]
        exact = sel.get("exact")
        assert exact == exacts[value], \
            f"q={q!r} in {value!r}: exact {exact!r}, want the original text {exacts[value]!r}"
        prefix, suffix = sel.get("prefix", ""), sel.get("suffix", "")
        assert isinstance(prefix, str) and isinstance(suffix, str), sel
        assert prefix + exact + suffix in value, \
            f"prefix/exact/suffix {prefix!r}/{exact!r}/{suffix!r} do not quote {value!r}"
        at = value.index(prefix + exact + suffix) + len(prefix)
        assert value[at:at + len(exact)] == exact
        assert prefix == value[:at][-len(prefix):] if prefix else True
        assert prefix or at == 0 or value[:at].strip() == "", \
            f"no prefix although {value[:at]!r} comes before the match"
        assert suffix or at + len(exact) == len(value), \
            f"no suffix although {value[at + len(exact):]!r} follows the match"


def test_highlighting_on_every_page(srv):
    first = search(srv, manifest_url(srv, "book"), q="lorem")
    for page in walk_search(srv, first):
        ids = {a["id"] for a in page["items"]}
        hl = highlights(page)
        assert {s for s, _ in hl} == ids, "each hit of the page has its highlight, and no other"
        assert all(sel.get("exact") == "lorem" for _s, sel in hl)


# --------------------------------------------------------------------------------------------
# §4.2.2 paging
# --------------------------------------------------------------------------------------------
def _ref_id(ref):
    assert isinstance(ref, dict) and ref.get("type") == "AnnotationPage" and ref.get("id"), \
        f"§4.2.2: a page reference is {{id, type: AnnotationPage}}: {ref!r}"
    return ref["id"]


def test_paging_walk_next(srv):
    first = search(srv, manifest_url(srv, "book"), q="lorem")
    part = first.get("partOf")
    assert isinstance(part, dict), f"§4.2.2: partOf MUST be the embedded AnnotationCollection: {part!r}"
    assert part.get("type") == "AnnotationCollection", part
    assert part.get("total") == LOREM_TOTAL, f"total {part.get('total')}, want {LOREM_TOTAL}"
    first_id, last_id = _ref_id(part.get("first")), _ref_id(part.get("last"))
    assert "prev" not in first
    assert first.get("startIndex") == 0
    pages = walk_search(srv, first)
    sizes = [len(p["items"]) for p in pages]
    assert sizes == [PAGE_SIZE, PAGE_SIZE, LOREM_TOTAL - 2 * PAGE_SIZE], f"page sizes {sizes}"
    all_ids = [a["id"] for p in pages for a in p["items"]]
    assert len(all_ids) == LOREM_TOTAL and len(set(all_ids)) == LOREM_TOTAL, \
        f"{len(all_ids)} items, {len(set(all_ids))} distinct, over {len(pages)} pages"
    assert all("lorem" in body_of(a)["value"] for p in pages for a in p["items"])
    for i, p in enumerate(pages):
        assert p.get("startIndex") == i * PAGE_SIZE, f"page {i}: startIndex {p.get('startIndex')}"
        assert p.get("partOf", {}).get("total") == LOREM_TOTAL, f"page {i}: partOf {p.get('partOf')}"
        if i:
            assert _ref_id(p.get("prev")) == pages[i - 1]["id"], \
                f"page {i}: prev {p.get('prev')} is not page {i - 1} ({pages[i - 1]['id']})"
        else:
            assert "prev" not in p
    assert "next" not in pages[-1]
    assert pages[-1]["id"] == last_id, f"last page id {pages[-1]['id']} != partOf.last {last_id}"
    # first and last, fetched, are those pages
    _r, f = get_json(srv, first_id)
    assert [a["id"] for a in f["items"]] == [a["id"] for a in pages[0]["items"]]
    _r, l = get_json(srv, last_id)
    assert [a["id"] for a in l["items"]] == [a["id"] for a in pages[-1]["items"]]
    # and so is page=1 (pages are numbered from 0)
    p1 = search(srv, manifest_url(srv, "book"), q="lorem", page=1)
    assert p1.get("startIndex") == PAGE_SIZE
    assert [a["id"] for a in p1["items"]] == [a["id"] for a in pages[1]["items"]]


def test_paging_ids_contain_the_query(srv):
    """Each page reference must reproduce the same query (q and filters)."""
    first = search(srv, manifest_url(srv, "book"), q="lorem", motivation="supplementing")
    pages = walk_search(srv, first)
    assert len(pages) == 3
    assert all(len(p["items"]) for p in pages)
    ids = [a["id"] for p in pages for a in p["items"]]
    assert len(set(ids)) == LOREM_TOTAL


# --------------------------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scope,motivation,want", [
    ("photos", "tagging", 1), ("photos", "supplementing", 0), ("book", "supplementing", 1),
    ("book", "tagging", 0), ("", "supplementing tagging", 3), ("", "tagging", 1),
    ("", "supplementing", 2), ("", "painting", 0),
])
def test_motivation_filter(srv, scope, motivation, want):
    url = manifest_url(srv, scope) if scope else collection_url(srv)
    doc = search(srv, url, q="zebra", motivation=motivation)
    total = doc.get("partOf", {}).get("total", len(doc["items"]))
    assert total == want, f"{scope or 'collection'} q=zebra motivation={motivation!r}: {total}"
    for a in doc["items"]:
        assert set(motivations(a)) & set(motivation.split()), a.get("motivation")
    assert not doc.get("ignored"), f"motivation is implemented, yet ignored: {doc.get('ignored')}"


def _utc(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_date_filter(srv):
    book = manifest_url(srv, "book")
    now = datetime.datetime.now(datetime.timezone.utc)
    around = f"{_utc(now - datetime.timedelta(days=1))}/{_utc(now + datetime.timedelta(days=1))}"
    past = "2001-01-01T00:00:00Z/2001-12-31T23:59:59Z"
    doc = search(srv, book, q="lorem", date=around)
    assert doc["partOf"]["total"] == LOREM_TOTAL, f"date={around}: {doc['partOf']['total']}"
    assert not doc.get("ignored"), f"date is implemented, yet ignored: {doc.get('ignored')}"
    assert search_total(srv, book, q="lorem", date=past) == 0, f"date={past} matched"
    assert search_total(srv, book, q="lorem", date=f"{past} {around}") == LOREM_TOTAL, \
        "several ranges: any of them"
    for a in doc["items"]:
        assert a.get("created"), f"{a.get('id')}: no created date to filter on"


@pytest.mark.parametrize("bad", [
    "yesterday", "2024-01-01/2024-02-01", "2024-01-01T00:00:00/2024-02-01T00:00:00Z",
    "2024-01-01T00:00:00Z", "2024-13-01T00:00:00Z/2024-12-01T00:00:00Z",
    "2024-01-01T00:00:00+01:00/2024-02-01T00:00:00Z",
])
def test_date_malformed_400(srv, bad):
    """§4.1.1: ranges MUST be YYYY-MM-DDThh:mm:ssZ/YYYY-MM-DDThh:mm:ssZ (UTC, Z)."""
    r = search(srv, manifest_url(srv, "book"), status=400, q="lorem", date=bad)
    assert r.body.strip(), "400 without a reason"


def test_user_filter_without_creators(srv):
    """§4.1.1: 'if the value is supplied but the field is not present in an annotation, then the
    search does not match that annotation' -- OCR lines have no creator."""
    assert search_total(srv, manifest_url(srv, "book"), q="lorem",
                        user="https://example.org/users/nobody") == 0


# --------------------------------------------------------------------------------------------
# A/V and Collections
# --------------------------------------------------------------------------------------------
def test_av_hit_targets_time(srv):
    doc = search(srv, manifest_url(srv, "av"), q="stripes")
    assert values(doc) == ["Horses have stripes"], values(doc)
    src, (t0, t1) = t_of(doc["items"][0])
    assert src == canvas_url(srv, "av", 1)
    assert (t0, t1) == (4.0, 6.25), f"#t={t0},{t1}, want 4,6.25"
    hl = highlights(doc)
    assert [sel.get("exact") for _s, sel in hl] == ["stripes"]


def test_collection_scope(srv):
    doc = search(srv, collection_url(srv), q="zebra")
    assert search_total(srv, collection_url(srv), q="zebra") == 3
    found = {}
    for a in doc["items"]:
        src, _frag = target_of(a)
        for m in ("book", "av", "photos"):
            if src.startswith(manifest_url(srv, m) + "/canvas/"):
                found[m] = src
        t = a.get("target")
        # §4.2.3: a Collection's hits name their Manifest: a JSON object, id and type MUST, label
        assert isinstance(t, dict) and isinstance(t.get("partOf"), dict), t
        p = t["partOf"]
        assert p.get("type") == "Manifest" and src.startswith(p.get("id") + "/canvas/"), p
        assert isinstance(p.get("label"), dict) and p["label"], p
    assert set(found) == {"book", "av", "photos"}, f"hits by manifest: {found}"
    assert sorted(values(doc)) == sorted(["zebra crossing ahead", "Welcome to the zebra lecture",
                                          "zebra"])
    assert search_total(srv, collection_url(srv), q="lorem") == LOREM_TOTAL
