"""Content Search with q, paged by key (issue #16: page 100 must cost what page 1 does): a `next`
link names the page number and the record the page follows (`page=N&after=K`), so the store
starts the page at that record instead of counting N x 50 hits to skip. The page found so is
the page `page=N` gives by offset (the same items, ids and startIndex), a key that names no
record falls back to the offset, and the total, counted once per state of the store, follows
writes at once.

Store: two Manifests (books a and b) of two Canvases each, LINES lines of three words
("w{i} common tail{i % 3}"): 4 x LINES hits for "common", a third of them for the phrase
"common tail1". Run on SQLite and (IIIFD_TEST_BACKEND=postgresql) PostgreSQL."""

import os
import sys
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import search_fixtures as sf  # noqa: E402
from annotation_fixtures import get_json, http  # noqa: E402

TOKEN = "paging-key-token"
LINES = 120
PAGE = 50


def _lines(n, tag):
    return [[(f"{tag}{i}", 10, 10 + i, 15, 1), ("common", 30, 10 + i, 15, 1),
             (f"tail{i % 3}", 50, 10 + i, 15, 1)] for i in range(n)]


@pytest.fixture(scope="module")
def server(iiifd_bin, tmp_path_factory):
    store = sf.imported_store(iiifd_bin, tmp_path_factory, "spkey",
                              {f"{book}/{name}": (200, 200, _lines(LINES, book + name))
                               for book in ("a", "b") for name in ("p1", "p2")})
    with fx.serving(sf.store_server(iiifd_bin, tmp_path_factory, "spkey", store,
                                    "--api-token", TOKEN)) as s:
        yield s


def collection_search(s, query):
    return f"{s.base}/iiif/presentation/collection/search?{query}"


def walk_next(s, url):
    pages = []
    while url:
        _r, doc = get_json(s, url)
        pages.append((url, doc))
        url = (doc.get("next") or {}).get("id")
        assert len(pages) <= 4 * LINES // PAGE + 2, "more pages than hits allow"
    return pages


def items(doc):
    return [a["id"] for a in doc["items"]]


@pytest.mark.parametrize("query,want", [("q=common", 4 * LINES),
                                        ("q=%22common%20tail1%22", 4 * LINES // 3)])
def test_next_links_are_keyed_and_give_the_numbered_pages(server, query, want):
    pages = walk_next(server, collection_search(server, query))
    assert pages[0][1]["partOf"]["total"] == want
    assert len(pages) == (want + PAGE - 1) // PAGE
    seen = [i for _u, doc in pages for i in items(doc)]
    assert len(seen) == want and len(set(seen)) == want, f"{len(seen)} items, {len(set(seen))} distinct"
    for n, (url, doc) in enumerate(pages):
        params = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        if n:
            assert params.get("page") == [str(n)] and len(params.get("after", [])) == 1, \
                f"next link of page {n - 1} names the page and the record it follows: {url}"
        # the page's id is the page, however it was reached
        assert "after=" not in doc["id"], doc["id"]
        assert doc["startIndex"] == n * PAGE and doc["partOf"]["total"] == want
        _r, by_offset = get_json(server, collection_search(server, f"{query}&page={n}"))
        assert items(by_offset) == items(doc), f"page {n} by key differs from page={n}"
        assert by_offset["id"] == doc["id"]
        assert (by_offset.get("next") or {}).get("id") == (doc.get("next") or {}).get("id")


def test_key_of_no_record_falls_back_to_the_page_number(server):
    _r, by_offset = get_json(server, collection_search(server, "q=common&page=3"))
    _r, stale = get_json(server, collection_search(server, "q=common&page=3&after=999999999"))
    assert items(stale) == items(by_offset) and len(items(stale)) == PAGE


def test_malformed_key_is_400(server):
    r = http(server, "GET", "/iiif/presentation/collection/search?q=common&page=2&after=x")
    assert r.status == 400 and b"after" in r.body, (r.status, r.body)


def test_total_of_a_word_follows_writes(server):
    """The total of a search with q is kept per state of the store: a write shows at once."""
    url = collection_search(server, "q=common")
    before = get_json(server, url)[1]["partOf"]["total"]
    assert get_json(server, url)[1]["partOf"]["total"] == before  # now from the cache
    canvas = f"{server.base}/iiif/presentation/a/manifest/canvas/1"
    body = {"@context": "http://iiif.io/api/presentation/3/context.json", "type": "Annotation",
            "motivation": "commenting", "target": canvas + "#xywh=1,1,5,5",
            "body": {"type": "TextualBody", "value": "one more common note",
                     "format": "text/plain"}}
    r = http(server, "POST", "/iiif/presentation/a/manifest/annotations", body=body,
             headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status == 201, (r.status, r.body[:300])
    assert get_json(server, url)[1]["partOf"]["total"] == before + 1


def test_the_key_decides_where_the_page_starts(server):
    """The record key is used, not only carried: with the key of page 0's last record, any
    page number gives the records of page 1 (the number is kept for startIndex only)."""
    _r, first = get_json(server, collection_search(server, "q=common"))
    link = first["next"]["id"]
    after = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["after"][0]
    _r, page1 = get_json(server, link)
    _r, keyed = get_json(server, collection_search(server, f"q=common&page=5&after={after}"))
    assert items(keyed) == items(page1)
