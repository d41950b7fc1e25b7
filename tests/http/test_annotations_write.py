"""The write API (docs/annotations.md "Writing annotations"; W3C Web Annotation Protocol shape):
POST/GET/PUT/DELETE on {manifest}/annotations, ETags and If-Match (412 stale, 428 missing),
validation (400 with a reason), bearer-token authorisation (401 with WWW-Authenticate, 403 for
a wrong token or when no token is configured), and written annotations showing up in the
Canvas's AnnotationPages and in search, following PUT and DELETE."""

import datetime
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from annotation_fixtures import (  # noqa: E402,F401
    ALICE, BOB, TOKEN, TOKEN_BOB, _anno_health, _anno_shared_cleanup, atree, body_of, canvas_page, canvas_pages,
    canvas_url, get_json, http, main_import, main_server, manifest_url, path_of, search,
    search_total, target_of, xywh_of)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
AUTH_BOB = {"Authorization": f"Bearer {TOKEN_BOB}"}


def anno(s, value, manifest="book", n=1, frag="xywh=100,100,200,50", motivation="commenting",
         creator=ALICE, **extra):
    a = {"@context": "http://iiif.io/api/presentation/3/context.json",
         "type": "Annotation", "motivation": motivation,
         "body": {"type": "TextualBody", "value": value, "format": "text/plain", "language": "en"},
         "target": canvas_url(s, manifest, n) + (f"#{frag}" if frag else "")}
    if creator:
        a["creator"] = {"id": creator, "type": "Person"}
    a.update(extra)
    return a


def container(s, manifest="book"):
    return f"{manifest_url(s, manifest)}/annotations"


def post(s, body, manifest="book", headers=AUTH):
    return http(s, "POST", path_of(s, container(s, manifest)), body=body, headers=headers)


def created(s, body, manifest="book"):
    r = post(s, body, manifest)
    assert r.status == 201, f"POST {container(s, manifest)}: {r.status} {r.body[:300]!r}"
    return r


def reason(r):
    return r.body.decode("utf-8", "replace").lower()


def test_crud_with_etags(main_server):
    s = main_server
    sent = anno(s, "A note about the cover")
    r = created(s, sent)
    loc = r.header("Location")
    etag = r.header("ETag")
    assert loc and loc.startswith(container(s) + "/") and len(loc) > len(container(s)) + 1, \
        f"Location {loc!r} is not below {container(s)}/"
    assert etag, "201 without ETag"
    echo = r.json()
    assert echo.get("id") == loc, f"the created annotation's id {echo.get('id')!r} != Location"
    assert echo.get("type") == "Annotation" and echo.get("motivation") == "commenting", echo
    assert body_of(echo)["value"] == "A note about the cover"
    assert target_of(echo) == (canvas_url(s, "book", 1), "xywh=100,100,200,50"), echo.get("target")
    assert "creator" in echo and ALICE in json.dumps(echo["creator"]), echo.get("creator")

    g = http(s, "GET", path_of(s, loc))
    assert g.status == 200, g.status
    assert g.header("ETag") == etag, f"GET ETag {g.header('ETag')!r} != POST ETag {etag!r}"
    assert g.json() == echo, "GET does not return what POST returned"

    # PUT with the current ETag
    new = anno(s, "A better note about the cover")
    p = http(s, "PUT", path_of(s, loc), body=new, headers={**AUTH, "If-Match": etag})
    assert p.status == 200, f"PUT with If-Match: {p.status} {p.body[:300]!r}"
    etag2 = p.header("ETag")
    assert etag2 and etag2 != etag, f"PUT: ETag {etag2!r} (was {etag!r})"
    assert p.json().get("id") == loc
    assert body_of(p.json())["value"] == "A better note about the cover"
    g = http(s, "GET", path_of(s, loc))
    assert body_of(g.json())["value"] == "A better note about the cover"
    assert g.header("ETag") == etag2

    # stale and missing If-Match
    p = http(s, "PUT", path_of(s, loc), body=anno(s, "lost update"),
             headers={**AUTH, "If-Match": etag})
    assert p.status == 412, f"PUT with a stale ETag: {p.status}"
    p = http(s, "PUT", path_of(s, loc), body=anno(s, "lost update"), headers=AUTH)
    assert p.status == 428, f"PUT without If-Match: {p.status}"
    g = http(s, "GET", path_of(s, loc))
    assert body_of(g.json())["value"] == "A better note about the cover", "a refused PUT wrote"

    # the container lists it, and no OCR words
    _r, page = get_json(s, container(s))
    assert page.get("type") == "AnnotationPage"
    assert loc in [a.get("id") for a in page.get("items", [])], "container does not list it"
    words = [a.get("id") for a in page["items"] if a.get("textGranularity") == "word"]
    assert not words, f"the container lists {len(words)} OCR words"

    d = http(s, "DELETE", path_of(s, loc), headers=AUTH)
    assert d.status == 204, f"DELETE: {d.status} {d.body[:200]!r}"
    assert http(s, "GET", path_of(s, loc)).status == 404
    assert http(s, "DELETE", path_of(s, loc), headers=AUTH).status == 404
    _r, page = get_json(s, container(s))
    assert loc not in [a.get("id") for a in page.get("items", [])]


def test_delete_with_stale_if_match(main_server):
    s = main_server
    r = created(s, anno(s, "to be edited then deleted"))
    loc, etag = r.header("Location"), r.header("ETag")
    p = http(s, "PUT", path_of(s, loc), body=anno(s, "edited"), headers={**AUTH, "If-Match": etag})
    assert p.status == 200
    d = http(s, "DELETE", path_of(s, loc), headers={**AUTH, "If-Match": etag})
    assert d.status == 412, f"DELETE with a stale If-Match: {d.status}"
    d = http(s, "DELETE", path_of(s, loc), headers={**AUTH, "If-Match": p.header("ETag")})
    assert d.status == 204, f"DELETE with the current If-Match: {d.status}"


def test_written_annotation_in_canvas_page_and_search(main_server):
    s = main_server
    book = manifest_url(s, "book")
    assert search_total(s, book, q="xylophonic") == 0
    r = created(s, anno(s, "A xylophonic remark", n=2, frag="xywh=10,20,300,40"))
    loc, etag = r.header("Location"), r.header("ETag")

    _r, canvas = get_json(s, canvas_url(s, "book", 2))
    pages = canvas_pages(canvas)
    assert "commenting" in pages and "supplementing" in pages, \
        f"Canvas 2 lists {pages} after a comment was written"
    page = canvas_page(s, "book", 2, "commenting")
    assert [a["id"] for a in page["items"]] == [loc]
    assert xywh_of(page["items"][0]) == (canvas_url(s, "book", 2), (10.0, 20.0, 300.0, 40.0))

    doc = search(s, book, q="xylophonic")
    assert [a["id"] for a in doc["items"]] == [loc], "the comment is not found by search"
    assert search_total(s, book, q="XYLOPHONIC remark") == 1
    assert search_total(s, book, q="xylophonic", motivation="commenting") == 1
    assert search_total(s, book, q="xylophonic", motivation="supplementing") == 0
    assert search_total(s, book, q="xylophonic", user=ALICE) == 1
    assert search_total(s, book, q="xylophonic", user=BOB) == 0
    assert search_total(s, book, q="xylophonic", user=f"{BOB} {ALICE}") == 1
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    around = f"{(now - datetime.timedelta(hours=1)).strftime(fmt)}/" \
             f"{(now + datetime.timedelta(hours=1)).strftime(fmt)}"
    assert search_total(s, book, q="xylophonic", date=around) == 1
    assert search_total(s, book, q="xylophonic", date="2001-01-01T00:00:00Z/2001-12-31T23:59:59Z") == 0
    ac = search(s, book, kind="autocomplete", q="xylo")
    assert [(t["value"], t.get("total")) for t in ac["items"]] == [("xylophonic", 1)], ac["items"]
    assert search_total(s, manifest_url(s, "av"), q="xylophonic") == 0

    # the index follows PUT ...
    # the creator is whoever's token wrote it, whatever the body claims
    p = http(s, "PUT", path_of(s, loc), body=anno(s, "A marimbaesque remark", n=2, creator=ALICE),
             headers={**AUTH_BOB, "If-Match": etag})
    assert p.status == 200, f"PUT: {p.status} {p.body[:300]!r}"
    assert search_total(s, book, q="xylophonic") == 0, "search still finds the replaced text"
    assert search_total(s, book, q="marimbaesque") == 1, "search does not find the new text"
    assert search_total(s, book, q="marimbaesque", user=BOB) == 1
    assert search_total(s, book, q="marimbaesque", user=ALICE) == 0
    assert search(s, book, kind="autocomplete", q="xylo")["items"] == [], \
        "autocomplete still offers the replaced word"
    # ... and DELETE
    assert http(s, "DELETE", path_of(s, loc), headers=AUTH).status == 204
    assert search_total(s, book, q="marimbaesque") == 0, "search finds a deleted annotation"
    _r, canvas = get_json(s, canvas_url(s, "book", 2))
    if "commenting" in canvas_pages(canvas):
        items = canvas_page(s, "book", 2, "commenting")["items"]
        assert loc not in [a["id"] for a in items], "the deleted annotation is still on the Canvas"


def test_timed_comment_on_av(main_server):
    s = main_server
    r = created(s, anno(s, "the gongword starts here", manifest="av", frag="t=2.5,4"), "av")
    loc = r.header("Location")
    doc = search(s, manifest_url(s, "av"), q="gongword")
    assert [a["id"] for a in doc["items"]] == [loc]
    src, frag = target_of(doc["items"][0])
    assert src == canvas_url(s, "av", 1) and frag in ("t=2.5,4", "t=2.5,4.0", "t=2.500,4.000"), frag
    assert http(s, "DELETE", path_of(s, loc), headers=AUTH).status == 204


def test_specific_resource_target(main_server):
    s = main_server
    a = anno(s, "selector target", frag=None)
    a["target"] = {"type": "SpecificResource", "source": canvas_url(s, "book", 3),
                   "selector": {"type": "FragmentSelector",
                                "conformsTo": "http://www.w3.org/TR/media-frags/",
                                "value": "xywh=10,10,20,30"}}
    r = created(s, a)
    g = http(s, "GET", path_of(s, r.header("Location")))
    assert xywh_of(g.json()) == (canvas_url(s, "book", 3), (10.0, 10.0, 20.0, 30.0)), g.json()["target"]
    assert http(s, "DELETE", path_of(s, r.header("Location")), headers=AUTH).status == 204
    a["target"]["selector"]["value"] = "xywh=990,10,20,30"
    r = post(s, a)
    assert r.status == 400, f"a SpecificResource outside the Canvas: {r.status}"


def _bad_cases(s):
    good = anno(s, "should never be stored: invalidword")
    cases = [
        ("not JSON", "{this is not json", "book", ["json"]),
        ("JSON array", "[1, 2]", "book", ["type", "annotation", "object"]),
        ("wrong type", {**good, "type": "Note"}, "book", ["type", "annotation"]),
        ("no type", {k: v for k, v in good.items() if k != "type"}, "book", ["type", "annotation"]),
        ("unknown motivation", {**good, "motivation": "dancing"}, "book", ["motivation"]),
        ("no target", {k: v for k, v in good.items() if k != "target"}, "book", ["target"]),
        ("target in another Manifest", {**good, "target": canvas_url(s, "av", 1)}, "book",
         ["target", "canvas"]),
        ("target Canvas 99", {**good, "target": canvas_url(s, "book", 99)}, "book",
         ["target", "canvas"]),
        ("target elsewhere", {**good, "target": "https://example.org/iiif/book/canvas/1"}, "book",
         ["target", "canvas"]),
        ("target the Manifest", {**good, "target": manifest_url(s, "book")}, "book",
         ["target", "canvas"]),
        ("xywh outside", {**good, "target": canvas_url(s, "book", 1) + "#xywh=900,1400,200,200"},
         "book", ["xywh", "outside", "region", "canvas"]),
        ("xywh negative", {**good, "target": canvas_url(s, "book", 1) + "#xywh=-5,10,20,20"},
         "book", ["xywh", "outside", "region", "canvas"]),
        ("t beyond the duration", {**anno(s, "invalidword", manifest="av", frag="t=5,20")},
         "av", ["t=", "time", "duration", "outside"]),
        ("t reversed", {**anno(s, "invalidword", manifest="av", frag="t=5,2")},
         "av", ["t=", "time", "duration", "outside"]),
        ("body without value", {**good, "body": {"type": "TextualBody"}}, "book",
         ["body", "value"]),
    ]
    return cases


CASE_NAMES = ["not JSON", "JSON array", "wrong type", "no type", "unknown motivation",
              "no target", "target in another Manifest", "target Canvas 99", "target elsewhere",
              "target the Manifest", "xywh outside", "xywh negative", "t beyond the duration",
              "t reversed", "body without value"]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_validation_400_with_reason(main_server, name):
    s = main_server
    cases = {c[0]: c[1:] for c in _bad_cases(s)}
    body, manifest, words = cases[name]
    r = post(s, body, manifest)
    assert r.status == 400, f"{name}: {r.status} {r.body[:300]!r}"
    text = reason(r)
    assert any(w in text for w in words), f"{name}: the 400 does not say what is wrong: {text[:300]!r}"
    assert search_total(s, manifest_url(s, manifest), q="invalidword") == 0, f"{name}: stored anyway"


def test_put_is_validated_too(main_server):
    s = main_server
    r = created(s, anno(s, "valid first"))
    loc, etag = r.header("Location"), r.header("ETag")
    p = http(s, "PUT", path_of(s, loc), body={**anno(s, "x"), "motivation": "dancing"},
             headers={**AUTH, "If-Match": etag})
    assert p.status == 400, f"PUT with an unknown motivation: {p.status}"
    p = http(s, "PUT", path_of(s, loc), body="{nope", headers={**AUTH, "If-Match": etag})
    assert p.status == 400, f"PUT with a body that is not JSON: {p.status}"
    g = http(s, "GET", path_of(s, loc))
    assert g.status == 200 and body_of(g.json())["value"] == "valid first"
    assert http(s, "DELETE", path_of(s, loc), headers=AUTH).status == 204


def test_authorisation(main_server):
    s = main_server
    body = anno(s, "an unauthorised authword")
    r = post(s, body, headers={})
    assert r.status == 401, f"POST without a token: {r.status}"
    www = r.header("WWW-Authenticate")
    assert www and "bearer" in www.lower(), f"401 without WWW-Authenticate: Bearer ({www!r})"
    r = post(s, body, headers={"Authorization": "Bearer wrong-token"})
    assert r.status == 403, f"POST with a wrong token: {r.status}"
    r = post(s, body, headers={"Authorization": f"Basic {TOKEN}"})
    assert r.status in (401, 403), f"POST with Basic auth: {r.status}"
    r = post(s, body, headers={"Authorization": f"Bearer {TOKEN}x"})
    assert r.status == 403, f"POST with a token that only starts right: {r.status}"
    assert search_total(s, manifest_url(s, "book"), q="authword") == 0, "an unauthorised POST wrote"

    r = created(s, anno(s, "owned note"))
    loc, etag = r.header("Location"), r.header("ETag")
    p = http(s, "PUT", path_of(s, loc), body=anno(s, "hijacked"), headers={"If-Match": etag})
    assert p.status == 401, f"PUT without a token: {p.status}"
    p = http(s, "PUT", path_of(s, loc), body=anno(s, "hijacked"),
             headers={"If-Match": etag, "Authorization": "Bearer nope"})
    assert p.status == 403, f"PUT with a wrong token: {p.status}"
    d = http(s, "DELETE", path_of(s, loc))
    assert d.status == 401, f"DELETE without a token: {d.status}"
    d = http(s, "DELETE", path_of(s, loc), headers={"Authorization": "Bearer nope"})
    assert d.status == 403, f"DELETE with a wrong token: {d.status}"
    g = http(s, "GET", path_of(s, loc))      # reads are public
    assert g.status == 200 and body_of(g.json())["value"] == "owned note"
    assert http(s, "DELETE", path_of(s, loc), headers=AUTH).status == 204


def test_no_token_configured_refuses_writes(iiifd_bin, atree, tmp_path, server_factory):
    s = server_factory(args=["--data-dir", str(tmp_path / "data"), "--auto-import", "false"],
                       root_dir=atree.root)
    for headers in ({"Authorization": f"Bearer {TOKEN}"}, {"Authorization": "Bearer "}):
        r = post(s, anno(s, "no token here"), headers=headers)
        assert r.status == 403, f"writes without a configured token, {headers}: {r.status}"
    r = post(s, anno(s, "no token here"), headers={})
    assert r.status in (401, 403), r.status
    _r, page = get_json(s, container(s))    # reads still work
    assert page.get("type") == "AnnotationPage"


@pytest.mark.parametrize("frag", ["xywh=NaN,0,10,10", "xywh=0,0,inf,10", "xywh=0,0,1e3,10",
                                  "xywh=-1,0,10,10", "xywh=0,0,10,10junk", "xywh=0x10,0,10,10",
                                  "xywh=1,2,3", "t=nan,5", "t=0,infinity"])
def test_non_finite_or_malformed_fragments_are_refused(main_server, frag):
    s = main_server
    r = post(s, anno(s, "never stored", frag=frag))
    assert r.status == 400, f"{frag}: {r.status} {r.body[:200]!r}"
    assert b"target" in r.body, r.body
    assert search_total(s, manifest_url(s, "book"), q="never stored") == 0


def test_creator_comes_from_the_token_not_the_client(main_server):
    s = main_server
    r = post(s, anno(s, "Claimed by someone else", creator="https://evil.example/mallory"),
             headers=AUTH_BOB)
    assert r.status == 201, r.body[:300]
    echo = r.json()
    assert BOB in json.dumps(echo["creator"]) and "mallory" not in json.dumps(echo), echo
    assert http(s, "DELETE", path_of(s, r.header("Location")), headers=AUTH_BOB).status == 204


def test_web_annotation_protocol_headers(main_server):
    """Web Annotation Protocol: an Annotation says it is an ldp:Resource (Link rel="type") and
    which methods it takes (Allow); the container says it is an ldp:BasicContainer and what it
    accepts; browsers may read Location and WWW-Authenticate (CORS expose list)."""
    s = main_server
    r = created(s, anno(s, "protocol headers"))
    loc = r.header("Location")
    for resp in (r, http(s, "GET", path_of(s, loc))):
        links = " ".join(resp.header_all("Link"))
        assert '<http://www.w3.org/ns/ldp#Resource>; rel="type"' in links, links
        allow = {m.strip() for m in (resp.header("Allow") or "").split(",")}
        assert {"GET", "PUT", "DELETE"} <= allow, resp.header("Allow")
        exposed = {h.strip().lower() for h in resp.header("Access-Control-Expose-Headers").split(",")}
        assert {"location", "www-authenticate", "etag", "link"} <= exposed, exposed
    c = http(s, "GET", path_of(s, container(s)))
    assert c.status == 200
    links = " ".join(c.header_all("Link"))
    assert '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"' in links, links
    assert "POST" in c.header("Allow") and "anno.jsonld" in c.header("Accept-Post")
    http(s, "DELETE", path_of(s, loc), headers=AUTH)


P3 = "http://iiif.io/api/presentation/3/context.json"


def test_single_annotation_starts_with_its_context(main_server):
    """Every top-level JSON-LD document starts with @context (Presentation 3 §4.1): a single
    Annotation too, in the 201 of POST, in GET and in the 200 of PUT."""
    s = main_server
    r = created(s, anno(s, "context first"))
    loc = r.header("Location")
    g = http(s, "GET", path_of(s, loc))
    for resp in (r, g):
        doc = resp.json()
        assert next(iter(doc)) == "@context", list(doc)[:3]
        ctx = doc["@context"]
        assert ctx == P3 or (isinstance(ctx, list) and ctx[-1] == P3), ctx
    put = http(s, "PUT", path_of(s, loc), body=anno(s, "context again"),
               headers={**AUTH, "If-Match": g.header("ETag")})
    assert put.status == 200 and next(iter(put.json())) == "@context", put.body[:200]
    http(s, "DELETE", path_of(s, loc), headers=AUTH)


def test_search_hits_name_the_contexts_they_use(main_server):
    """A search result whose hits carry textGranularity names the text-granularity context
    before the Search 2 context; an embedded resource fetched by its URL starts with @context."""
    s = main_server
    doc = search(s, manifest_url(s, "book"), q="quick")
    assert next(iter(doc)) == "@context"
    ctx = doc["@context"]
    uses_tg = "textGranularity" in json.dumps(doc["items"])
    assert uses_tg, "the OCR hits should say their granularity"
    assert isinstance(ctx, list) and ctx[-1] == "http://iiif.io/api/search/2/context.json", ctx
    assert "http://iiif.io/api/extension/text-granularity/context.json" in ctx, ctx
    r, canvas = get_json(s, canvas_url(s, "book", 1))
    assert next(iter(canvas)) == "@context" and canvas["type"] == "Canvas", list(canvas)[:3]
