"""Background pyramids in a folder that several iiifd processes of one machine share
(pyramid-dir), with no shared database server: the lock file in that folder makes each pyramid
built once, by one process, and a build whose process dies is taken over by another.
(test_cluster.py does the same for nodes sharing a PostgreSQL store.)"""

import glob
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import pyramid_fixtures as pf  # noqa: E402

FLAT = ["a.png", "b.png"]


@pytest.fixture
def two_nodes(iiifd_bin, tmp_path):
    """Two servers over one root sharing a pyramid folder and a data folder (one store)."""
    root, pdir = tmp_path / "root", str(tmp_path / "pyramids")
    for i, name in enumerate(FLAT):
        pf.flat_png(str(root / name), 1920, 1280, i)
    args = ["--auto-import", "false", "--discovery", "false", "--pyramid-threshold-mp", "2",
            "--pyramid-dir", pdir, "--data-dir", str(tmp_path / "data")]
    nodes = [fx.Server(iiifd_bin, str(root), str(tmp_path), name=f"p{i}", args=args)
             for i in range(2)]
    with fx.serving_all(nodes):
        assert all(s.alive() for s in nodes)
        yield root, pdir, nodes


def test_processes_sharing_a_pyramid_folder_build_each_once(two_nodes):
    root, pdir, nodes = two_nodes
    requests = [(n.port, f"/iiif/3/{name}/{512 * k},0,512,512/256,/0/default.jpg")
                for name in FLAT for k in range(3) for n in nodes]
    statuses = pf.at_once(requests)
    assert statuses == [200] * len(requests), statuses
    fx.wait_for(lambda: len(glob.glob(os.path.join(pdir, "*.tif"))) == len(FLAT),
                "a pyramid of each image", timeout=40)
    width = iter(range(300, 1000))
    for name in FLAT:
        for n in nodes:
            fx.wait_for(lambda: pf.from_pyramid(n, name, next(width)),
                        f"{n.name} serving {name} from the pyramid", timeout=15)
    built = [pf.metric(n, pf.BUILDS_OK) for n in nodes]
    assert sum(built) == len(FLAT), f"builds per process: {built} for {len(FLAT)} pyramids"
    assert sum(pf.metric(n, pf.BUILDS_FAILED) for n in nodes) == 0
    assert not glob.glob(os.path.join(pdir, "*.tmp*"))
    # `iiifd cache purge` with the same pyramid-dir removes one image's pyramid, then all
    os.makedirs(root.parent / "c", exist_ok=True)
    p = subprocess.run([nodes[0].binary, "cache", "purge", "--cache-dir", str(root.parent / "c"),
                        "--pyramid-dir", pdir, "--root", str(root), FLAT[0]],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert len(glob.glob(os.path.join(pdir, "*.tif"))) == len(FLAT) - 1, p.stdout
    p = subprocess.run([nodes[0].binary, "cache", "purge", "--cache-dir", str(root.parent / "c"),
                        "--pyramid-dir", pdir], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and not glob.glob(os.path.join(pdir, "*.tif")), p.stderr
    assert os.path.exists(os.path.join(pdir, ".claims")), "the lock file of running builds stays"


def test_a_build_whose_process_dies_is_taken_over(two_nodes):
    root, pdir, (a, b) = two_nodes
    pf.flat_png(str(root / "huge.png"), 4000, 3000, 9)  # 12 MP: a build takes a second
    pf.check_takeover(a, b, "huge.png", pdir)


def test_a_failed_build_is_not_tried_again_by_another_process(two_nodes):
    """A source that cannot be converted (truncated) leaves a marker: one attempt per folder."""
    root, pdir, (a, b) = two_nodes
    data = open(root / "a.png", "rb").read()
    with open(root / ".bad.png", "wb") as f:
        f.write(data[: len(data) * 2 // 3])
    os.replace(root / ".bad.png", root / "bad.png")
    for n in (a, b):  # answered with an error or from what can be read: not asserted here
        n.get("/iiif/3/bad.png/0,0,512,512/256,/0/default.jpg")
    fx.wait_for(lambda: glob.glob(os.path.join(pdir, "*.tif.failed")), "the failure marker", 30)
    time.sleep(2.5)  # past the interval after which a build left to another is looked at again
    for n in (a, b):
        n.get("/iiif/3/bad.png/full/100,/0/default.jpg")
    time.sleep(1.5)  # a second attempt would have failed by now
    assert sum(pf.metric(n, pf.BUILDS_FAILED) for n in (a, b)) == 1
    assert sum(pf.metric(n, pf.BUILDS_OK) for n in (a, b)) == 0
