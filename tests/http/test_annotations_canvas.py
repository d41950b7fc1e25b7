"""How viewers see annotations (docs/annotations.md, "How viewers see them"): each Canvas lists
one AnnotationPage per motivation at {manifest}/canvas/{n}/annotations/{motivation}; OCR gives
line and word annotations with textGranularity and coordinates scaled from the OCR page to the
image; WebVTT gives #t= targets; COCO/CSV give tagging annotations with score and generator.
Pages validate against the Presentation 3.0 schema (class annotationPage) and use the
text-granularity context and iiifd's own context (which defines `score`).

Every test here runs against both stores (fixture `srv`: "cli" = filled by `iiifd import`,
"auto" = filled by the server's background import)."""

import json
import os
import sys
from collections import Counter

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import presentation_fixtures as pf  # noqa: E402
from annotation_fixtures import (  # noqa: E402,F401
    ocr_items, ANNO_CONTEXT_PATH, EXPECTED_TAGS, KNOWN_WORDS, OCR_CANVAS, P3_CONTEXT, PHOTOS, TG_CONTEXT,
    VTT_CUES, _anno_health, _anno_shared_cleanup, atree, auto_server, body_of, canvas_page,
    canvas_pages, canvas_url, expected_ocr, get_json, http, main_import, main_server,
    manifest_url, motivations, path_of, pchecks, srv, t_of, target_of, xywh_of)

ALL_PAGES = [("book", 1, "supplementing"), ("book", 2, "supplementing"),
             ("book", 3, "supplementing"), ("av", 1, "supplementing"),
             ("photos", 1, "tagging"), ("photos", 2, "tagging")]


def page_url(s, manifest, n, motivation):
    return f"{canvas_url(s, manifest, n)}/annotations/{motivation}"


@pytest.mark.parametrize("manifest,n,motivation", ALL_PAGES)
def test_canvas_lists_its_annotation_pages(srv, manifest, n, motivation):
    _r, canvas = get_json(srv, canvas_url(srv, manifest, n))
    pages = canvas_pages(canvas)
    if manifest == "av":
        # the cues come from the media's caption file, which the Canvas lists (once): a second
        # page of the same cues would show every caption twice (the page still answers, for
        # search and for the shape test below)
        ids = [p.get("id") for p in canvas.get("annotations", [])]
        assert ids == [f"{canvas['id']}/captions"], ids
        return
    assert pages.get(motivation) == page_url(srv, manifest, n, motivation), (
        f"docs/annotations.md: 'Every Canvas lists its annotations in annotations, one "
        f"AnnotationPage per motivation' -- Canvas {manifest}/{n} has {motivation} annotations "
        f"(the page answers) but lists {[p.get('id') for p in canvas.get('annotations', [])]}")
    assert set(pages) == {motivation}, f"unexpected pages {pages}"
    # the Canvas embedded in the Manifest says the same
    _r, man = get_json(srv, manifest_url(srv, manifest))
    emb = [c for c in man["items"] if c["id"] == canvas_url(srv, manifest, n)]
    assert emb, f"Canvas {n} not in the Manifest"
    assert canvas_pages(emb[0]).get(motivation) == page_url(srv, manifest, n, motivation), \
        f"the Manifest's Canvas {n} does not list its {motivation} page: {emb[0].get('annotations')}"


@pytest.mark.parametrize("manifest,n,motivation", ALL_PAGES)
def test_annotation_page_shape_and_schema(srv, pchecks, manifest, n, motivation):
    url = page_url(srv, manifest, n, motivation)
    _r, page = get_json(srv, url)
    assert page.get("id") == url
    assert page.get("type") == "AnnotationPage"
    assert page.get("items"), f"{url}: no items"
    errs = pf.doc_errors(pf.validator_for(pchecks, "annotationPage"), page)
    assert not errs, f"{url} is not a valid AnnotationPage:\n" + "\n".join(errs)
    ids = [a.get("id") for a in page["items"]]
    assert len(set(ids)) == len(ids), f"{url}: duplicate annotation ids"
    canvas = canvas_url(srv, manifest, n)
    for a in page["items"]:
        assert a.get("type") == "Annotation", a
        assert motivations(a) == [motivation], f"{a.get('id')}: motivation {a.get('motivation')}"
        assert isinstance(a.get("id"), str) and a["id"].startswith("http"), a.get("id")
        b = body_of(a)
        assert b.get("type") == "TextualBody" and isinstance(b.get("value"), str) and b["value"], \
            f"{a.get('id')}: body {b!r}"
        src, _frag = target_of(a)
        assert src == canvas, f"{a.get('id')} targets {src}, not its Canvas {canvas}"


@pytest.mark.parametrize("rel", sorted(OCR_CANVAS))
def test_ocr_lines_and_words_scaled_exactly(srv, rel):
    """Every line and word, with its text, granularity and box scaled from the OCR page to the
    1000x1500 image (ALTO pixel 2000x3000: /2; ALTO mm10 4000x6000: /4; hOCR 500x750: x2)."""
    n = OCR_CANVAS[rel]
    got = Counter()
    for a in ocr_items(srv, "book", n):
        g = a.get("textGranularity")
        assert g in ("line", "word"), f"{a.get('id')}: textGranularity {g!r}"
        _src, box = xywh_of(a)
        got[(body_of(a)["value"], g, box)] += 1
    want = Counter({(v, g, tuple(float(x) for x in box)): c
                    for (v, g, box), c in expected_ocr(rel).items()})
    missing, extra = want - got, got - want
    assert not missing and not extra, (
        f"{rel} on Canvas {n}: {sum(missing.values())} expected annotations missing, "
        f"{sum(extra.values())} unexpected.\n missing: {list(missing)[:6]}\n "
        f"unexpected: {list(extra)[:6]}")


@pytest.mark.parametrize("n,word,xywh,why", KNOWN_WORDS, ids=[k[1] for k in KNOWN_WORDS])
def test_known_word_boxes(srv, n, word, xywh, why):
    words = [a for a in ocr_items(srv, "book", n) if a.get("textGranularity") == "word"
             and body_of(a).get("value") == word]
    assert words, f"no word annotation {word!r} on Canvas {n}"
    boxes = [xywh_of(a)[1] for a in words]
    assert tuple(float(v) for v in xywh) in boxes, \
        f"{word!r} ({why}): want #xywh={','.join(map(str, xywh))}, got {boxes}"
    target = words[boxes.index(tuple(float(v) for v in xywh))]["target"]
    target = target if isinstance(target, str) else json.dumps(target)
    assert f"xywh={','.join(map(str, xywh))}" in target, \
        f"{word!r}: whole numbers expected in the fragment, got {target}"


def test_av_cues_timed(srv):
    page = canvas_page(srv, "av", 1, "supplementing")
    got = []
    for a in page["items"]:
        _src, (t0, t1) = t_of(a)
        b = body_of(a)
        got.append((b["value"], t0, t1))
        assert b.get("language") == "en", f"{a.get('id')}: language {b.get('language')!r} (talk.en.vtt)"
    want = [(text, a, b) for _id, a, b, text in VTT_CUES]
    assert sorted(got) == sorted(want), f"cues: got {got}, want {want}"


@pytest.mark.parametrize("n", [1, 2])
def test_tagging_labels_scores_generator(srv, n):
    page = canvas_page(srv, "photos", n, "tagging")
    name = sorted(PHOTOS)[n - 1]
    w, h = PHOTOS[name][:2]
    got = {}
    for a in page["items"]:
        b = body_of(a)
        assert b.get("type") == "TextualBody", b
        purpose = b.get("purpose")
        assert purpose in (None, "tagging", ["tagging"]), f"body purpose {purpose!r}"
        src, frag = target_of(a)
        box = None
        if frag is not None:
            box = xywh_of(a)[1]
            if box == (0.0, 0.0, float(w), float(h)):
                box = None          # the whole image, spelled out
        got[b["value"]] = (box, a.get("score"), a.get("generator"))
    want = EXPECTED_TAGS[n]
    assert sorted(got) == sorted(t[0] for t in want), f"labels on {name}: {sorted(got)}"
    for label, box, score, generator in want:
        gbox, gscore, ggen = got[label]
        assert gbox == (tuple(float(v) for v in box) if box else None), \
            f"{label}: box {gbox}, want {box or 'the whole image'}"
        assert isinstance(gscore, (int, float)) and abs(gscore - score) < 1e-6, \
            f"{label}: score {gscore!r}, want {score}"
        if generator:
            assert ggen is not None and generator in json.dumps(ggen), \
                f"{label}: generator {ggen!r} does not name the model {generator!r}"


@pytest.mark.parametrize("manifest,n,motivation", ALL_PAGES)
def test_annotation_ids_dereference(srv, manifest, n, motivation):
    """Presentation 3.0 §2.1/§3.2 id: if the resource is retrievable, its id is where it is."""
    page = canvas_page(srv, manifest, n, motivation)
    for a in page["items"][:3]:
        r, doc = get_json(srv, a["id"])
        assert doc.get("id") == a["id"], f"GET {a['id']}: id {doc.get('id')!r}"
        for k in ("type", "motivation", "body", "target"):
            assert doc.get(k) == a.get(k), f"GET {a['id']}: {k} {doc.get(k)!r} != {a.get(k)!r}"


def test_contexts(srv):
    _r, page = get_json(srv, page_url(srv, "book", 1, "supplementing"))
    ctx = page.get("@context")
    assert isinstance(ctx, list), f"@context {ctx!r}"
    assert TG_CONTEXT in ctx, f"@context lacks the text-granularity context: {ctx}"
    ours = [c for c in ctx if isinstance(c, str) and c.endswith(ANNO_CONTEXT_PATH)]
    assert ours == [f"{srv.base}{ANNO_CONTEXT_PATH}"], f"@context lacks {ANNO_CONTEXT_PATH}: {ctx}"
    assert ctx[-1] == P3_CONTEXT, \
        f"Presentation 3.0 §4.1 (@context): the Presentation context MUST be last: {ctx}"
    _r, photos = get_json(srv, page_url(srv, "photos", 1, "tagging"))
    assert photos.get("@context") and f"{srv.base}{ANNO_CONTEXT_PATH}" in photos["@context"], \
        "the tagging page uses score but not the context that defines it"
    r, doc = get_json(srv, ours[0])
    inner = doc.get("@context")
    assert isinstance(inner, dict) and "score" in inner, \
        f"{ANNO_CONTEXT_PATH} does not define score: {doc}"
    score = inner["score"]
    assert isinstance(score, (str, dict)), score
    if isinstance(score, dict):
        assert score.get("@id"), f"score has no @id: {score}"


def test_canvas_pages_not_found(srv):
    for url in (page_url(srv, "book", 99, "supplementing"), page_url(srv, "book", 0, "supplementing")):
        r = http(srv, "GET", path_of(srv, url))
        assert r.status == 404, f"GET {url}: {r.status}"
