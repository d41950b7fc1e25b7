"""Nodes serving one bucket (`--root s3://...` against s3rver) and sharing a pyramid-dir: the
pyramid of a large flat image in the bucket is built once for all of them, named by the object's
location and ETag, so a replaced object gets one new pyramid, again built once.
Three nodes on a bucket, sharing PostgreSQL and a pyramid folder behind HAProxy (cluster.py):
each annotation object is imported once and a replaced OCR object once again; the large image's
pyramid is built once; mixed traffic (tiles, renders, Presentation, search, annotation writes)
survives a node killed mid-run with no error beyond its in-flight requests, nothing written lost
and nothing imported or built twice. (test_pyramid_shared.py does the same for a local folder,
test_cluster.py with PostgreSQL on a folder: both share cluster.py's traffic and checks.)"""

import glob
import os
import sys
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import cluster as cl  # noqa: E402
import fixtures as fx  # noqa: E402
import pyramid_fixtures as pf  # noqa: E402
import s3_fixtures as s3fx  # noqa: E402
from annotation_fixtures import (atree, manifest_url, search_total,  # noqa: E402,F401
                                 wait_auto_import)

IDENT = "big.png"


@pytest.fixture
def bucket_nodes(iiifd_bin, tmp_path):
    """s3rver holding img/big.png, and two servers over s3://bkt/img sharing a pyramid folder."""
    store = s3fx.S3Server()
    pdir = str(tmp_path / "pyramids")
    pf.flat_png(str(tmp_path / IDENT), 1920, 1280, 1)
    store.put_file(f"img/{IDENT}", str(tmp_path / IDENT))
    args = ["--auto-import", "false", "--discovery", "false", "--annotations", "false",
            "--pyramid-threshold-mp", "2", "--pyramid-dir", pdir,
            "--data-dir", str(tmp_path / "data"), *s3fx.s3_args(f"http://127.0.0.1:{store.port}",
                                                               ttl=1)]
    nodes = [fx.Server(iiifd_bin, "s3://bkt/img", str(tmp_path), name=f"s{i}", args=args)
             for i in range(2)]
    errors = fx.start_together(nodes)
    try:
        assert not errors and all(s.alive() for s in nodes), errors
        yield store, tmp_path, pdir, nodes
    finally:
        for s in nodes:
            s.stop()
        store.stop()
    for s in nodes:
        found, text = s.new_sanitizer_reports()
        assert not found, f"sanitizer report from {s.name}:\n{text[-3000:]}"


def _ask_both(nodes, width):
    requests = [(n.port, f"/iiif/3/{IDENT}/{512 * k},0,512,512/256,/0/default.jpg")
                for k in range(3) for n in nodes]
    statuses = pf.at_once(requests)
    assert statuses == [200] * len(requests), statuses
    for n in nodes:
        fx.wait_for(lambda: pf.from_pyramid(n, IDENT, next(width)),
                    f"{n.name} serving {IDENT} from the pyramid", timeout=30)


def test_a_bucket_image_pyramid_is_built_once_and_again_once_when_replaced(bucket_nodes):
    store, tmp_path, pdir, nodes = bucket_nodes
    width = iter(range(300, 1000))
    _ask_both(nodes, width)
    pyramids = glob.glob(os.path.join(pdir, "*.tif"))
    assert len(pyramids) == 1, pyramids
    assert sum(pf.metric(n, pf.BUILDS_OK) for n in nodes) == 1
    # the object replaced in the bucket (new ETag): one new pyramid, built by one node
    pf.flat_png(str(tmp_path / "new.png"), 1920, 1280, 2)
    store.put_file(f"img/{IDENT}", str(tmp_path / "new.png"))
    fx.wait_for(lambda: all(pf.get_status(n.port, f"/iiif/3/{IDENT}/info.json") == 200
                            for n in nodes), "info after the replacement", timeout=10)
    time.sleep(1.5)  # past storage-ttl: both nodes see the new ETag
    _ask_both(nodes, width)
    fx.wait_for(lambda: len(glob.glob(os.path.join(pdir, "*.tif"))) == 2,
                "a second pyramid for the new version", timeout=30)
    built = [pf.metric(n, pf.BUILDS_OK) for n in nodes]
    assert sum(built) == 2, f"builds per node: {built}"
    assert sum(pf.metric(n, pf.BUILDS_FAILED) for n in nodes) == 0
    assert not glob.glob(os.path.join(pdir, "*.tmp*"))


LARGE = "large/a.png"  # flat, 2.4 MP: over pyramid-threshold-mp


@pytest.fixture(scope="module")
def bucket_cluster(iiifd_bin, atree, tmp_path_factory):
    """The annotation tree and a large flat image in s3rver; three nodes on it sharing
    PostgreSQL and a pyramid folder behind HAProxy. One cluster for the module: the test that
    kills a node runs last."""
    work = tmp_path_factory.mktemp("bucket-cluster")
    store = s3fx.S3Server()
    for folder, _, files in os.walk(atree.root):
        for name in files:
            path = os.path.join(folder, name)
            store.put_file("tree/" + os.path.relpath(path, atree.root), path)
    pf.flat_png(str(work / "large.png"), 1920, 1280, 3)
    store.put_file(f"tree/{LARGE}", str(work / "large.png"))
    c = cl.Cluster(iiifd_bin, "s3://bkt/tree", work, nodes=3,
                   args=["--auto-import", "true", "--discovery-scan-interval", "1", *cl.NODE_ARGS,
                         "--pyramid-threshold-mp", "2", "--pyramid-dir", str(work / "pyramids"),
                         *s3fx.s3_args(f"http://127.0.0.1:{store.port}", ttl=1)])
    c.pyramid_dir = str(work / "pyramids")
    try:
        yield store, atree, c.start()
    finally:
        c.close()
        store.stop()
    reports = [text[-3000:] for n in c.nodes for found, text in [n.new_sanitizer_reports()]
               if found]
    assert not reports, "sanitizer reports from the nodes:\n" + "\n".join(reports)


def test_an_ocr_object_replaced_in_the_bucket_is_imported_once(bucket_cluster):
    """Each annotation object is imported by one node; a replaced OCR object, seen by every
    node, is imported by one of them."""
    store, atree, cluster = bucket_cluster
    nodes = cluster.nodes
    wait_auto_import(cl.Balanced(cluster.port))
    imports = sum(cl.imports_ok(n) for n in nodes)
    assert imports == 6, "an annotation object imported twice"
    top = int(cl.pg_rows(cluster, "SELECT coalesce(max(idx), -1) FROM activities")[0][0])
    with open(os.path.join(atree.root, "book", "page1.xml"), encoding="utf-8") as f:
        text = f.read()
    assert "zebra" in text
    store.put("tree/book/page1.xml", text.replace("zebra", "okapi").encode())
    time.sleep(1.5)  # past storage-ttl: the nodes' next look sees the new ETag
    for n in nodes:
        assert n.get("/iiif/presentation/book/manifest").status == 200
    fx.wait_for(lambda: search_total(nodes[0], manifest_url(nodes[0], "book"), q="okapi") == 1,
                "the replaced object searchable", timeout=30)
    for n in nodes:
        assert n.get("/iiif/presentation/book/manifest").status == 200
    time.sleep(2.5)
    assert sum(cl.imports_ok(n) for n in nodes) == imports + 1, "the change imported twice"
    assert search_total(nodes[1], manifest_url(nodes[1], "book"), q="zebra") == 0
    # the change reaches Change Discovery once: the scan's Update (the new ETag); the import,
    # which lists the same pages, adds none (nor does the other node's scan)
    new = [tuple(r) for r in cl.pg_rows(cluster, "SELECT type, path, version FROM activities"
                                               f" WHERE idx > {top} ORDER BY idx")]
    for version in ("2", "3"):
        assert new.count(("Update", "book", version)) == 1, new
        assert new.count(("Update", "", version)) == 1, new
    assert {r[1] for r in new} == {"", "book"}, new


def _pyramid_built_once(cluster):
    """Every node, directly and through the balancer, asks for tiles of the large image at the
    same moment: one pyramid, one build across the cluster."""
    enc = urllib.parse.quote(LARGE, safe="")
    requests = [(port, f"/iiif/3/{enc}/{512 * k},0,512,512/256,/0/default.jpg")
                for k in range(3) for port in [n.port for n in cluster.nodes] + [cluster.port] * 2]
    statuses = pf.at_once(requests)
    assert statuses == [200] * len(requests), statuses
    width = iter(range(300, 1000))
    for n in cluster.nodes:
        fx.wait_for(lambda: pf.from_pyramid(n, LARGE, next(width)),
                    f"{n.name} serving {LARGE} from the pyramid", timeout=30)
    assert len(glob.glob(os.path.join(cluster.pyramid_dir, "*.tif"))) == 1
    assert sum(pf.metric(n, pf.BUILDS_OK) for n in cluster.nodes) == 1


def test_traffic_on_a_bucket_survives_a_killed_node(bucket_cluster):
    """Tiles (of stored images, and of the large image's pyramid), renders, Presentation,
    search and annotation writes through HAProxy while a node is killed: no error beyond its
    in-flight requests, nothing written lost, nothing imported or built twice."""
    _store, _atree, cluster = bucket_cluster
    wait_auto_import(cl.Balanced(cluster.port))
    _pyramid_built_once(cluster)
    live = [cluster.nodes[0], cluster.nodes[2]]
    work = cl.work_done(live)
    paths = [*cl.TRAFFIC, f"/iiif/3/{urllib.parse.quote(LARGE, safe='')}/512,0,512,512/256,"
                          "/0/default.jpg"]
    traffic = cl.run_traffic_with_a_kill(cluster, victim=1, paths=paths)
    seen = cl.check_traffic(traffic, cluster, live, work)
    assert len(glob.glob(os.path.join(cluster.pyramid_dir, "*.tif"))) == 1
    print("bucket cluster:", seen)
