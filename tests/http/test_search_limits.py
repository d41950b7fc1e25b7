"""Content Search under hostile use (issue #10): a search without q restricts nothing (Search
2.0) and must cost one page, so it is paged by record key (`after=`), never by page number
(an OFFSET scan) — following `next` still visits every hit exactly once, with partOf.total.
Searches with q keep numbered pages. A malformed q (bad %-escape, invalid UTF-8) is 400 naming
the parameter, in v2 and v1.

Store: two Canvases with generated ALTO, LINES lines of two words each ("w{i} common"):
2 x LINES line records (the search hits) and twice as many word records."""

import os
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import search_fixtures as sf  # noqa: E402
from annotation_fixtures import get_json, http, path_of  # noqa: E402

TOKEN = "limits-test-token"
LINES = 1000
HITS = 2 * LINES


def _lines(n, tag):
    return [[(f"{tag}{i}", 10, 10 + i, 15, 1), ("common", 30, 10 + i, 15, 1)] for i in range(n)]


@pytest.fixture(scope="module")
def store(iiifd_bin, tmp_path_factory):
    return sf.imported_store(iiifd_bin, tmp_path_factory, "slimit",
                             {f"book/{name}": (200, 1100, _lines(LINES, name))
                              for name in ("p1", "p2")})


@pytest.fixture(scope="module")
def server(iiifd_bin, store, tmp_path_factory):
    with fx.serving(sf.store_server(iiifd_bin, tmp_path_factory, "slimit", store,
                                    "--api-token", TOKEN)) as s:
        yield s


def service(s, kind):
    return f"{s.base}/iiif/presentation/book/manifest/{kind}"


def walk(s, url, next_of):
    pages, seen = [], set()
    while url:
        assert url not in seen, f"next loops back to {url}"
        seen.add(url)
        _r, doc = get_json(s, url)
        pages.append(doc)
        url = next_of(doc)
        assert len(pages) <= HITS // 50 + 2, "more pages than hits allow"
    return pages


def next_v2(doc):
    return (doc.get("next") or {}).get("id")


@pytest.mark.parametrize("query", ["", "?q=", "?q=%20%20", "?motivation=supplementing"])
def test_empty_query_is_paged_by_key_and_visits_every_hit_once(server, query):
    first = service(server, "search") + query
    pages = walk(server, first, next_v2)
    assert len(pages[0]["items"]) == 50 and "next" in pages[0], \
        "an empty query returns one page of 50 with next"
    assert pages[0]["partOf"]["total"] == HITS
    for p in pages[1:]:
        query_string = urllib.parse.urlsplit(p["id"]).query
        assert "after=" in query_string and "page=" not in query_string, \
            f"an empty query's pages must be keyed (no OFFSET scan): {p['id']}"
        assert p["partOf"]["total"] == HITS
    ids = [a["id"] for p in pages for a in p["items"]]
    assert len(ids) == HITS and len(set(ids)) == HITS, \
        f"{len(ids)} items, {len(set(ids))} distinct, expected {HITS}"


def test_empty_query_on_the_collection_visits_every_hit_once(server):
    pages = walk(server, f"{server.base}/iiif/presentation/collection/search", next_v2)
    assert pages[0]["partOf"]["total"] == HITS
    ids = [a["id"] for p in pages for a in p["items"]]
    assert len(ids) == HITS and len(set(ids)) == HITS


def test_empty_query_v1_visits_every_hit_once(server):
    pages = walk(server, service(server, "search1"), lambda d: d.get("next"))
    assert pages[0]["within"]["total"] == HITS
    ids = [a["@id"] for p in pages for a in p["resources"]]
    assert len(ids) == HITS and len(set(ids)) == HITS


def test_query_paging_still_numbered_and_complete(server):
    pages = walk(server, service(server, "search") + "?q=common", next_v2)
    assert pages[0]["partOf"]["total"] == HITS
    assert [p["startIndex"] for p in pages] == [i * 50 for i in range(len(pages))]
    ids = [a["id"] for p in pages for a in p["items"]]
    assert len(ids) == HITS and len(set(ids)) == HITS


@pytest.mark.parametrize("kind", ["search", "search1", "autocomplete"])
@pytest.mark.parametrize("raw,why", [("q=%zz", "escape"), ("q=%ff%fe", "UTF-8"),
                                     ("q=ok&motivation=%G1", "escape")])
def test_malformed_parameter_is_400_naming_it(server, kind, raw, why):
    r = http(server, "GET", path_of(server, service(server, kind)) + "?" + raw)
    assert r.status == 400, f"{kind}?{raw} -> {r.status}: {r.body[:200]!r}"
    name = raw.split("&")[-1].split("=")[0]
    assert name.encode() in r.body and why.encode() in r.body, r.body


def test_malformed_after_is_400(server):
    r = http(server, "GET", path_of(server, service(server, "search")) + "?after=x1")
    assert r.status == 400 and b"after" in r.body, (r.status, r.body)


def test_cached_total_follows_writes(server):
    """The empty query's total is kept per database state: a write must show in it at once."""
    before = get_json(server, service(server, "search"))[1]["partOf"]["total"]
    canvas = f"{server.base}/iiif/presentation/book/manifest/canvas/1"
    body = {"@context": "http://iiif.io/api/presentation/3/context.json", "type": "Annotation",
            "motivation": "commenting", "target": canvas + "#xywh=1,1,5,5",
            "body": {"type": "TextualBody", "value": "a new note", "format": "text/plain"}}
    r = http(server, "POST", "/iiif/presentation/book/manifest/annotations", body=body,
             headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status == 201, (r.status, r.body[:300])
    after = get_json(server, service(server, "search"))[1]["partOf"]["total"]
    assert after == before + 1, f"total {before} -> {after} after one new annotation"


def test_searches_go_through_admission_control(iiifd_bin, store, tmp_path_factory):
    """One render slot and no waiting: concurrent searches must be turned away with 503 like
    renders (before, searches ran beside any number of renders, unadmitted)."""
    adm = sf.store_server(iiifd_bin, tmp_path_factory, "slimitadm", store, "--threads", "1",
                          "--queue-wait-ms", "0", "--workers", "8")
    with fx.serving(adm) as s:
        url = path_of(s, service(s, "search")) + "?q=common"
        statuses = []
        for _round in range(10):
            with ThreadPoolExecutor(16) as pool:
                statuses += [r.status for r in pool.map(lambda _i: http(s, "GET", url),
                                                        range(32))]
            if 503 in statuses:
                break
        assert set(statuses) <= {200, 503}, f"unexpected statuses {set(statuses)}"
        assert 503 in statuses, ("32 concurrent searches with one slot and queue-wait-ms 0 "
                                 "were all served: searches bypass admission control")
        assert 200 in statuses
