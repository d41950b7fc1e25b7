"""The database-pool setting: the PostgreSQL connections one iiifd process opens stay within it
under concurrent requests (which then wait their turn, answered 200), while the default lets
the same load open more; out-of-range values are refused at start."""

import os
import subprocess
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import pg_server  # noqa: E402
from annotation_fixtures import atree  # noqa: E402,F401


@pytest.fixture(scope="module")
def pg():
    server = pg_server.PgServer().start()
    yield server
    server.close()


def _connections(pg, uri):
    db = uri.rsplit("/", 1)[1]
    return int(pg.sql(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}'"))


def _load(node, threads=12, each=15):
    """Concurrent searches, each a different word (no cached answer): their statuses."""
    statuses = []

    def run(t):
        for i in range(each):
            r = node.get(f"/iiif/presentation/book/manifest/search?q=w{t}x{i}")
            statuses.append(r.status)
    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(120)
    return statuses


@pytest.mark.parametrize("limit", [None, 2])
def test_connections_stay_within_the_pool(iiifd_bin, atree, pg, server_factory, limit):
    uri = pg.new_database("p")
    args = ["--database", uri, "--auto-import", "false", "--discovery", "false"]
    node = server_factory(args=args + (["--database-pool", str(limit)] if limit else []),
                          root_dir=atree.root)
    statuses = _load(node)
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    opened = _connections(pg, uri)  # idle connections stay in the pool, so this is the peak
    if limit:
        assert 1 <= opened <= limit, f"{opened} connections with --database-pool {limit}"
    else:  # the load is concurrent enough for the bound above to mean something
        assert opened > 2, f"only {opened} connections under the default pool"


@pytest.mark.parametrize("value", ["0", "1001", "many"])
def test_out_of_range_pool_sizes_are_refused(iiifd_bin, tmp_path, value):
    p = subprocess.run([iiifd_bin, "serve", "--database-pool", value, str(tmp_path)],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and "database-pool" in p.stderr, (p.returncode, p.stderr)
