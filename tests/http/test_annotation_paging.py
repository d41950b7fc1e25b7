"""Canvas AnnotationPages are streamed and split beyond `annotation-page-size` (issue #10 §2):
`next`/`prev`/`partOf` walk every annotation exactly once, in order, and the collection they
are part of says how many there are and where the first and last pages are."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from annotation_fixtures import (  # noqa: E402
    alto_v4, get_json, layout, page_png, path_of, run_import, write)

LINES = 400  # each line: one line record (lines page) and three word records (words page)
PAGES = [("supplementing", "line", LINES), ("words", "word", 3 * LINES)]


@pytest.fixture(scope="module")
def dense(iiifd_bin, tmp_path_factory):
    """A one-page book whose ALTO has LINES lines, imported into its own store."""
    base = tmp_path_factory.mktemp("dense")
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "dense"))
    page_png(os.path.join(root, "dense", "p1.png"), (240, 240, 230))
    lines = [layout(f"alpha{i} beta{i} gamma{i}", 10, 10 + 3 * i, 2, 4, 2) for i in range(LINES)]
    write(os.path.join(root, "dense", "p1.xml"), alto_v4(lines, 1000, 1500, "p1.png"))
    data = os.path.join(base, "data")
    p = run_import(iiifd_bin, root, data, root)
    assert p.returncode == 0, p.stderr
    return root, data


def _server(server_factory, dense, *extra):
    root, data = dense
    return server_factory(args=["--data-dir", data, "--auto-import", "false", *extra],
                          root_dir=root)


def _page_url(s, name="supplementing"):
    return f"{s.base}/iiif/presentation/dense/manifest/canvas/1/annotations/{name}"


@pytest.mark.parametrize("name,granularity,count", PAGES)
def test_one_page_below_the_cap_is_streamed_whole(server_factory, dense, name, granularity,
                                                  count):
    """Lines and words have a page each (every line of text shows once in a viewer)."""
    s = _server(server_factory, dense)
    r, page = get_json(s, _page_url(s, name))
    assert page["type"] == "AnnotationPage" and page["id"] == _page_url(s, name)
    assert len(page["items"]) == count, len(page["items"])
    assert {a.get("textGranularity") for a in page["items"]} == {granularity}
    assert "next" not in page and "prev" not in page and "partOf" not in page
    assert len({a["id"] for a in page["items"]}) == count


@pytest.mark.parametrize("name,granularity,count", PAGES)
def test_pages_beyond_the_cap_link_next_prev_and_partof(server_factory, dense, name,
                                                        granularity, count):
    whole = _server(server_factory, dense)
    _r, all_items = get_json(whole, _page_url(whole, name))
    want = [a["id"].split("/annotations/")[-1] for a in all_items["items"]]

    s = _server(server_factory, dense, "--annotation-page-size", "150")
    url, seen, pages = _page_url(s, name), [], []
    while url and len(pages) < 100:
        _r, page = get_json(s, url)
        assert page["id"] == url, (page["id"], url)
        assert page["partOf"]["type"] == "AnnotationCollection"
        assert page["partOf"]["id"] == _page_url(s, name) + "/collection"
        assert len(page["items"]) <= 150
        seen += [a["id"].split("/annotations/")[-1] for a in page["items"]]
        pages.append(page)
        url = page.get("next", {}).get("id")
    assert seen == want, "paging lost, repeated or reordered annotations"
    assert len(pages) == -(-count // 150)
    assert "prev" not in pages[0]
    for before, page in zip(pages, pages[1:]):
        assert page["prev"] == {"id": before["id"], "type": "AnnotationPage"}
    _r, coll = get_json(s, _page_url(s, name) + "/collection")
    assert coll["type"] == "AnnotationCollection" and coll["total"] == count
    assert coll["first"]["id"] == pages[0]["id"] and coll["last"]["id"] == pages[-1]["id"]


@pytest.mark.parametrize("after", ["x", "1.", ".5", "1.-2", "%zz"])
def test_malformed_after_is_400(server_factory, dense, after):
    s = _server(server_factory, dense, "--annotation-page-size", "150")
    r = fx.request(s.port, path_of(s, _page_url(s)) + f"?after={after}")
    assert r.status == 400, (after, r.status, r.body[:200])


@pytest.mark.parametrize("words_listed", [False, True])
def test_canvas_lists_one_granularity_and_links_the_other(server_factory, dense, words_listed):
    """OCR text shows once: the Canvas's annotations list the lines page (or, with
    canvas-words, the words page); the other level is linked from seeAlso with a label."""
    s = _server(server_factory, dense, "--canvas-words", "true" if words_listed else "false")
    canvas_url = f"{s.base}/iiif/presentation/dense/manifest/canvas/1"
    _r, canvas = get_json(s, canvas_url)
    listed, aside = ("words", "supplementing") if words_listed else ("supplementing", "words")
    assert [p["id"] for p in canvas["annotations"]] == [_page_url(s, listed)], canvas["annotations"]
    see = canvas.get("seeAlso")
    assert see and len(see) == 1 and see[0]["id"] == _page_url(s, aside), see
    assert see[0]["type"] == "AnnotationPage"
    assert ("Lines" if words_listed else "Words") in see[0]["label"]["none"][0], see[0]
    _r, page = get_json(s, see[0]["id"])
    assert len(page["items"]) == (LINES if words_listed else 3 * LINES)


def test_presentation_2_1_lists_are_paged_too(server_factory, dense):
    """A 2.1 AnnotationList holds at most annotation-page-size annotations and continues in
    next; following it gives every annotation once."""
    s = _server(server_factory, dense, "--annotation-page-size", "150")
    url = _page_url(s, "words").replace("/iiif/presentation/", "/iiif/presentation-v2/")
    seen, n = [], 0
    while url and n < 100:
        _r, lst = get_json(s, url)
        assert lst["@type"] == "sc:AnnotationList" and len(lst["resources"]) <= 150
        seen += [a["@id"] for a in lst["resources"]]
        url, n = lst.get("next"), n + 1
    assert len(seen) == len(set(seen)) == 3 * LINES and n == -(-3 * LINES // 150)
