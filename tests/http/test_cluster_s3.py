"""Nodes serving one bucket (`--root s3://...` against s3rver) and sharing a pyramid-dir: the
pyramid of a large flat image in the bucket is built once for all of them, named by the object's
location and ETag, so a replaced object gets one new pyramid, again built once. Two nodes on a
bucket behind HAProxy with PostgreSQL (cluster.py) import a replaced OCR object once.
(test_pyramid_shared.py does the same for a local folder, test_cluster.py with PostgreSQL.)"""

import glob
import os
import sys
import time

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
    pf.start_all(nodes)
    try:
        assert all(s.alive() for s in nodes)
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


@pytest.fixture
def bucket_cluster(iiifd_bin, atree, tmp_path):
    """The annotation tree in s3rver, two nodes on it sharing PostgreSQL behind HAProxy."""
    store = s3fx.S3Server()
    for folder, _, files in os.walk(atree.root):
        for name in files:
            path = os.path.join(folder, name)
            store.put_file("tree/" + os.path.relpath(path, atree.root), path)
    c = cl.Cluster(iiifd_bin, "s3://bkt/tree", tmp_path, nodes=2,
                   args=["--auto-import", "true", "--discovery-scan-interval", "1",
                         *s3fx.s3_args(f"http://127.0.0.1:{store.port}", ttl=1)])
    try:
        yield store, atree, c.start()
    finally:
        c.close()
        store.stop()
    reports = [text[-3000:] for n in c.nodes for found, text in [n.new_sanitizer_reports()]
               if found]
    assert not reports, "sanitizer reports from the nodes:\n" + "\n".join(reports)


def _imports_ok(node):
    text = node.get("/metrics").body.decode()
    return int(float(next(line.split()[-1] for line in text.splitlines()
                          if line.startswith('iiifd_annotation_imports_total{result="ok"}'))))


def _pg_rows(cluster, sql):
    db = cluster.uri.rsplit("/", 1)[1]
    return [line.split("|") for line in cluster.pg.sql(sql, db=db).splitlines() if line]


def test_an_ocr_object_replaced_in_the_bucket_is_imported_once(bucket_cluster):
    """A replaced OCR object, seen by both nodes, is imported by one of them."""
    store, atree, cluster = bucket_cluster
    nodes = cluster.nodes
    wait_auto_import(nodes[0])
    imports = sum(_imports_ok(n) for n in nodes)
    top = int(_pg_rows(cluster, "SELECT coalesce(max(idx), -1) FROM activities")[0][0])
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
    assert sum(_imports_ok(n) for n in nodes) == imports + 1, "the change imported twice"
    assert search_total(nodes[1], manifest_url(nodes[1], "book"), q="zebra") == 0
    # the change reaches Change Discovery once: the scan's Update (the new ETag); the import,
    # which lists the same pages, adds none (nor does the other node's scan)
    new = [tuple(r) for r in _pg_rows(cluster, "SELECT type, path, version FROM activities"
                                               f" WHERE idx > {top} ORDER BY idx")]
    for version in ("2", "3"):
        assert new.count(("Update", "book", version)) == 1, new
        assert new.count(("Update", "", version)) == 1, new
    assert {r[1] for r in new} == {"", "book"}, new
