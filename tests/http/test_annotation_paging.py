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

LINES = 400  # each line: one line record and three word records


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


def _page_url(s):
    return f"{s.base}/iiif/presentation/dense/manifest/canvas/1/annotations/supplementing"


def test_one_page_below_the_cap_is_streamed_whole(server_factory, dense):
    s = _server(server_factory, dense)
    r, page = get_json(s, _page_url(s))
    assert page["type"] == "AnnotationPage" and page["id"] == _page_url(s)
    assert len(page["items"]) == 4 * LINES, len(page["items"])
    assert "next" not in page and "prev" not in page and "partOf" not in page
    assert len({a["id"] for a in page["items"]}) == 4 * LINES


def test_pages_beyond_the_cap_link_next_prev_and_partof(server_factory, dense):
    whole = _server(server_factory, dense)
    _r, all_items = get_json(whole, _page_url(whole))
    want = [a["id"].split("/annotations/")[-1] for a in all_items["items"]]

    s = _server(server_factory, dense, "--annotation-page-size", "150")
    url, seen, pages = _page_url(s), [], []
    while url and len(pages) < 100:
        _r, page = get_json(s, url)
        assert page["id"] == url, (page["id"], url)
        assert page["partOf"]["type"] == "AnnotationCollection"
        assert page["partOf"]["id"] == _page_url(s) + "/collection"
        assert len(page["items"]) <= 150
        seen += [a["id"].split("/annotations/")[-1] for a in page["items"]]
        pages.append(page)
        url = page.get("next", {}).get("id")
    assert seen == want, "paging lost, repeated or reordered annotations"
    assert len(pages) == -(-4 * LINES // 150)
    assert "prev" not in pages[0]
    for before, page in zip(pages, pages[1:]):
        assert page["prev"] == {"id": before["id"], "type": "AnnotationPage"}
    _r, coll = get_json(s, _page_url(s) + "/collection")
    assert coll["type"] == "AnnotationCollection" and coll["total"] == 4 * LINES
    assert coll["first"]["id"] == pages[0]["id"] and coll["last"]["id"] == pages[-1]["id"]


@pytest.mark.parametrize("after", ["x", "1.", ".5", "1.-2", "%zz"])
def test_malformed_after_is_400(server_factory, dense, after):
    s = _server(server_factory, dense, "--annotation-page-size", "150")
    r = fx.request(s.port, path_of(s, _page_url(s)) + f"?after={after}")
    assert r.status == 400, (after, r.status, r.body[:200])
