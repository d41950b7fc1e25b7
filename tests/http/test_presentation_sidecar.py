"""Sidecar metadata (docs/presentation.md "Sidecar metadata"): every property of manifest.yml in
the shape Presentation 3.0 requires, per-file Canvas settings, the table of contents as nested
Ranges, collection.yml, and a broken sidecar that does not take its Manifest down."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from presentation_fixtures import (  # noqa: E402,F401
    BROKEN_LINES, CC_BY, NAVPLACE_CONTEXT, P3_CONTEXT, _pres_health, canvas_ref_id,
    collection_of, fetch_json, lang_values, manifest_of, pres_url, ptree, pserver, server_p,
    site)


def book1(server_p, site):
    return manifest_of(server_p, site, "books/book1/manifest")


def test_label_summary_language_maps(server_p, site):
    m = book1(server_p, site)
    assert m.get("label") == {"en": ["The first book"], "fr": ["Le premier livre"]}
    assert m.get("summary") == {"en": ["A book made for testing"],
                                "fr": ["Un livre pour les essais"]}


def test_metadata_pairs(server_p, site):
    m = book1(server_p, site)
    assert m.get("metadata") == [
        {"label": {"none": ["Date"]}, "value": {"none": ["about 1450"]}},
        {"label": {"en": ["Scribe"], "fr": ["Copiste"]}, "value": {"none": ["Jean Mi\u00e9lot"]}},
    ]


def test_rights_and_required_statement(server_p, site):
    m = book1(server_p, site)
    assert m.get("rights") == CC_BY
    assert m.get("requiredStatement") == {"label": {"none": ["Attribution"]},
                                          "value": {"none": ["Provided by the Example Library"]}}


def test_provider_agent(server_p, site):
    """3.2 provider: Agents MUST have id (a URI), type "Agent" and label; homepage and logo are
    arrays of resources with id and type (homepage also label)."""
    m = book1(server_p, site)
    prov = m.get("provider")
    assert isinstance(prov, list) and len(prov) == 1, prov
    a = prov[0]
    assert a.get("type") == "Agent"
    assert isinstance(a.get("id"), str) and re.match(r"https?://", a["id"]), a.get("id")
    assert a.get("label") == {"none": ["Example Library"]}
    hp = a.get("homepage")
    assert isinstance(hp, list) and len(hp) == 1, hp
    assert hp[0].get("id") == "https://library.example.org/"
    assert hp[0].get("type") == "Text" and lang_values(hp[0].get("label")), hp[0]
    logo = a.get("logo")
    assert isinstance(logo, list) and len(logo) == 1, logo
    assert logo[0].get("id") == "https://library.example.org/logo.png"
    assert logo[0].get("type") == "Image", logo[0]


def test_homepage(server_p, site):
    """homepage: array of objects that MUST have id, type and label."""
    m = book1(server_p, site)
    hp = m.get("homepage")
    assert isinstance(hp, list) and len(hp) == 1, hp
    assert hp[0].get("id") == "https://library.example.org/items/42"
    assert hp[0].get("type") == "Text"
    assert lang_values(hp[0].get("label")), f"homepage MUST have a label: {hp[0]}"


def test_nav_date_normalised(server_p, site):
    """navDate MUST be an XSD dateTime with a timezone (SHOULD be UTC with Z)."""
    assert book1(server_p, site).get("navDate") == "1450-01-01T00:00:00Z"


def test_nav_place_feature_collection_and_context(server_p, site):
    """navPlace extension 2.1: a FeatureCollection of Features; 3.1: its context MUST come before
    the presentation context on the top-level object."""
    m = book1(server_p, site)
    np_ = m.get("navPlace")
    assert isinstance(np_, dict) and np_.get("type") == "FeatureCollection", np_
    feats = np_.get("features")
    assert isinstance(feats, list) and len(feats) == 1, np_
    f = feats[0]
    assert f.get("type") == "Feature"
    assert isinstance(f.get("properties"), dict), f"Feature needs properties: {f}"
    assert f.get("geometry") == {"type": "Point", "coordinates": [4.35, 50.85]}
    for o in (np_, f):
        if "id" in o:
            assert re.match(r"https?://", o["id"]), o["id"]
    ctx = m.get("@context")
    assert isinstance(ctx, list), f"@context {ctx!r} lacks the navPlace context"
    assert ctx[-1] == P3_CONTEXT, ctx
    assert NAVPLACE_CONTEXT in ctx and ctx.index(NAVPLACE_CONTEXT) < ctx.index(P3_CONTEXT), ctx


def test_no_nav_place_context_without_nav_place(server_p, site):
    m = manifest_of(server_p, site, "books/book2/manifest")
    assert "navPlace" not in m
    ctx = m.get("@context")
    assert ctx == P3_CONTEXT or (isinstance(ctx, list) and ctx[-1] == P3_CONTEXT), ctx


def test_behavior_and_viewing_direction(server_p, site):
    m = book1(server_p, site)
    assert m.get("behavior") == ["paged"]
    assert m.get("viewingDirection") == "right-to-left"


def test_canvas_labels_from_sidecars(server_p, site):
    """canvases: {page1.png: {label: Cover}} in manifest.yml, and page2.png.yml next to the page."""
    items = book1(server_p, site)["items"]
    assert items[0].get("label") == {"none": ["Cover"]}
    assert items[1].get("label") == {"en": ["Second page"]}
    assert lang_values(items[2].get("label", {})) not in ([], ["Cover"], ["Second page"])


def test_toc_nested_ranges(server_p, site):
    """toc -> structures: top-level Ranges, a nested Range, canvases referenced by their ids in
    order; Range ids {manifest}/range/{k} depth first (docs), each dereferenceable."""
    m = book1(server_p, site)
    mid = m["id"]
    c = [x["id"] for x in m["items"]]
    s = m.get("structures")
    assert isinstance(s, list) and len(s) == 2, s
    r1, r2 = s
    assert r1.get("type") == "Range" and r1.get("id") == f"{mid}/range/1", r1
    assert r1.get("label") == {"none": ["Front matter"]}
    assert [canvas_ref_id(i) for i in r1.get("items", [])] == [c[0]]
    assert r2.get("type") == "Range" and r2.get("id") == f"{mid}/range/2", r2
    assert r2.get("label") == {"en": ["Body"], "fr": ["Corps"]}
    sub = r2.get("items", [])
    assert len(sub) == 1 and sub[0].get("type") == "Range", sub
    r3 = sub[0]
    assert r3.get("id") == f"{mid}/range/3", r3
    assert r3.get("label") == {"none": ["Chapter one"]}
    assert [canvas_ref_id(i) for i in r3.get("items", [])] == [c[1], c[2]]
    for k, r in ((1, r1), (2, r2), (3, r3)):
        doc = fetch_json(server_p, f"{mid}/range/{k}")
        assert doc.get("type") == "Range" and doc.get("label") == r["label"], doc


def test_collection_yml(server_p, site):
    books = collection_of(server_p, site, "books/collection")
    assert books.get("label") == {"en": ["Books"], "fr": ["Livres"]}
    assert books.get("summary") == {"none": ["All the books"]}
    root = collection_of(server_p, site, "collection")
    member = [x for x in root["items"] if x["id"] == books["id"]]
    assert member and member[0].get("label") == books["label"], member


def test_single_file_sidecar_labels_its_manifest(server_p, site):
    m = manifest_of(server_p, site, "av/interview.mp3/manifest")
    assert m.get("label") == {"en": ["An interview"], "fr": ["Un entretien"]}
    assert m.get("summary") == {"none": ["A conversation about testing"]}


# --------------------------------------------------------------------------------------------
# broken sidecar
# --------------------------------------------------------------------------------------------
def test_broken_sidecar_served_without_broken_parts(server_p, site):
    m = manifest_of(server_p, site, "broken/manifest")
    assert m.get("label") == {"none": ["Broken but served"]}
    assert m.get("summary") == {"none": ["Still has a summary"]}
    assert m.get("behavior") == ["individuals"]
    assert "rights" not in m, f"invalid rights kept: {m.get('rights')!r}"
    assert "navDate" not in m, f"invalid navDate kept: {m.get('navDate')!r}"
    assert len(m.get("items", [])) == 1


def test_broken_sidecar_logged_with_file_and_line(server_p):
    r = server_p.get("/iiif/presentation/broken/manifest")
    assert r.status == 200
    log = server_p.stderr_text()
    lines = [ln for ln in log.splitlines() if "broken/manifest.yml" in ln]
    assert lines, "no log line names broken/manifest.yml:\n" + log[-2000:]
    for prop, lineno in BROKEN_LINES.items():
        pat = re.compile(rf"broken/manifest\.yml[:,]?\s*(line\s*)?{lineno}\b")
        hits = [ln for ln in lines if pat.search(ln)]
        assert hits, (f"no log line names broken/manifest.yml line {lineno} ({prop}):\n"
                      + "\n".join(lines[-10:]))
        assert any(prop.lower() in ln.lower() for ln in hits), \
            f"log line for line {lineno} does not name {prop!r}: {hits}"
