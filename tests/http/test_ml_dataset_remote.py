"""`iiifd dataset URL` against a remote server that is not iiifd (docs/ml.md, "From a remote
server"): a small HTTP server made here serves hand-written Presentation 3 documents, some of
them hostile: a Collection that lists itself, a Manifest without an id, an AnnotationPage whose
`next` loops, regions outside the Canvas, SVG points written with blanks after the commas, and
references to file:// URLs. Every request the server sees is counted."""

import http.server
import io
import json
import os
import re
import sys
import threading
import time

import pytest
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import presentation_fixtures as pf  # noqa: E402


def jpeg(w, h):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


class Remote:
    """Serves self.docs (path -> JSON) and any /img/... request as a JPEG of the asked size."""

    def __init__(self):
        self.docs, self.hits, self.redirects = {}, {}, {}
        remote = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                remote.hits[self.path] = remote.hits.get(self.path, 0) + 1
                if self.path in remote.redirects:
                    self.send_response(302)
                    self.send_header("Location", remote.base + remote.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/img/"):
                    region, size = self.path.split("/")[-4:-2]  # .../REGION/SIZE/0/default.jpg
                    wh = region.split(",")[2:] if size == "max" else size.lstrip("!").split(",")
                    w, h = (int(v) for v in wh)
                    body, ctype = jpeg(w, h), "image/jpeg"
                elif self.path in remote.docs:
                    body, ctype = json.dumps(remote.docs[self.path]).encode(), "application/json"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def canvas(self, n, annotations):
        return {"id": f"{self.base}/c{n}", "type": "Canvas", "width": 400, "height": 200,
                "items": [{"type": "AnnotationPage", "items": [{
                    "type": "Annotation", "motivation": "painting",
                    "body": {"type": "Image", "service": [{"id": f"{self.base}/img/{n}"}]}}]}],
                "annotations": annotations}


def tag(target, label="cat"):
    return {"type": "Annotation", "motivation": "tagging", "target": target,
            "body": {"type": "TextualBody", "value": label}}


@pytest.fixture
def remote():
    r = Remote()
    yield r
    r.httpd.shutdown()
    r.httpd.server_close()


def run(iiifd_bin, tmp_path, url, *args):
    out = str(tmp_path / "out")
    return out, pf.run_cli(iiifd_bin, "dataset", "--format", "jsonl", "--quiet", "--rate",
                           "1000", "--size", "50", "--out", out, *args, url)


def provenance(out):
    with open(os.path.join(out, "provenance.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_collection_listing_itself_is_read_once(iiifd_bin, tmp_path, remote):
    page = {"type": "AnnotationPage", "items": [tag(f"{remote.base}/c1#xywh=10,10,50,50")]}
    remote.docs["/m"] = {"id": f"{remote.base}/m", "type": "Manifest",
                         "items": [remote.canvas(1, [page])]}
    remote.docs["/coll"] = {"id": f"{remote.base}/coll", "type": "Collection", "items": [
        {"id": f"{remote.base}/coll", "type": "Collection"},
        {"id": f"{remote.base}/coll", "type": "Collection"},
        {"id": f"{remote.base}/m", "type": "Manifest"},
        {"id": f"{remote.base}/m", "type": "Manifest"}]}
    out, p = run(iiifd_bin, tmp_path, f"{remote.base}/coll")
    assert p.returncode == 0, p.stderr
    assert remote.hits["/coll"] == 1 and remote.hits["/m"] == 1, remote.hits
    assert len(provenance(out)) == 1


def test_manifest_without_id_and_looping_pages(iiifd_bin, tmp_path, remote):
    """A Manifest without "id" is named by its URL; an AnnotationPage whose next comes back to
    itself is read once."""
    remote.docs["/p1"] = {"id": f"{remote.base}/p1", "type": "AnnotationPage",
                          "items": [tag(f"{remote.base}/c1#xywh=0,0,100,100")],
                          "next": f"{remote.base}/p2"}
    remote.docs["/p2"] = {"id": f"{remote.base}/p2", "type": "AnnotationPage",
                          "items": [tag(f"{remote.base}/c1#xywh=100,0,100,100", "dog")],
                          "next": f"{remote.base}/p1"}
    remote.docs["/m"] = {"type": "Manifest", "items": [
        remote.canvas(1, [{"id": f"{remote.base}/p1", "type": "AnnotationPage"}])]}
    out, p = run(iiifd_bin, tmp_path, f"{remote.base}/m")
    assert p.returncode == 0, p.stderr
    lines = provenance(out)
    assert [line["manifest"] for line in lines] == [f"{remote.base}/m"] * 2
    assert remote.hits["/p1"] == 1 and remote.hits["/p2"] == 1, remote.hits


def test_regions_are_clamped_to_the_canvas(iiifd_bin, tmp_path, remote):
    """A region reaching past the Canvas is cropped to it (as the local store keeps it); one
    wholly outside, or with numbers past any image, is left out."""
    page = {"type": "AnnotationPage", "items": [
        tag(f"{remote.base}/c1#xywh=-50,-20,100,60", "edge"),
        tag(f"{remote.base}/c1#xywh=500,0,10,10", "outside"),
        tag(f"{remote.base}/c1#xywh=1e300,0,1e300,10", "huge"),
        tag(f"{remote.base}/c1#xywh=350,150,1e300,1e300", "corner")]}
    remote.docs["/m"] = {"id": f"{remote.base}/m", "type": "Manifest",
                         "items": [remote.canvas(1, [page])]}
    out, p = run(iiifd_bin, tmp_path, f"{remote.base}/m")
    assert p.returncode == 0, p.stderr
    regions = sorted(line["region"] for line in provenance(out))
    assert regions == ["xywh=0,0,50,40", "xywh=350,150,50,50"], regions


def test_svg_points_with_blanks_after_commas(iiifd_bin, tmp_path, remote):
    """SVG allows "10, 10 60, 10": the outline is read pair by pair, not split on every
    separator (which gave an empty number, read as 0, and shifted every pair after it)."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><polygon points="10, 10 60, 10 60 ,40"/>'
           '</svg>')
    target = {"type": "SpecificResource", "source": f"{remote.base}/c1", "selector": [
        {"type": "FragmentSelector", "value": "xywh=10,10,50,30"},
        {"type": "SvgSelector", "value": svg}]}
    remote.docs["/m"] = {"id": f"{remote.base}/m", "type": "Manifest",
                         "items": [remote.canvas(1, [{"type": "AnnotationPage",
                                                      "items": [tag(target)]}])]}
    out = str(tmp_path / "coco")
    p = pf.run_cli(iiifd_bin, "dataset", "--format", "coco", "--quiet", "--rate", "1000",
                   "--split", "100,0,0", "--out", out, f"{remote.base}/m")
    assert p.returncode == 0, p.stderr
    with open(os.path.join(out, "train", "_annotations.coco.json")) as f:
        doc = json.load(f)
    seg = doc["annotations"][0]["segmentation"]
    assert seg == [[10, 10, 60, 10, 60, 40]], seg


@pytest.mark.parametrize("where", ["page", "service", "next"])
def test_file_urls_are_refused(iiifd_bin, tmp_path, remote, where):
    page = {"id": f"{remote.base}/p1", "type": "AnnotationPage",
            "items": [tag(f"{remote.base}/c1#xywh=0,0,100,100")]}
    canvas = remote.canvas(1, [page])
    if where == "page":
        canvas["annotations"] = [{"id": "file:///etc/passwd", "type": "AnnotationPage"}]
    elif where == "service":
        canvas["items"][0]["items"][0]["body"]["service"] = [{"id": "file:///etc"}]
    else:
        page["next"] = "FILE:///etc/passwd"
    remote.docs["/m"] = {"id": f"{remote.base}/m", "type": "Manifest", "items": [canvas]}
    out, p = run(iiifd_bin, tmp_path, f"{remote.base}/m")
    assert p.returncode == 1, p.stdout
    assert "not an http or https URL" in p.stderr, p.stderr


def test_redirects_count_against_the_rate(iiifd_bin, tmp_path, remote):
    """Each redirect libcurl follows is a request to the server: the summary counts it and the
    next request waits for it, so --rate bounds what the server sees, not just what iiifd asks."""
    page = {"type": "AnnotationPage", "items": [tag(f"{remote.base}/c1#xywh=10,10,50,50")]}
    remote.docs["/m"] = {"id": f"{remote.base}/m", "type": "Manifest",
                         "items": [remote.canvas(1, [page])]}
    remote.redirects.update({"/r1": "/r2", "/r2": "/r3", "/r3": "/r4", "/r4": "/m"})
    out = str(tmp_path / "out")
    t0 = time.monotonic()
    p = pf.run_cli(iiifd_bin, "dataset", "--format", "jsonl", "--quiet", "--rate", "2",
                   "--size", "50", "--out", out, f"{remote.base}/r1")
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    seen = sum(remote.hits.values())
    assert seen == 6, remote.hits  # four redirects, the Manifest, one crop
    assert int(re.search(r"\((\d+) requests\)", p.stdout).group(1)) == seen, p.stdout
    assert elapsed >= (seen - 1) / 2, f"{seen} requests in {elapsed:.2f} s: faster than --rate 2"


def test_canvas_without_a_size_is_left_out(iiifd_bin, tmp_path, remote):
    """A Canvas of width or height 0 (or less) has no pixels to ask for: left out like a Canvas
    without an Image service, not asked for as region 0,0,0,0."""
    canvases = [remote.canvas(n, [{"type": "AnnotationPage",
                                   "items": [tag(f"{remote.base}/c{n}#xywh=0,0,10,10")]}])
                for n in (1, 2)]
    canvases[0]["width"] = 0
    canvases[1]["height"] = -5
    remote.docs["/m"] = {"id": f"{remote.base}/m", "type": "Manifest", "items": canvases}
    out = str(tmp_path / "out")
    p = pf.run_cli(iiifd_bin, "dataset", "--format", "coco", "--quiet", "--rate", "1000",
                   "--out", out, f"{remote.base}/m")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("0 images from 0 Canvases"), p.stdout
    assert not [h for h in remote.hits if h.startswith("/img/")], remote.hits


def test_collections_nested_too_deep_are_named(iiifd_bin, tmp_path, remote):
    """Manifests are read up to 8 Collections deep; a Collection that deep is an error that says
    so (it said "not a Presentation 3 Manifest or Collection")."""
    for d in range(10):
        remote.docs[f"/c{d}"] = {"id": f"{remote.base}/c{d}", "type": "Collection",
                                 "items": [{"id": f"{remote.base}/c{d + 1}", "type": "Collection"}]}
    out, p = run(iiifd_bin, tmp_path, f"{remote.base}/c0")
    assert p.returncode == 1
    assert f"{remote.base}/c8: a Collection nested 8 deep, too deep to follow" in p.stderr, \
        p.stderr
