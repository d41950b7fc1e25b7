"""The PostgreSQL annotation store (--database postgresql://...), on a throwaway PostgreSQL server
started by the test (tests/http/pg_server.py) as an unprivileged user; iiifd connects as a role
that is not a superuser.

- one suite, two backends: the store's unit tests (test_db, test_db_keyset, test_db_load,
  test_db_words) and the search end-to-end files run again on PostgreSQL (IIIFD_TEST_PG,
  IIIFD_TEST_BACKEND)
- nodes starting together migrate the schema once (advisory lock)
- Change Discovery: two nodes on one database and one root record a change once
- a database restart: /ready false and 503s while it is down, then everything works again
  without restarting iiifd, and nothing committed before is lost
"""

import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import pg_server  # noqa: E402
from annotation_fixtures import (ALICE, LOREM_TOTAL, TOKEN, atree, http, manifest_url,  # noqa: E402,F401
                                 path_of, search_total, wait_auto_import, canvas_url)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
UNIT_DIR = os.path.join(REPO, "build", "asan", "tests", "unit")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def pg():
    server = pg_server.PgServer().start()
    yield server
    server.close()


@pytest.mark.parametrize("unit", ["test_db", "test_db_keyset", "test_db_load", "test_db_words"])
def test_store_unit_suite_on_postgresql(pg, unit):
    binary = os.path.join(UNIT_DIR, unit)
    if not os.access(binary, os.X_OK):
        subprocess.run(["make", "-s", f"build/asan/tests/unit/{unit}"], cwd=REPO, check=True,
                       capture_output=True)
    env = dict(os.environ, IIIFD_TEST_PG=pg.new_database("u"))
    p = subprocess.run([binary], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, f"{unit} on PostgreSQL:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    assert " 0 of them failed" in p.stdout, p.stdout[-2000:]


def test_search_e2e_suite_on_postgresql(iiifd_bin):
    """The search end-to-end files, unchanged, on PostgreSQL: the same hits in the same order."""
    files = ["test_search_v2.py", "test_search_v1.py", "test_search_autocomplete.py",
             "test_search_limits.py", "test_annotation_paging.py"]
    env = dict(os.environ, IIIFD_TEST_BACKEND="postgresql", IIIFD_BIN=iiifd_bin)
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        *[os.path.join(HERE, f) for f in files]],
                       capture_output=True, text=True, env=env, timeout=600, cwd=REPO)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert " passed" in p.stdout and "failed" not in p.stdout, p.stdout[-2000:]


def _nodes(iiifd_bin, root, work, args, n):
    return [fx.Server(iiifd_bin, root, work, args=args, name=f"node{i}") for i in range(n)]


def test_nodes_starting_together_migrate_once(iiifd_bin, atree, tmp_path, pg):
    uri = pg.new_database("m")
    nodes = _nodes(iiifd_bin, atree.root, str(tmp_path),
                   ["--database", uri, "--auto-import", "false"], 3)
    with fx.serving_all(nodes) as servers:
        db = uri.rsplit("/", 1)[1]
        assert pg.sql("SELECT count(*), max(version) FROM iiifd_schema", db=db).strip() == "1|7"
        for s in servers:
            assert s.get("/ready").status == 200


def test_auto_import_runs_once_across_nodes(iiifd_bin, atree, tmp_path, pg):
    """Three nodes see the same new files: each file is imported by one node only."""
    uri = pg.new_database("i")
    nodes = _nodes(iiifd_bin, atree.root, str(tmp_path),
                   ["--database", uri, "--auto-import", "true"], 3)
    with fx.serving_all(nodes) as servers:
        for s in servers:
            wait_auto_import(s)
        ok = 0
        for s in servers:
            text = s.get("/metrics").body.decode()
            ok += int(float(next(line.split()[-1] for line in text.splitlines() if
                                 line.startswith('iiifd_annotation_imports_total{result="ok"}'))))
        assert ok == 6, f"{ok} imports of 6 annotation files across 3 nodes"


def _png(path):
    from PIL import Image
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", (20, 10), (90, 10, 10)).save(path)


def _creates(pg, db, path):
    return int(pg.sql(f"SELECT count(*) FROM activities WHERE type = 'Create'"
                      f" AND path = '{path}'", db=db))


def test_two_nodes_record_a_change_once(iiifd_bin, tmp_path, pg):
    """Two nodes watch one root and share one database: both see every change (inotify and a
    1 s schedule), and the advisory lock around reading the states and appending makes one of
    them record it: one Create per Presentation API variant, indexes without gaps."""
    uri = pg.new_database("d")
    db = uri.rsplit("/", 1)[1]
    root = str(tmp_path / "root")
    _png(f"{root}/books/b1/p1.png")
    nodes = _nodes(iiifd_bin, root, str(tmp_path),
                   ["--database", uri, "--auto-import", "false", "--discovery-scan-interval", "1"],
                   2)
    with fx.serving_all(nodes) as servers:
        fx.wait_for(lambda: _creates(pg, db, "books/b1") >= 2, "the first scan", timeout=15)
        _png(f"{root}/books/b2/p1.png")
        fx.wait_for(lambda: _creates(pg, db, "books/b2") >= 2, "the new Manifest", timeout=15)
        time.sleep(2.5)  # both nodes have scanned again since
        assert _creates(pg, db, "books/b1") == 2 and _creates(pg, db, "books/b2") == 2
        total, top = pg.sql("SELECT count(*), max(idx) FROM activities", db=db).strip().split("|")
        assert int(top) == int(total) - 1
        for s in servers:
            stream = s.get("/iiif/discovery/activity/all-changes")
            assert stream.status == 200 and f'"totalItems":{total}' in \
                stream.body.decode().replace(" ", "")


def _lorem(s):
    return search_total(s, manifest_url(s, "book"), q="lorem")


def test_database_restart_costs_only_in_flight_requests(iiifd_bin, atree, tmp_path, pg,
                                                        server_factory):
    uri = pg.new_database("r")
    s = server_factory(args=["--database", uri, "--auto-import", "true",
                             "--api-token", f"{ALICE}={TOKEN}"], root_dir=atree.root)
    wait_auto_import(s)
    body = {"@context": "http://iiif.io/api/presentation/3/context.json", "type": "Annotation",
            "motivation": "commenting",
            "body": {"type": "TextualBody", "value": "beforerestart", "format": "text/plain"},
            "target": canvas_url(s, "book", 1)}
    url = path_of(s, manifest_url(s, "book") + "/annotations")
    assert http(s, "POST", url, body=body, headers=AUTH).status == 201
    pg.stop()
    try:
        fx.wait_for(lambda: s.get("/ready").status == 503, "/ready false while PostgreSQL is down",
                    timeout=15)
        r = http(s, "GET", path_of(s, manifest_url(s, "book") + "/search?q=lorem"))
        assert r.status == 503, f"search while the database is down: {r.status} {r.body[:200]!r}"
        assert s.get("/health").status == 200, "the process itself stays up"
    finally:
        pg.start()
    fx.wait_for(lambda: s.get("/ready").status == 200, "/ready again", timeout=30)
    assert _lorem(s) == LOREM_TOTAL
    assert search_total(s, manifest_url(s, "book"), q="beforerestart") == 1, "a write was lost"
    body["body"]["value"] = "afterrestart"
    assert http(s, "POST", url, body=body, headers=AUTH).status == 201
    assert search_total(s, manifest_url(s, "book"), q="afterrestart") == 1
    assert s.alive()
