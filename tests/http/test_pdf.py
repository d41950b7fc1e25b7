"""End-to-end tests of the Manifest PDF download: GET /pdf/{path}/manifest?width=N.

The PDFs are checked with poppler's pdfinfo (page count, page sizes) and pdfimages (the JPEG of
each page, byte for byte the Image API's full/{w},/0/default.jpg of that Canvas, in the
Manifest's order); caps, errors and the file name are checked from the HTTP answers.
"""

import os
import re
import subprocess
import sys
import threading
import urllib.parse

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402

BOOK = [("p1.jpg", 1200, 1600, "RGB"), ("p2.png", 800, 600, "L"), ("p3.tif", 600, 900, "RGB")]


def noise(w, h, seed, mode="RGB"):
    rng = np.random.default_rng(seed)
    if mode == "L":
        return Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8), "L")
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def pdf_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("pdf-root")
    os.makedirs(root / "book")
    for i, (name, w, h, mode) in enumerate(BOOK):
        noise(w, h, i, mode).save(root / "book" / name)
    os.makedirs(root / "coll" / "sub")
    noise(100, 100, 9).save(root / "coll" / "sub" / "x.jpg")
    noise(300, 200, 10).save(root / "top.jpg")
    os.makedirs(root / "long")
    for i in range(12):
        noise(2600, 2000, 20 + i).save(root / "long" / f"p{i:02d}.png")
    with open(root / "book" / "notes.txt", "w") as f:
        f.write("not a page\n")
    return root


@pytest.fixture(scope="module")
def server(iiifd_bin, pdf_root, tmp_path_factory):
    s = fx.Server(iiifd_bin, str(pdf_root), str(tmp_path_factory.mktemp("pdf-work")),
                  name="pdf").start()
    yield s
    s.kill()
    found, text = s.new_sanitizer_reports()
    assert not found, f"sanitizer report from the server:\n{text[-4000:]}"


def pdfinfo(path):
    out = fx.run(["pdfinfo", "-f", "1", "-l", "1000", str(path)]).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", out, re.M).group(1))
    sizes = [(float(w), float(h)) for w, h in
             re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out, re.M)]
    return pages, sizes


def page_jpegs(path, tmp_path):
    """The image stream of each page, as stored (pdfimages -j keeps DCT streams as they are)."""
    prefix = tmp_path / "img"
    fx.run(["pdfimages", "-j", str(path), str(prefix)])
    files = sorted(f for f in os.listdir(tmp_path) if f.startswith("img-"))
    listing = fx.run(["pdfimages", "-list", str(path)]).stdout.splitlines()[2:]
    colours = [l.split()[5] for l in listing]
    out = []
    for f in files:
        with open(tmp_path / f, "rb") as fh:
            out.append(fh.read())
    return out, colours


def save(resp, tmp_path, name="m.pdf"):
    path = tmp_path / name
    with open(path, "wb") as f:
        f.write(resp.body)
    return path


def test_three_page_manifest(server, tmp_path):
    r = server.get("/pdf/book/manifest?width=500")
    assert r.status == 200, r.body[:300]
    assert r.header("Content-Type") == "application/pdf"
    assert r.header("Content-Disposition") == 'attachment; filename="book.pdf"'
    assert r.body.startswith(b"%PDF-1.4\n") and r.body.endswith(b"%%EOF\n")
    path = save(r, tmp_path)
    pages, sizes = pdfinfo(path)
    assert pages == 3
    want = [(500, round(h * 500 / w)) for _, w, h, _ in BOOK]
    assert [(round(w), round(h)) for w, h in sizes] == want, sizes

    # each page is the Image API's rendering of that Canvas, in the Manifest's order
    manifest = server.get("/iiif/presentation/book/manifest").json()
    services = [c["items"][0]["items"][0]["body"]["service"][0]["id"] for c in manifest["items"]]
    assert len(services) == 3
    jpegs, colours = page_jpegs(path, tmp_path)
    assert colours == ["rgb", "gray", "rgb"], "a greyscale page stays grey"
    for service, jpeg in zip(services, jpegs):
        ref = server.get(urllib.parse.urlparse(service).path + "/full/500,/0/default.jpg")
        assert ref.status == 200
        assert jpeg == ref.body, f"page of {service} differs from the Image API's render"


def test_default_width_and_no_upscaling(server, tmp_path):
    r = server.get("/pdf/book/manifest")
    assert r.status == 200
    _, sizes = pdfinfo(save(r, tmp_path))
    # 1000 wide by default; a page image narrower than that keeps its own size
    assert [(round(w), round(h)) for w, h in sizes] == [(1000, 1333), (800, 600), (600, 900)]


def test_file_manifest_and_its_name(server, tmp_path):
    r = server.get("/pdf/top.jpg/manifest?width=150")
    assert r.status == 200
    assert r.header("Content-Disposition") == 'attachment; filename="top.jpg.pdf"'
    assert pdfinfo(save(r, tmp_path)) == (1, [(150.0, 100.0)])


@pytest.mark.parametrize("path, status, reason", [
    ("/pdf/nothing/manifest", 404, "no Manifest"),
    ("/pdf/coll/manifest", 404, "no Manifest with Canvases"),  # a Collection
    ("/pdf/book", 404, "expected /pdf/{path}/manifest"),
    ("/pdf/book/manifest?width=2001", 400, "over this server's limit of 2000 (pdf-max-width)"),
    ("/pdf/book/manifest?width=0", 400, "whole number"),
    ("/pdf/book/manifest?width=12abc", 400, "whole number"),
    ("/pdf/book/manifest?width=-5", 400, "whole number"),
    ("/pdf/..%2F..%2Fetc/manifest", 404, "no Manifest"),
    ("/pdf/book%2/manifest", 400, "malformed"),
])
def test_errors(server, path, status, reason):
    r = server.get(path)
    assert r.status == status, (path, r.status, r.body[:200])
    assert reason.encode() in r.body, r.body


def test_caps_are_settings(iiifd_bin, pdf_root, tmp_path):
    s = fx.Server(iiifd_bin, str(pdf_root), str(tmp_path),
                  args=["--pdf-max-pages", "2", "--pdf-max-width", "600"], name="pdfcap").start()
    try:
        r = s.get("/pdf/book/manifest?width=100")
        assert r.status == 400
        assert b"3 image pages; a PDF may have at most 2 (pdf-max-pages)" in r.body, r.body
        r = s.get("/pdf/top.jpg/manifest?width=601")
        assert r.status == 400 and b"limit of 600" in r.body
        r = s.get("/pdf/top.jpg/manifest")  # the default width is capped too
        assert r.status == 200
        assert pdfinfo(save(r, tmp_path)) == (1, [(300.0, 200.0)])
    finally:
        s.kill()


def test_tiles_keep_flowing_while_a_pdf_renders(iiifd_bin, pdf_root, tmp_path):
    """A PDF holds one large-render slot for all its pages: tile requests, which use the small
    slots, are answered while it works."""
    s = fx.Server(iiifd_bin, str(pdf_root), str(tmp_path),
                  args=["--large-renders", "1", "--threads", "2"], name="pdfadm").start()
    try:
        result = {}

        def fetch_pdf():
            result["pdf"] = s.get("/pdf/long/manifest?width=2000")

        t = threading.Thread(target=fetch_pdf)
        t.start()
        tiles = []
        x = 0
        while t.is_alive():
            tiles.append(s.get(f"/iiif/3/book%2Fp1.jpg/{x % 944},0,256,256/256,/0/default.jpg"))
            x += 16
        t.join()
        # 12 pages of 2600x2000 PNG take seconds; tiles take milliseconds
        assert len(tiles) >= 2, "tiles were answered while the PDF rendered"
        bad = [(r.status, r.body[:200]) for r in tiles if r.status != 200]
        assert not bad, bad
        assert result["pdf"].status == 200
        pages, sizes = pdfinfo(save(result["pdf"], tmp_path))
        assert pages == 12 and all(round(w) == 2000 for w, _ in sizes)
    finally:
        s.kill()


def test_image_api_pdf_pages_stay_within_pdf_sizes(server, tmp_path):
    """The Image API's pdf format uses the same page writer: a 1x1 render keeps its one pixel
    on a page of the smallest size PDF allows (3x3 units) rather than a 1x1 page."""
    r = server.get("/iiif/3/top.jpg/full/1,/0/default.pdf")
    assert r.status == 200 and r.header("Content-Type") == "application/pdf"
    path = save(r, tmp_path)
    assert pdfinfo(path) == (1, [(3.0, 3.0)])
    listing = fx.run(["pdfimages", "-list", str(path)]).stdout.splitlines()[2:]
    assert [l.split()[3:5] for l in listing] == [["1", "1"]], listing
    r = server.get("/iiif/3/top.jpg/full/150,/0/default.pdf")
    assert pdfinfo(save(r, tmp_path, "b.pdf")) == (1, [(150.0, 100.0)])
