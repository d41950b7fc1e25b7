"""Several annotation files imported at once (import-workers) into PostgreSQL.

- `iiifd import --import-workers 4` of 24 OCR pages of one Manifest: every file once, all counts
  printed, exit 0; then `--force` twice (each file's old records, tokens and term counts are
  taken out while other files of the same Manifest add theirs: a deadlock between two of them
  is tried again, never a failed file)
- after that, the store answers exactly as a SQLite store of the same files imported one at a
  time: the same hits in the same order for words and a phrase, the same autocomplete counts
  (which each file's import updated concurrently with the others)
- import-workers is 1 with SQLite whatever it says (one writer at a time): the import succeeds
"""

import json
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import pg_server  # noqa: E402
import presentation_fixtures as pf  # noqa: E402
from annotation_fixtures import (alto_v4, collection_url, import_counts, manifest_url,  # noqa: E402
                                 page_png, search, walk_search)

PAGES = 24
VOCAB = ["alpha", "beta", "gamma", "delta", "quartz", "black", "lorem", "ipsum", "zephyr",
         "river", "stone", "paper"]


@pytest.fixture(scope="module")
def pg():
    server = pg_server.PgServer().start()
    yield server
    server.close()


def lines_of(page):
    rnd = random.Random(page)
    out = []
    for n in range(12):
        words = [rnd.choice(VOCAB) for _ in range(8)]
        if n == 3:
            words[2:4] = ["black", "quartz"]
        out.append([(w, 10 + k * 60, 20 + n * 30, 50, 20) for k, w in enumerate(words)])
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("import-workers-root")
    book = root / "book"
    book.mkdir()
    for p in range(PAGES):
        page_png(str(book / f"p{p:02d}.png"), (250, 250, 250), size=(600, 400))
        (book / f"p{p:02d}.xml").write_text(alto_v4(lines_of(p), 600, 400, f"p{p:02d}.png"))
    return str(root)


def import_into(iiifd_bin, root, data, store_args, *extra):
    return pf.run_cli(iiifd_bin, "import", "--root", root, "--data-dir", data, *store_args,
                      *extra, root, timeout=300)


def check_import(p, what):
    assert p.returncode == 0, f"{what}: exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    counts = import_counts(p.stdout)
    assert sorted(counts) == [f"book/p{p_:02d}.xml" for p_ in range(PAGES)], (what, p.stdout)
    assert all(n > 0 for n in counts.values()), (what, counts)
    assert f"from {PAGES} files" in p.stdout, (what, p.stdout[-500:])


def hit_of(server, item):
    """A hit as both stores give it (ids and creation times differ between two imports)."""
    item = dict(item, id=item["id"].rsplit("/match/", 1)[-1])
    item.pop("created", None)
    return json.dumps(item, sort_keys=True).replace(server.base, "")


def answers(server):
    """What a client sees: hit ids in order for words and a phrase, and autocomplete counts."""
    out = {}
    for scope in (collection_url(server), manifest_url(server, "book")):
        where = scope.split("/iiif/")[1]
        for q in ("quartz", "alpha", '"black quartz"', "stone river"):
            pages = walk_search(server, search(server, scope, q=q))
            out[(where, q)] = [hit_of(server, item) for doc in pages for item in doc["items"]]
        for prefix in sorted({w[0] for w in VOCAB}):
            terms = search(server, scope, kind="autocomplete", q=prefix)
            out[(where, "autocomplete " + prefix)] = [(t["value"], t.get("total"))
                                                     for t in terms.get("items", [])]
    return out


def served(iiifd_bin, root, work, store_args, name):
    s = fx.Server(iiifd_bin, root, work, name=name,
                  args=["--auto-import", "false", *store_args])
    s.start()
    try:
        return answers(s)
    finally:
        s.stop()


def test_parallel_imports_same_answers_as_sqlite(iiifd_bin, tree, pg, tmp_path):
    uri = ["--database", pg.new_database("w")]
    for run in ("first", "force 1", "force 2"):
        extra = ["--force"] if run != "first" else []
        check_import(import_into(iiifd_bin, tree, str(tmp_path / "pgdata"), uri,
                                 "--import-workers", "4", *extra), f"PostgreSQL, {run}")
    check_import(import_into(iiifd_bin, tree, str(tmp_path / "sqlite"), [],
                             "--import-workers", "4"), "SQLite")
    on_pg = served(iiifd_bin, tree, str(tmp_path), uri, "pg")
    on_sqlite = served(iiifd_bin, tree, str(tmp_path),
                       ["--data-dir", str(tmp_path / "sqlite")], "sqlite")
    assert on_pg[("presentation/collection", "quartz")], on_pg
    assert len(on_pg[("presentation/collection", '"black quartz"')]) >= PAGES, on_pg
    assert dict(on_pg[("presentation/book/manifest", "autocomplete q")]).get("quartz"), on_pg
    for key in on_sqlite:
        assert on_pg[key] == on_sqlite[key], f"{key}: PostgreSQL {on_pg[key][:12]} " \
                                             f"SQLite {on_sqlite[key][:12]}"
