"""The database-pool setting: the PostgreSQL connections one iiifd process opens stay within it
under concurrent requests (which then wait their turn, answered 200), while the default lets
the same load open more; out-of-range values are refused at start."""

import http.client
import json
import os
import subprocess
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import pg_server  # noqa: E402
from annotation_fixtures import ALICE, TOKEN, atree  # noqa: E402,F401

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def pg():
    server = pg_server.PgServer().start()
    yield server
    server.close()


def _connections(pg, uri):
    db = uri.rsplit("/", 1)[1]
    return int(pg.sql(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}'"))


def _comment(node, word):
    return json.dumps({"@context": "http://iiif.io/api/presentation/3/context.json",
                       "type": "Annotation", "motivation": "commenting",
                       "body": {"type": "TextualBody", "value": word, "format": "text/plain"},
                       "target": f"{node.base}/iiif/presentation/book/manifest/canvas/1"})


def _load(node, threads=32, each=6):
    """Concurrent annotation writes and Canvas page reads (no admission queue in front of
    them, unlike searches): their statuses."""
    statuses = []

    def run(t):
        for i in range(each):
            conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=60)
            if i % 2:
                conn.request("GET", "/iiif/presentation/book/manifest/canvas/1/annotations/"
                             "commenting")
            else:
                conn.request("POST", "/iiif/presentation/book/manifest/annotations",
                             _comment(node, f"w{t}x{i}"), AUTH)
            statuses.append(conn.getresponse().status)
            conn.close()
    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(120)
    return statuses


@pytest.mark.parametrize("limit", [None, 4])
def test_connections_stay_within_the_pool(iiifd_bin, atree, pg, server_factory, limit):
    uri = pg.new_database("p")
    args = ["--database", uri, "--auto-import", "false", "--discovery", "false",
            "--api-token", f"{ALICE}={TOKEN}"]
    node = server_factory(args=args + (["--database-pool", str(limit)] if limit else []),
                          root_dir=atree.root)
    statuses = _load(node)
    assert statuses and set(statuses) <= {200, 201}, sorted(set(statuses))
    opened = _connections(pg, uri)  # idle connections stay in the pool, so this is the peak
    print(f"database-pool {limit or 'default'}: {opened} connections for 32 concurrent clients")
    if limit:
        assert 1 <= opened <= limit, f"{opened} connections with --database-pool {limit}"
    else:  # the load is concurrent enough for the bound above to mean something
        assert 4 < opened <= 16, f"{opened} connections under the default pool (16)"


@pytest.mark.parametrize("value", ["3", "1001", "many"])
def test_out_of_range_pool_sizes_are_refused(iiifd_bin, tmp_path, value):
    p = subprocess.run([iiifd_bin, "serve", "--database-pool", value, str(tmp_path)],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and "database-pool" in p.stderr, (p.returncode, p.stderr)
