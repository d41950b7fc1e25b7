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
import json
import os
import shutil
import sys
import threading
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import cluster as cl  # noqa: E402
import fixtures as fx  # noqa: E402
import pyramid_fixtures as pf  # noqa: E402
from annotation_fixtures import (atree, manifest_url, path_of, search_total,  # noqa: E402,F401
                                 wait_auto_import)

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
                   args=["--auto-import", "true", *cl.NODE_ARGS,
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


def test_writes_on_one_node_are_read_on_the_next(cluster):
    lb = cl.Balanced(cluster.port)
    wait_auto_import(lb)
    assert sum(cl.imports_ok(n) for n in cluster.nodes) == 6, "an annotation file imported twice"
    nodes = cluster.nodes
    for i in range(12):
        writer, reader = nodes[i % 3], nodes[(i + 1) % 3]
        word = f"handover{i}x"
        container = f"/iiif/presentation/book/manifest/annotations"
        status, body = cl.call(writer.port, "POST", container, cl.comment(writer.base, word), cl.AUTH)
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


def test_a_change_is_imported_once_and_recorded_once(cluster, croot):
    """A changed OCR file, noticed by every node (the Manifest asked for on each, and a scan
    every second), is imported by one of them and recorded once in Change Discovery."""
    lb, nodes = cl.Balanced(cluster.port), cluster.nodes
    wait_auto_import(lb)
    imports = sum(cl.imports_ok(n) for n in nodes)
    top = int(cl.pg_rows(cluster, "SELECT coalesce(max(idx), -1) FROM activities")[0][0])
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
    fx.wait_for(lambda: cl.pg_rows(cluster, f"SELECT count(*) FROM activities WHERE idx > {top}"
                                 " AND path = 'book'")[0][0] != "0",
                "the change in the activity stream", timeout=15)
    for n in nodes:  # every node has looked again since, and scanned more than once
        assert n.get("/iiif/presentation/book/manifest").status == 200
    time.sleep(2.5)
    assert sum(cl.imports_ok(n) for n in nodes) == imports + 1, "the change imported twice"
    assert search_total(lb, manifest_url(lb, "book"), q="zebra") == 0
    new = cl.pg_rows(cluster, "SELECT type, path, coalesce(target_path, ''), version FROM activities"
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


def test_traffic_through_the_balancer_survives_a_killed_node(cluster):
    wait_auto_import(cl.Balanced(cluster.port))
    live = [cluster.nodes[0], cluster.nodes[2]]
    work = cl.work_done(live)
    traffic = cl.run_traffic_with_a_kill(cluster, victim=1)
    print("cluster:", cl.check_traffic(traffic, cluster, live, work))
