"""Nodes serving one bucket (`--root s3://...` against s3rver) and sharing a pyramid-dir: the
pyramid of a large flat image in the bucket is built once for all of them, named by the object's
location and ETag, so a replaced object gets one new pyramid, again built once.
(test_pyramid_shared.py does the same for a local folder, test_cluster.py with PostgreSQL.)"""

import glob
import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import pyramid_fixtures as pf  # noqa: E402
import s3_fixtures as s3fx  # noqa: E402

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
    starting = [threading.Thread(target=s.start) for s in nodes]
    for t in starting:
        t.start()
    for t in starting:
        t.join(60)
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
