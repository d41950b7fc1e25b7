"""Presentation 3.0: every document the generated tree produces validates against the official
JSON schema, and every id in them can be dereferenced (spec 3.2 `id`, 6.3 Responses: referenced
resources MUST be dereferenceable; if retrievable, the id MUST be the URI it is published at)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from presentation_fixtures import (  # noqa: E402,F401
    EXPECTED_COLLECTIONS, EXPECTED_MANIFESTS, P3_CONTEXT, _pres_health, fetch, fetch_json,
    find_service, painting_body, pres_url, ptree, pserver, pchecks, doc_errors, server_p, sid,
    site, validator_for, walk)

CHECKED_TYPES = ("Canvas", "AnnotationPage", "Annotation", "Range")


def embedded(site, types=CHECKED_TYPES):
    """{id: (type, manifest url, object)} for every embedded resource of the given types."""
    out = {}
    for murl, man in site[1].items():
        for _p, o in walk(man):
            if o is man:
                continue
            if o.get("type") in types and isinstance(o.get("id"), str):
                out.setdefault(o["id"], (o["type"], murl, o))
    return out


# --------------------------------------------------------------------------------------------
# 1. schema
# --------------------------------------------------------------------------------------------
def test_crawl_reaches_every_expected_document(server_p, site):
    colls, mans, problems = site
    assert not problems, "broken links while walking from the root Collection:\n" + \
        "\n".join(problems)
    want_c = {pres_url(server_p, p) for p in EXPECTED_COLLECTIONS}
    want_m = {pres_url(server_p, p) for p in EXPECTED_MANIFESTS}
    assert set(colls) == want_c, (f"missing {sorted(want_c - set(colls))}, "
                                  f"unexpected {sorted(set(colls) - want_c)}")
    assert set(mans) == want_m, (f"missing {sorted(want_m - set(mans))}, "
                                 f"unexpected {sorted(set(mans) - want_m)}")


def test_schema_collections_and_manifests(site, pchecks):
    v = validator_for(pchecks)
    docs = {**site[0], **site[1]}
    assert len(docs) >= len(EXPECTED_COLLECTIONS) + len(EXPECTED_MANIFESTS) - 2
    bad = {url: errs for url, doc in docs.items() if (errs := doc_errors(v, doc))}
    assert not bad, "invalid documents:\n" + "\n".join(f"{u}:\n  " + "\n  ".join(e)
                                                   for u, e in bad.items())


def test_manifests_and_ranges_not_empty(site):
    """3.0 items: a Manifest MUST have at least one Canvas, a Range at least one item (the schema
    does not check this)."""
    bad = []
    for url, man in site[1].items():
        if not man.get("items"):
            bad.append(f"Manifest {url} has no items")
        for _p, o in walk(man.get("structures", [])):
            if o.get("type") == "Range" and not o.get("items"):
                bad.append(f"Range {o.get('id')} has no items")
    for url, coll in site[0].items():
        if "items" not in coll:
            bad.append(f"Collection {url} has no items property")
    assert not bad, "\n".join(bad)


def test_schema_canvases_pages_annotations_ranges_dereferenced(server_p, site, pchecks):
    """Each Canvas, AnnotationPage, Annotation and Range, fetched at its id, validates (Canvas
    and Range against their classes, pages and annotations against the top-level schema)."""
    validators = {"Canvas": validator_for(pchecks, "canvas"),
                  "Range": validator_for(pchecks, "range"),
                  "AnnotationPage": validator_for(pchecks), "Annotation": validator_for(pchecks)}
    seen = {t: 0 for t in CHECKED_TYPES}
    bad = []
    for rid, (typ, _m, _o) in sorted(embedded(site).items()):
        if "#" in rid:
            continue
        r = fetch(server_p, rid)
        if r.status != 200:
            bad.append(f"{rid}: HTTP {r.status}")
            continue
        doc = r.json()
        seen[typ] += 1
        errs = doc_errors(validators[typ], doc)
        if errs:
            bad.append(f"{rid} ({typ}):\n  " + "\n  ".join(errs))
    assert not bad, "\n".join(bad)
    # 5 image manifests with 3+4+2+2+1+1 canvases, 3 A/V canvases
    assert seen["Canvas"] >= 16, seen
    assert seen["AnnotationPage"] >= 16 and seen["Annotation"] >= 16, seen
    assert seen["Range"] >= 5, seen   # book1: 3, interview: 2


def test_schema_embedded_canvases(site, pchecks):
    """Embedded Canvases validate too (the dereferenced copy could differ)."""
    v = validator_for(pchecks, "canvas", top=False)
    bad = []
    n = 0
    for murl, man in site[1].items():
        for c in man.get("items", []):
            n += 1
            errs = doc_errors(v, c)
            if errs:
                bad.append(f"{c.get('id')} in {murl}:\n  " + "\n  ".join(errs))
    assert n >= 16
    assert not bad, "\n".join(bad)


def test_context_only_on_top_level(site):
    """3.1/4.6: @context on the top-level resource, the presentation context last; it MUST NOT
    appear within embedded resources."""
    bad = []
    for url, doc in {**site[0], **site[1]}.items():
        ctx = doc.get("@context")
        last = ctx[-1] if isinstance(ctx, list) else ctx
        if last != P3_CONTEXT:
            bad.append(f"{url}: @context {ctx!r}")
        for p, o in walk(doc):
            inner = o.get("@context") if o is not doc else None
            if inner and P3_CONTEXT in (inner if isinstance(inner, list) else [inner]):
                bad.append(f"{url}: the presentation context again at {p}")
    assert not bad, "\n".join(bad)


# --------------------------------------------------------------------------------------------
# 2. ids dereference
# --------------------------------------------------------------------------------------------
def test_embedded_resources_dereference(server_p, site):
    """Canvases, AnnotationPages, Annotations and Ranges: 200, JSON, id equal to the URL, same
    type, and a top-level @context (3.1: the top resource of every response MUST have it)."""
    res = embedded(site)
    counts = {t: 0 for t in CHECKED_TYPES}
    bad = []
    canvas_ids = {i for i, (t, _m, _o) in res.items() if t == "Canvas"}
    for rid, (typ, murl, obj) in sorted(res.items()):
        if "#" in rid:
            # only fragments of Canvases (Range items with #t= / #xywh=) may carry one
            if rid.split("#")[0] not in canvas_ids or typ != "Canvas":
                bad.append(f"{rid} ({typ}) in {murl}: fragment id not on a known Canvas")
            continue
        try:
            doc = fetch_json(server_p, rid)
        except AssertionError as e:
            bad.append(f"{typ} in {murl}: {e}")
            continue
        counts[typ] += 1
        if doc.get("type") != typ:
            bad.append(f"{rid}: type {doc.get('type')!r}, embedded as {typ}")
        if "@context" not in doc:
            bad.append(f"{rid}: no @context at the top level")
        for k in ("width", "height", "duration", "label"):
            if k in obj and doc.get(k) != obj[k]:
                bad.append(f"{rid}: {k} {doc.get(k)!r} differs from the embedded {obj[k]!r}")
    assert not bad, "\n".join(bad)
    assert counts["Canvas"] >= 16 and counts["AnnotationPage"] >= 16, counts
    assert counts["Annotation"] >= 16 and counts["Range"] >= 5, counts


def test_canvas_ids_have_no_fragment_and_follow_layout(server_p, site):
    """Canvases MUST have their own URI without a fragment (5.3); the layout is
    {manifest}/canvas/{n} (docs/presentation.md)."""
    bad = []
    for murl, man in site[1].items():
        for n, c in enumerate(man.get("items", []), 1):
            if c.get("id") != f"{murl}/canvas/{n}":
                bad.append(f"{murl} canvas {n}: id {c.get('id')!r}")
            for pn, page in enumerate(c.get("items", []), 1):
                if page.get("id") != f"{murl}/canvas/{n}/page":
                    bad.append(f"{murl} canvas {n} page: id {page.get('id')!r}")
                for an, a in enumerate(page.get("items", []), 1):
                    if a.get("id") != f"{murl}/canvas/{n}/page/{an}":
                        bad.append(f"{murl} canvas {n} annotation {an}: id {a.get('id')!r}")
                    tgt = a.get("target")
                    tgt = tgt.get("source", tgt.get("id")) if isinstance(tgt, dict) else tgt
                    if isinstance(tgt, str) and tgt.split("#")[0] != c.get("id"):
                        bad.append(f"{a.get('id')}: target {a.get('target')!r} is not its Canvas")
    assert not bad, "\n".join(bad)


def _image_bodies(site):
    out = []
    for murl, man in site[1].items():
        for c in man.get("items", []):
            body = painting_body(c)
            if body.get("type") == "Image":
                out.append((c, body))
    return out


def test_image_bodies_and_services(server_p, site):
    """Image bodies: the image at the body id has the Canvas's size; ImageService3 and
    ImageService2 info.json answer with that size and their own id."""
    bodies = _image_bodies(site)
    assert len(bodies) >= 13, f"only {len(bodies)} image canvases"
    bad = []
    for c, body in bodies:
        cid = c["id"]
        r = fetch(server_p, body["id"])
        if r.status != 200:
            bad.append(f"{cid}: body {body['id']} -> {r.status}")
            continue
        size = r.image().size
        if size != (c.get("width"), c.get("height")):
            bad.append(f"{cid}: body image is {size}, canvas {c.get('width')}x{c.get('height')}")
        if (body.get("width"), body.get("height")) != size:
            bad.append(f"{cid}: body says {body.get('width')}x{body.get('height')}, image {size}")
        if body.get("format") and body["format"] != r.content_type.split(";")[0]:
            bad.append(f"{cid}: body format {body['format']!r}, served {r.content_type!r}")
        for kind, idkey in (("ImageService3", "id"), ("ImageService2", "@id")):
            s = find_service(body, kind)
            if s is None:
                bad.append(f"{cid}: no {kind} on the body")
                continue
            try:
                info = fetch_json(server_p, sid(s) + "/info.json", expect_id=False)
            except AssertionError as e:
                bad.append(f"{cid}: {kind}: {e}")
                continue
            if info.get(idkey) != sid(s):
                bad.append(f"{cid}: {kind} info.json {idkey} {info.get(idkey)!r} != {sid(s)!r}")
            if (info.get("width"), info.get("height")) != size:
                bad.append(f"{cid}: {kind} info.json {info.get('width')}x{info.get('height')}"
                           f" != image {size}")
    assert not bad, "\n".join(bad)


def test_thumbnails_fetchable(server_p, site):
    """docs: Manifests, Canvases and Collection members have a thumbnail; each one is an image
    whose declared size (if any) is its real size."""
    bad = []
    seen = set()
    missing = []
    for url, doc in {**site[0], **site[1]}.items():
        if doc["type"] == "Manifest":
            if not doc.get("thumbnail"):
                missing.append(f"Manifest {url}")
            for c in doc.get("items", []):
                if painting_body(c).get("type") == "Image" and not c.get("thumbnail"):
                    missing.append(f"Canvas {c['id']}")
        else:
            for m in doc.get("items", []):
                if not m.get("thumbnail"):
                    missing.append(f"member {m.get('id')} of {url}")
        for _p, o in walk(doc):
            for t in o.get("thumbnail", []) or []:
                tid = t.get("id")
                if tid in seen:
                    continue
                seen.add(tid)
                r = fetch(server_p, tid)
                if r.status != 200 or not r.content_type.startswith("image/"):
                    bad.append(f"thumbnail {tid}: {r.status} {r.content_type}")
                    continue
                size = r.image().size
                if "width" in t and (t.get("width"), t.get("height")) != size:
                    bad.append(f"thumbnail {tid}: says {t.get('width')}x{t.get('height')}, "
                               f"is {size}")
                for s in t.get("service", []) or []:
                    ri = fetch(server_p, sid(s) + "/info.json")
                    if ri.status != 200:
                        bad.append(f"thumbnail service {sid(s)}: {ri.status}")
    assert seen, "no thumbnail anywhere"
    assert not missing, "no thumbnail on: " + ", ".join(missing)
    assert not bad, "\n".join(bad)


def test_media_bodies_fetchable(server_p, site):
    """Sound, Video and Text (captions) bodies: 200 with the body's format as Content-Type."""
    bad = []
    n = 0
    for murl, man in site[1].items():
        for _p, o in walk(man.get("items", [])):   # inside Canvases (not homepage etc.)
            if o.get("type") in ("Sound", "Video", "Text") and isinstance(o.get("id"), str):
                n += 1
                r = fetch(server_p, o["id"], headers={"Range": "bytes=0-1023"})
                if r.status not in (200, 206) or not r.body:
                    bad.append(f"{o['id']}: {r.status}")
                elif o.get("format") and r.content_type.split(";")[0].strip() != o["format"]:
                    bad.append(f"{o['id']}: Content-Type {r.content_type!r}, format "
                               f"{o.get('format')!r}")
    assert n >= 3 + 3, f"only {n} media bodies (3 A/V files, 3 caption files expected)"
    assert not bad, "\n".join(bad)
