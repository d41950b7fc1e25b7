"""Many nodes: PostgreSQL + HAProxy (both Debian's, started by the test) in front of three iiifd
processes over one root (local disk). Through the balancer: tiles, renders, Presentation, search
and annotation writes with 0 errors; a write on one node is visible on the next request to
another; each annotation file is imported by one node only, and a changed one is imported again
once and recorded once in Change Discovery; the pyramids of large flat images, asked for on every
node at once, are built once in the shared pyramid-dir and then served by every node; a build
whose node dies is taken over; one node killed mid-run costs no error beyond its in-flight
requests (HAProxy retries those), and nothing written is lost.
Bounded: well under a minute.
"""

import glob
import http.client
import json
import os
import shutil
import signal
import sys
import threading
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import cluster as cl  # noqa: E402
import fixtures as fx  # noqa: E402
import pyramid_fixtures as pf  # noqa: E402
from annotation_fixtures import (ALICE, LOREM_TOTAL, TOKEN, atree, manifest_url,  # noqa: E402,F401
                                 path_of, search_total, wait_auto_import, canvas_url)

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
RUN_SECONDS = 12
KILL_AT = 5
KILL_GRACE = 0.25  # seconds after the kill a connection to the dying node may still open
LARGE = ["large/a.png", "large/b.png", "large/c.png"]  # flat, 2.4 MP: over pyramid-threshold-mp


@pytest.fixture(scope="module")
def croot(atree, tmp_path_factory):
    """A copy of the annotation tree (tests here change files in it) plus large flat images."""
    root = str(tmp_path_factory.mktemp("cluster-root") / "root")
    shutil.copytree(atree.root, root)
    for i, name in enumerate(LARGE):
        pf.flat_png(os.path.join(root, name), 1920, 1280, i)
    return root


@pytest.fixture(scope="module")
def cluster(iiifd_bin, croot, tmp_path_factory):
    """One cluster for the module (the test that kills a node runs last). The nodes share one
    pyramid folder (on a real cluster: a network filesystem) and scan for changes every second."""
    work = tmp_path_factory.mktemp("cluster")
    c = cl.Cluster(iiifd_bin, croot, work, nodes=3,
                   args=["--auto-import", "true", "--api-token", f"{ALICE}={TOKEN}",
                         "--pyramid-threshold-mp", "2", "--pyramid-dir", str(work / "pyramids"),
                         "--discovery-scan-interval", "1"])
    c.pyramid_dir = str(work / "pyramids")
    try:
        yield c.start()
    finally:
        c.close()
    reports = [text[-3000:] for n in c.nodes for found, text in [n.new_sanitizer_reports()]
               if found]
    assert not reports, "sanitizer reports from the nodes:\n" + "\n".join(reports)


class Balanced:
    """Requests through the balancer, as fx.Server-like object for the annotation helpers."""

    def __init__(self, port):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path, **kw):
        return fx.request(self.port, path, **kw)


def _call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _comment(base, value):
    return json.dumps({"@context": "http://iiif.io/api/presentation/3/context.json",
                       "type": "Annotation", "motivation": "commenting",
                       "body": {"type": "TextualBody", "value": value, "format": "text/plain"},
                       "target": f"{base}/iiif/presentation/book/manifest/canvas/1"})


def _imports_ok(node):
    text = node.get("/metrics").body.decode()
    return int(float(next(line.split()[-1] for line in text.splitlines()
                          if line.startswith('iiifd_annotation_imports_total{result="ok"}'))))


def test_writes_on_one_node_are_read_on_the_next(cluster):
    lb = Balanced(cluster.port)
    wait_auto_import(lb)
    assert sum(_imports_ok(n) for n in cluster.nodes) == 6, "an annotation file imported twice"
    nodes = cluster.nodes
    for i in range(12):
        writer, reader = nodes[i % 3], nodes[(i + 1) % 3]
        word = f"handover{i}x"
        container = f"/iiif/presentation/book/manifest/annotations"
        status, body = _call(writer.port, "POST", container, _comment(writer.base, word), AUTH)
        assert status == 201, (status, body[:300])
        anno_path = path_of(writer, json.loads(body)["id"])
        assert reader.get(anno_path).status == 200, f"{anno_path} not on the next node"
        assert search_total(reader, manifest_url(reader, "book"), q=word) == 1
        page = reader.get("/iiif/presentation/book/manifest/canvas/1/annotations/commenting")
        assert page.status == 200 and word.encode() in page.body, "Canvas page is stale"


def test_pyramids_are_built_once_across_the_cluster(cluster):
    """Every node, directly and through the balancer, asks for tiles of three large flat images
    at the same moment: each pyramid is built once (duplicate work 0, counted by the nodes'
    metrics), in the shared pyramid-dir, and afterwards every node serves from it."""
    nodes = cluster.nodes
    requests = []
    for ident in LARGE:
        enc = urllib.parse.quote(ident, safe="")
        for k in range(3):
            tile = f"/iiif/3/{enc}/{512 * k},0,512,512/256,/0/default.jpg"
            requests += [(n.port, tile) for n in nodes] + [(cluster.port, tile)] * 3
    statuses = pf.at_once(requests)
    assert statuses == [200] * len(requests), statuses
    pyramids = lambda: glob.glob(os.path.join(cluster.pyramid_dir, "*.tif"))  # noqa: E731
    fx.wait_for(lambda: len(pyramids()) == len(LARGE), "a pyramid of each image", timeout=40)
    width = iter(range(300, 1000))
    for ident in LARGE:  # each node takes it from the shared folder (and looks again when due)
        for n in nodes:
            fx.wait_for(lambda: pf.from_pyramid(n, ident, next(width)),
                        f"{n.name} serving {ident} from its pyramid", timeout=15)
    built = sum(pf.metric(n, pf.BUILDS_OK) for n in nodes)
    assert built == len(pyramids()) == len(LARGE), (
        f"{built} builds for {len(pyramids())} pyramids: duplicate work "
        f"{[(n.name, pf.metric(n, pf.BUILDS_OK), pf.metric(n, pf.CLAIMS_BUSY)) for n in nodes]}")
    assert sum(pf.metric(n, pf.BUILDS_FAILED) for n in nodes) == 0
    assert not glob.glob(os.path.join(cluster.pyramid_dir, "*.tmp*")), "a build left its file"
    print(f"pyramids: {built} builds for {len(LARGE)} images on {len(nodes)} nodes; builds left "
          f"to another node: {sum(pf.metric(n, pf.CLAIMS_BUSY) for n in nodes)}")


def _pg_rows(cluster, sql):
    db = cluster.uri.rsplit("/", 1)[1]
    return [line.split("|") for line in cluster.pg.sql(sql, db=db).splitlines() if line]


def test_a_change_is_imported_once_and_recorded_once(cluster, croot):
    """A changed OCR file, noticed by every node (the Manifest asked for on each, and a scan
    every second), is imported by one of them and recorded once in Change Discovery."""
    lb, nodes = Balanced(cluster.port), cluster.nodes
    wait_auto_import(lb)
    imports = sum(_imports_ok(n) for n in nodes)
    top = int(_pg_rows(cluster, "SELECT coalesce(max(idx), -1) FROM activities")[0][0])
    alto = os.path.join(croot, "book", "page1.xml")
    with open(alto, encoding="utf-8") as f:
        text = f.read()
    assert "zebra" in text
    with open(alto + ".new", "w", encoding="utf-8") as f:
        f.write(text.replace("zebra", "okapi"))
    os.replace(alto + ".new", alto)
    for n in nodes:
        assert n.get("/iiif/presentation/book/manifest").status == 200
    fx.wait_for(lambda: search_total(lb, manifest_url(lb, "book"), q="okapi") == 1,
                "the changed file searchable", timeout=20)
    fx.wait_for(lambda: _pg_rows(cluster, f"SELECT count(*) FROM activities WHERE idx > {top}"
                                 " AND path = 'book'")[0][0] != "0",
                "the change in the activity stream", timeout=15)
    for n in nodes:  # every node has looked again since, and scanned more than once
        assert n.get("/iiif/presentation/book/manifest").status == 200
    time.sleep(2.5)
    assert sum(_imports_ok(n) for n in nodes) == imports + 1, "the change imported twice"
    assert search_total(lb, manifest_url(lb, "book"), q="zebra") == 0
    new = _pg_rows(cluster, "SELECT type, path, coalesce(target_path, ''), version FROM activities"
                            f" WHERE idx > {top} ORDER BY idx")
    keys = [tuple(r) for r in new]
    assert keys and len(keys) == len(set(keys)), f"a change recorded more than once: {keys}"
    # the Manifest, and the Collection above it (its member changed): once each per version
    assert {k[1] for k in keys} <= {"", "book"} and ("Update", "book", "", "3") in keys, keys


def test_a_pyramid_build_whose_node_dies_is_taken_over(iiifd_bin, cluster, croot, tmp_path):
    """Node A claims a build and is frozen half way (SIGSTOP, holding the claim): node B serves
    the original and leaves the build to A. A dies (SIGKILL: PostgreSQL ends its session and
    with it the advisory lock): B, looking again, takes the build over and serves the pyramid."""
    ident = "huge/d.png"
    uri, pdir = cluster.pg.new_database("t"), str(tmp_path / "pyramids")
    args = ["--database", uri, "--auto-import", "false", "--discovery", "false",
            "--pyramid-threshold-mp", "2", "--pyramid-dir", pdir]
    a, b = (fx.Server(iiifd_bin, croot, str(tmp_path), name=name, args=args)
            for name in ("builder", "heir"))
    starting = [threading.Thread(target=s.start) for s in (a, b)]
    for t in starting:
        t.start()
    pf.flat_png(os.path.join(croot, ident), 4000, 3000, 7)  # 12 MP: a build takes a second
    for t in starting:
        t.join(60)
    assert a.alive() and b.alive()
    try:
        pf.check_takeover(a, b, ident, pdir)
    finally:
        a.kill()
        b.kill()
    found, text = b.new_sanitizer_reports()
    assert not found, text[-3000:]


def _worker(port, stop, log, written, n):
    """Mixed traffic until stop: tiles, renders, Presentation, search, writes."""
    base = f"http://127.0.0.1:{port}"
    paths = ["/iiif/3/book%2Fpage1.png/0,0,256,256/256,/0/default.jpg",
             "/iiif/3/book%2Fpage2.png/full/200,/0/default.jpg",
             "/iiif/3/photos%2Fa.jpg/info.json",
             "/iiif/presentation/book/manifest",
             "/iiif/presentation/book/manifest/search?q=lorem",
             None]
    i = n
    while not stop.is_set():
        path = paths[i % len(paths)]
        i += 1
        t0 = time.monotonic()
        try:
            if path is None:
                word = f"w{n}n{i}z"
                status, body = _call(port, "POST", "/iiif/presentation/book/manifest/annotations",
                                     _comment(base, word), AUTH)
                if status == 201:
                    written.append((json.loads(body)["id"], word))
            else:
                status, body = _call(port, "GET", path)
        except OSError as e:
            status, body = 0, str(e).encode()
        log.append((t0, time.monotonic(), path or "POST", status, body[:200]))


def test_traffic_through_the_balancer_survives_a_killed_node(cluster):
    lb = Balanced(cluster.port)
    wait_auto_import(lb)
    stop, log, written = threading.Event(), [], []
    threads = [threading.Thread(target=_worker, args=(cluster.port, stop, log, written, n))
               for n in range(6)]
    t_start = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(KILL_AT)
    t_kill = time.monotonic()
    cluster.kill(1)
    time.sleep(RUN_SECONDS - KILL_AT)
    stop.set()
    for t in threads:
        t.join(60)
    errors = [e for e in log if e[3] not in (200, 201)]
    # in flight at the kill: started before it, or while the dying node's kernel still
    # accepted connections (SIGKILL is not instant: its socket closes as the process is torn
    # down, and a POST HAProxy sent there is not retried); ended after it
    in_flight = [e for e in errors if e[0] <= t_kill + KILL_GRACE and e[1] >= t_kill]
    assert len(log) > 50, f"only {len(log)} requests in {RUN_SECONDS} s"
    assert len(errors) == len(in_flight), (
        f"{len(errors)} errors, {len(in_flight)} of them in flight at the kill: "
        f"{[(round(e[0] - t_start, 2), e[2], e[3], e[4]) for e in errors[:8]]}")
    assert len(in_flight) <= len(threads)
    kinds = {e[2] for e in log if e[3] in (200, 201)}
    assert len(kinds) == 6, f"not every kind of request succeeded: {kinds}"
    # nothing written is lost: every 201 is there, on every live node
    assert written, "no writes"
    for anno_id, word in written:
        for node in (cluster.nodes[0], cluster.nodes[2]):
            path = urllib.parse.urlsplit(anno_id).path  # an id made by the balancer's address
            assert node.get(path).status == 200, f"{anno_id} lost"
    assert search_total(lb, manifest_url(lb, "book"), q="lorem") == LOREM_TOTAL
    print(f"cluster: {len(log)} requests in {RUN_SECONDS} s through HAProxy, "
          f"{len(errors)} errors ({len(in_flight)} in flight at the kill), "
          f"{len(written)} writes kept")
