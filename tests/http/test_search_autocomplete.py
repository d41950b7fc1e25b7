"""Autocomplete 2.0 (docs/annotations.md "Search"; search_2.0_index.md §5): TermPage with Terms
{value, total} in alphabetical order, prefix matching with case and diacritics folded, `min`,
the scope of the service, `ignored` for motivation/date/user, and q required.

Runs against both stores (fixture `srv`)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from annotation_fixtures import (  # noqa: E402,F401
    LOREM_TOTAL, SEARCH2_CONTEXT, _anno_health, _anno_shared_cleanup, atree, auto_server,
    collection_url, fold, get_json, http, main_import, main_server, manifest_url, path_of, qs,
    search, search_total, srv)


def terms(doc):
    assert doc.get("type") == "TermPage", f"type {doc.get('type')!r}"
    assert isinstance(doc.get("id"), str), "§5.2: a TermPage MUST have an id"
    ctx = doc.get("@context")
    assert ctx == SEARCH2_CONTEXT or SEARCH2_CONTEXT in (ctx or []), f"@context {ctx!r}"
    items = doc.get("items")
    assert isinstance(items, list), "§5.2: a TermPage MUST have items"
    out = []
    for t in items:
        assert isinstance(t, dict) and isinstance(t.get("value"), str), f"Term {t!r}"
        if "type" in t:
            assert t["type"] == "Term", t
        out.append((t["value"], t.get("total")))
    return out


def ac(s, scope_url, status=200, **params):
    return search(s, scope_url, kind="autocomplete", status=status, **params)


def test_termpage_prefix_and_totals(srv):
    book = manifest_url(srv, "book")
    got = terms(ac(srv, book, q="lo"))
    assert [v for v, _t in got] == ["lobster", "lorem"], f"q=lo in book: {got}"
    totals = dict(got)
    assert totals["lobster"] == 1, got
    assert totals["lorem"] == search_total(srv, book, q="lorem") == LOREM_TOTAL, \
        (f"lorem: autocomplete total {totals['lorem']}, search finds "
         f"{search_total(srv, book, q='lorem')} (the number a client will get when it searches)")


def test_alphabetical_and_prefix(srv):
    book = manifest_url(srv, "book")
    for q in ("c", "a", "s", "o"):
        got = [v for v, _t in terms(ac(srv, book, q=q))]
        assert got, f"q={q!r}: no terms"
        assert all(fold(v).startswith(q) for v in got), f"q={q!r}: {got}"
        assert got == sorted(got, key=fold), f"q={q!r}: not alphabetical: {got}"
        assert len(set(map(fold, got))) == len(got), f"q={q!r}: duplicate terms {got}"
    got = [v for v, _t in terms(ac(srv, book, q="c"))]
    assert {fold(v) for v in got} == {"cafe", "cat", "crossing"}, got


@pytest.mark.parametrize("q", ["caf", "CAF", "café", "Cafe"])
def test_folding(srv, q):
    got = terms(ac(srv, manifest_url(srv, "book"), q=q))
    assert [fold(v) for v, _t in got] == ["cafe"], f"q={q!r}: {got}"
    assert got[0][1] == 2, f"cafe/Café are on two lines: total {got[0][1]}"


def test_min(srv):
    book = manifest_url(srv, "book")
    assert [v for v, _t in terms(ac(srv, book, q="lo", min=2))] == ["lorem"]
    assert [v for v, _t in terms(ac(srv, book, q="lo", min=LOREM_TOTAL))] == ["lorem"]
    assert terms(ac(srv, book, q="lo", min=LOREM_TOTAL + 1)) == []
    assert [v for v, _t in terms(ac(srv, book, q="lo", min=1))] == ["lobster", "lorem"]


def test_scope(srv):
    assert terms(ac(srv, collection_url(srv), q="zeb")) == [("zebra", 3)]
    assert terms(ac(srv, manifest_url(srv, "book"), q="zeb")) == [("zebra", 1)]
    assert terms(ac(srv, manifest_url(srv, "photos"), q="zeb")) == [("zebra", 1)]
    assert terms(ac(srv, manifest_url(srv, "av"), q="str")) == [("stripes", 1)]
    assert terms(ac(srv, manifest_url(srv, "av"), q="lo")) == []
    assert [v for v, _t in terms(ac(srv, collection_url(srv), q="lo"))] == ["lobster", "lorem"]


def test_ignored_parameters(srv):
    book = manifest_url(srv, "book")
    plain = ac(srv, book, q="lo")
    assert not plain.get("ignored"), f"nothing to ignore, yet ignored={plain.get('ignored')}"
    doc = ac(srv, book, q="lo", motivation="tagging",
             date="2001-01-01T00:00:00Z/2001-12-31T23:59:59Z",
             user="https://example.org/users/nobody")
    ign = doc.get("ignored")
    assert isinstance(ign, list) and set(ign) >= {"motivation", "date", "user"}, \
        f"§5.1/§4.2.4: ignored parameters MUST be listed: ignored={ign!r}"
    assert terms(doc) == terms(plain), "ignored parameters narrowed the terms"
    one = ac(srv, book, q="lo", user="https://example.org/users/nobody")
    assert one.get("ignored") == ["user"], f"ignored={one.get('ignored')!r}"


def test_q_required(srv):
    for scope in (manifest_url(srv, "book"), collection_url(srv)):
        r = http(srv, "GET", path_of(srv, f"{scope}/autocomplete"))
        assert r.status == 400, f"autocomplete without q: {r.status} {r.body[:200]!r}"
        r = http(srv, "GET", path_of(srv, f"{scope}/autocomplete?min=2"))
        assert r.status == 400, f"autocomplete without q: {r.status} {r.body[:200]!r}"


def test_label_is_the_original_form(srv):
    """§5.3: a Term's label is shown instead of its value when the value was normalized: a
    folded term ("resume") carries the form it was written in ("résumé") as a language map;
    a term folded only in case (or not at all) has no label."""
    book = manifest_url(srv, "book")
    items = {t["value"]: t for t in ac(srv, book, q="r")["items"]}
    assert items["resume"].get("label") == {"none": ["résumé"]}, items["resume"]
    items = {t["value"]: t for t in ac(srv, book, q="na")["items"]}
    assert items["naive"].get("label") == {"none": ["naïve"]}, items["naive"]
    for q in ("lo", "zeb"):
        for t in ac(srv, book, q=q)["items"]:
            assert "label" not in t, f"{t['value']!r} was not folded, yet has a label: {t}"
