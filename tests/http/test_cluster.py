"""Many nodes: PostgreSQL + HAProxy (both Debian's, started by the test) in front of three iiifd
processes over one root (local disk). Through the balancer: tiles, renders, Presentation, search
and annotation writes with 0 errors; a write on one node is visible on the next request to
another; each annotation file is imported by one node only; one node killed mid-run costs no
error beyond its in-flight requests (HAProxy retries those), and nothing written is lost.
Bounded: well under a minute.
"""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import cluster as cl  # noqa: E402
import fixtures as fx  # noqa: E402
from annotation_fixtures import (ALICE, LOREM_TOTAL, TOKEN, atree, manifest_url,  # noqa: E402,F401
                                 path_of, search_total, wait_auto_import, canvas_url)

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
RUN_SECONDS = 12
KILL_AT = 5
KILL_GRACE = 0.25  # seconds after the kill a connection to the dying node may still open


@pytest.fixture(scope="module")
def cluster(iiifd_bin, atree, tmp_path_factory):
    """One cluster for the module (the test that kills a node runs last)."""
    c = cl.Cluster(iiifd_bin, atree.root, tmp_path_factory.mktemp("cluster"), nodes=3,
                   args=["--auto-import", "true", "--api-token", f"{ALICE}={TOKEN}"])
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
