"""Presentation from an s3:// root (docs/scaling.md, "Object storage"): a library uploaded to a
bucket (s3rver, started here) gives the same Collections and Manifests as the same folder served
from disk; sidecars, captions-free A/V with byte ranges (ranged GETs only, counted by a proxy),
OCR imported from the bucket; objects added, replaced and deleted show in the Change Discovery
stream after the listing interval; a broken sidecar in the bucket is reported by its key and
line."""

import contextlib
import json
import subprocess
import os
import sys
import time

from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
import presentation_fixtures as pf  # noqa: E402
from annotation_fixtures import (alto_v4, layout, make_mp3, manifest_url,  # noqa: E402
                                 search_total)
from discovery_harvester import STREAM, whole_log  # noqa: E402
from s3_fixtures import BUCKET, CountingProxy, S3Server, s3_args, wait_until  # noqa: E402

PREFIX = "lib"
OCR_WORDS = "zebra crossing ahead"


def png(path, w, h, colour):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", (w, h), colour).save(path)


def make_library(base):
    """The folder served locally, and uploaded below s3://bkt/lib."""
    lib = os.path.join(base, PREFIX)
    png(f"{lib}/books/b1/p1.png", 60, 40, (200, 30, 30))
    png(f"{lib}/books/b1/p2.png", 40, 60, (30, 200, 30))
    pf.write(f"{lib}/books/b1/manifest.yml", "label: The first book\nsummary: Two pages\n")
    png(f"{lib}/books/b2/p1.png", 30, 20, (30, 30, 200))
    pf.write(f"{lib}/books/collection.yml", "label: Books\n")
    png(f"{lib}/loose.png", 24, 16, (90, 90, 90))
    pf.write(f"{lib}/loose.png.yml", "label: A loose leaf\n")
    os.makedirs(f"{lib}/av")
    make_mp3(f"{lib}/av/tone.mp3", seconds=2)
    # a video whose index (moov) is at the end: probing it reads the head and the tail by range
    pf.ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-c:v", "mpeg4",
              "-q:v", "5", f"{lib}/film.mp4")
    png(f"{lib}/ocr/page.png", 400, 300, (250, 250, 250))
    pf.write(f"{lib}/ocr/page.xml",
             alto_v4([layout(OCR_WORDS, 20, 40, 20, 10, 10)], 400, 300, "page.png"))
    png(f"{lib}/.hidden/secret.png", 10, 10, (1, 2, 3))
    return lib


@contextlib.contextmanager
def bucket_of(lib):
    """An S3 test server holding the library lib below PREFIX; stopped after."""
    s3 = S3Server()
    try:
        upload(s3, lib)
        yield s3
    finally:
        s3.stop()


@contextlib.contextmanager
def counting_proxy(s3):
    """A CountingProxy in front of s3; stopped after."""
    proxy = CountingProxy(s3.port)
    try:
        yield proxy
    finally:
        proxy.stop()


def upload(s3, lib):
    for dirpath, _dirs, files in os.walk(lib):
        for name in files:
            path = os.path.join(dirpath, name)
            s3.put_file(f"{PREFIX}/{os.path.relpath(path, lib)}", path)


def start_s3(server_factory, s3_endpoint, *extra):
    """iiifd serving s3://bkt/lib, its listings trusted for 1 s."""
    return server_factory(args=[*s3_args(s3_endpoint, ttl=1), *extra],
                          root_dir=f"s3://{BUCKET}/{PREFIX}")


def stop_clean(*servers):
    """SIGTERM and a clean exit, so that LeakSanitizer reports anything leaked (server_factory's
    teardown reads the reports)."""
    for s in servers:
        assert s.stop() == 0, s.stderr_text()[-3000:]


def rebased(docs, server):
    """JSON text of {url: doc} with the server's base URL taken out."""
    return {k.replace(server.base, "BASE"): json.loads(json.dumps(v).replace(server.base, "BASE"))
            for k, v in docs.items()}


def crawl_equal_ready(local, remote):
    """Both servers' crawls once OCR imports settled (a Manifest lists its pages after them)."""
    def both():
        return [pf.crawl(s) for s in (local, remote)]
    for _ in range(50):
        (lc, lm, lp), (rc, rm, rp) = both()
        if (rebased(lc, local), rebased(lm, local)) == (rebased(rc, remote), rebased(rm, remote)):
            return (lc, lm, lp), (rc, rm, rp)
        time.sleep(0.2)
    return both()


def test_bucket_serves_what_the_folder_serves(server_factory, tmp_path):
    lib = make_library(str(tmp_path))
    with bucket_of(lib) as s3, counting_proxy(s3) as proxy:
        local = server_factory(root_dir=lib)
        remote = start_s3(server_factory, proxy.endpoint)
        (lc, lm, lp), (rc, rm, rp) = crawl_equal_ready(local, remote)
        assert lp == [] and rp == [], (lp, rp)
        assert len(lc) == 2 and len(lm) == 6, (sorted(lc), sorted(lm))  # root, books; 6 Manifests
        assert rebased(rc, remote) == rebased(lc, local)
        assert rebased(rm, remote) == rebased(lm, local)

        # the sidecars in the bucket label what they describe
        root = rc[pf.pres_url(remote, "collection")]
        labels = {m["id"].replace(remote.base, ""): m["label"] for m in root["items"]}
        assert labels["/iiif/presentation/books/collection"] == {"none": ["Books"]}
        assert labels["/iiif/presentation/loose.png/manifest"] == {"none": ["A loose leaf"]}
        b1 = rm[pf.pres_url(remote, "books/b1/manifest")]
        assert b1["label"] == {"none": ["The first book"]}
        assert [c["width"] for c in b1["items"]] == [60, 40]
        assert not any("hidden" in url for url in list(rc) + list(rm))

        # the web pages of the bucket's Collections and Manifests
        for page, text in (("/", b"Books"), ("/view/books/collection", b"The first book"),
                           ("/view/books/b1/manifest", b"The first book")):
            r = remote.get(page, headers={"Accept": "text/html"})
            assert r.status == 200 and text in r.body, (page, r.status, r.body[:200])

        # the PDF download of a Manifest in the bucket: one page per Canvas
        r = remote.get("/pdf/books/b1/manifest")
        assert r.status == 200 and r.body[:4] == b"%PDF", (r.status, r.body[:200])
        assert r.body.count(b"/Type /Page") - r.body.count(b"/Type /Pages") == 2

        # the OCR file in the bucket was imported: its words are searchable
        ocr = rm[pf.pres_url(remote, "ocr/manifest")]
        assert ocr["items"][0].get("annotations"), ocr["items"][0]
        hits = fx_get_json(remote, "/iiif/presentation/ocr/manifest/search?q=zebra")
        assert len(hits["items"]) == 1, hits

        # A/V: the Canvas has the probed duration; a Range is answered by ranged GETs only
        av = rm[pf.pres_url(remote, "av/manifest")]
        body = av["items"][0]["items"][0]["items"][0]["body"]
        assert body["type"] == "Sound" and abs(body["duration"] - 2.0) < 0.2, body
        film = rm[pf.pres_url(remote, "film.mp4/manifest")]["items"][0]
        assert (film["width"], film["height"]) == (64, 48) and abs(film["duration"] - 1) < 0.2
        # its waveform, drawn by ffmpeg reading the recording from the bucket by range
        still = av["items"][0]["placeholderCanvas"]["items"][0]["items"][0]["body"]["id"]
        r = remote.get(pf.local_path(remote, still))
        assert r.status == 200 and r.body[:3] == b"\xff\xd8\xff", (r.status, r.body[:100])
        assert r.body == local.get(pf.local_path(local, still.replace(remote.base, local.base))).body
        with open(f"{lib}/av/tone.mp3", "rb") as f:
            mp3 = f.read()
        before, ranges_before = proxy.snapshot(), len(proxy.ranges)
        r = remote.get(pf.local_path(remote, body["id"]), headers={"Range": "bytes=1000-2999"})
        assert r.status == 206, (r.status, r.body[:200])
        assert r.body == mp3[1000:3000]
        assert r.header("Content-Range") == f"bytes 1000-2999/{len(mp3)}"
        r = remote.get(pf.local_path(remote, body["id"]), headers={"Range": f"bytes={len(mp3)}-"})
        assert r.status == 416
        r = remote.get(pf.local_path(remote, body["id"]))
        assert r.status == 200 and r.body == mp3
        etag = r.header("ETag")  # the object's own: a replaced recording has another
        assert etag and etag.startswith('"') and r.header("Accept-Ranges") == "bytes"
        r = remote.get(pf.local_path(remote, body["id"]), headers={"If-None-Match": etag})
        assert r.status == 304 and r.body == b""
        r = remote.get(pf.local_path(remote, body["id"]),
                       headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
        assert r.status == 200 and r.body == mp3  # If-Range no longer matches: the whole file
        used = proxy.since(before)
        assert used.get("GET", 0) == 0, f"a whole-object GET of the media: {used}"
        assert all("tone.mp3" in path for path, _ in proxy.ranges[ranges_before:])
        # nothing of the bucket was ever downloaded whole: probes and reads are ranged GETs
        assert proxy.snapshot().get("GET", 0) == 0, proxy.snapshot()
        stop_clean(local, remote)


def fx_get_json(server, path):
    r = server.get(path)
    assert r.status == 200, (path, r.status, r.body[:300])
    return r.json()


def activities(server):
    return [(a["type"], a["object"]["id"].replace(server.base, "")) for a in whole_log(server)
            if "/presentation/" in a["object"]["id"]]


def wait_activity(server, kind, path, timeout=30):
    wait_until(lambda: (kind, f"/iiif/presentation/{path}") in activities(server),
               f"{kind} of {path} in the activity stream", timeout)


# the folders of make_library() that hold something visible: lib, books, b1, b2, av, ocr
FOLDERS = 6


def test_bucket_changes_reach_the_activity_stream(server_factory, tmp_path):
    lib = make_library(str(tmp_path))
    with bucket_of(lib) as s3, counting_proxy(s3) as proxy:
        s = start_s3(server_factory, proxy.endpoint,
                     "--discovery-scan-interval", "1", "--auto-import", "false")
        wait_until(lambda: s.get(STREAM).status == 200, "the first scan", 30)
        first = activities(s)
        assert ("Create", "/iiif/presentation/books/b1/manifest") in first, first

        # what watching costs: listings only (sizes and ETags come from them), at most one per
        # folder per scan; no HEAD, no GET of any object
        before, t0 = proxy.snapshot(), time.monotonic()
        time.sleep(4)
        used, scans = proxy.since(before), time.monotonic() - t0 + 1
        assert set(used) == {"LIST"}, used
        assert FOLDERS <= used["LIST"] <= FOLDERS * scans, (used, scans)

        # a new object: a new Manifest
        buf = f"{tmp_path}/new.png"
        png(buf, 20, 20, (10, 200, 10))
        s3.put_file(f"{PREFIX}/books/b3/p1.png", buf)
        wait_activity(s, "Create", "books/b3/manifest")

        # a replaced object (new ETag): an Update of its Manifest
        png(buf, 20, 20, (200, 10, 10))
        s3.put_file(f"{PREFIX}/books/b2/p1.png", buf)
        wait_activity(s, "Update", "books/b2/manifest")

        # deleted objects: a Delete
        s3.delete(f"{PREFIX}/loose.png")
        s3.delete(f"{PREFIX}/loose.png.yml")
        wait_activity(s, "Delete", "loose.png/manifest")

        # the same bytes uploaded again change nothing (same ETag): no new activity
        n = len(whole_log(s))
        s3.put_file(f"{PREFIX}/books/b2/p1.png", buf)
        time.sleep(3)
        assert len(whole_log(s)) == n
        stop_clean(s)


def test_a_replaced_ocr_object_is_one_update(server_factory, tmp_path):
    """One node on SQLite: an OCR object replaced in the bucket is one Update of its Manifest
    (and of the Collection above it) per API version: the scan's, seeing the new ETag. The
    import that follows lists the same pages and adds none."""
    lib = make_library(str(tmp_path))
    with bucket_of(lib) as s3:
        s = start_s3(server_factory, f"http://127.0.0.1:{s3.port}",
                     "--discovery-scan-interval", "1", "--auto-import", "true")
        scope = manifest_url(s, "ocr")
        fx_get_json(s, "/iiif/presentation/ocr/manifest")
        wait_until(lambda: search_total(s, scope, q=OCR_WORDS.split()[0]) == 1,
                   "the OCR imported", 30)
        time.sleep(2.5)  # the import's marks and the scans after them settled
        n = len(whole_log(s))
        pf.write(f"{lib}/ocr/page.xml",
                 alto_v4([layout("okapi grazing", 20, 40, 20, 10, 10)], 400, 300, "page.png"))
        s3.put_file(f"{PREFIX}/ocr/page.xml", f"{lib}/ocr/page.xml")
        time.sleep(1.5)  # past storage-ttl: the scan sees the new ETag before the import
        fx_get_json(s, "/iiif/presentation/ocr/manifest")
        wait_until(lambda: search_total(s, scope, q="okapi") == 1, "the new OCR imported", 30)
        time.sleep(2.5)  # scans after the import
        new = [(a["type"], a["object"]["id"].replace(s.base, ""))
               for a in whole_log(s)[n:]]
        assert sorted(new) == sorted([("Update", "/iiif/presentation/ocr/manifest"),
                                      ("Update", "/iiif/presentation-v2/ocr/manifest"),
                                      ("Update", "/iiif/presentation/collection"),
                                      ("Update", "/iiif/presentation-v2/collection")]), new
        stop_clean(s)


def test_broken_sidecar_in_the_bucket_is_named_by_its_key(server_factory, tmp_path):
    lib = make_library(str(tmp_path))
    with bucket_of(lib) as s3:
        s3.put(f"{PREFIX}/books/b2/manifest.yml", b"label: fine\nsummary: [unclosed\n")
        s = start_s3(server_factory, f"http://127.0.0.1:{s3.port}")
        m = fx_get_json(s, "/iiif/presentation/books/b2/manifest")
        assert m["label"] == {"none": ["b2"]}  # the broken file is left out, the rest is served
        key = f"s3://{BUCKET}/{PREFIX}/books/b2/manifest.yml"
        wait_until(lambda: f"{key}:3:" in s.stderr_text() or f"{key}:2:" in s.stderr_text(),
                   "the warning naming the key", 10)
        stop_clean(s)


def test_bucket_outage_is_an_error_not_a_deletion(server_factory, tmp_path):
    """The storage failing is a 502/503 for the request, and no Delete in the stream."""
    lib = make_library(str(tmp_path))
    with bucket_of(lib) as s3:
        s = start_s3(server_factory, f"http://127.0.0.1:{s3.port}",
                     "--discovery-scan-interval", "1", "--auto-import", "false")
        wait_until(lambda: s.get(STREAM).status == 200, "the first scan", 30)
        n = len(whole_log(s))
        s3.stop()
        time.sleep(3)  # several scans find the storage gone
        r = s.get("/iiif/presentation/books/collection")
        assert r.status >= 500, (r.status, r.body[:200])
        assert len(whole_log(s)) == n
        assert not any(kind == "Delete" for kind, _ in activities(s))
        stop_clean(s)


def test_activity_tool_scans_the_bucket(iiifd_bin, tmp_path):
    """`iiifd activity --rebuild` with an s3:// root scans the bucket as the server does."""
    lib = make_library(str(tmp_path))
    with bucket_of(lib) as s3:
        data = str(tmp_path / "data")
        cmd = [iiifd_bin, "activity", "--data-dir", data,
               *s3_args(f"http://127.0.0.1:{s3.port}"), f"s3://{BUCKET}/{PREFIX}"]
        p = fx.run([*cmd, "--rebuild"])
        assert "Refresh appended: 8 resources" in p.stdout, p.stdout + p.stderr
        p = fx.run(cmd)
        assert "books/b1" in p.stdout and "Refresh" in p.stdout, p.stdout


def test_access_policy_in_the_bucket_protects(server_factory, tmp_path):
    """An access.yml object governs what lies below it, as a file does in a folder: the
    recording needs a login, the Manifest names the access service, the rest stays public."""
    lib = make_library(str(tmp_path))
    with bucket_of(lib) as s3:
        s3.put(f"{PREFIX}/av/access.yml", b"policy: login\n")
        s = start_s3(server_factory, f"http://127.0.0.1:{s3.port}")
        assert s.get("/iiif/media/av/tone.mp3", headers={"Range": "bytes=0-99"}).status == 401
        assert s.get("/iiif/presentation/av/manifest/canvas/1").status == 401
        assert "AuthAccessService2" in json.dumps(fx_get_json(s, "/iiif/presentation/av/manifest"))
        assert s.get("/iiif/media/av/../loose.png").status in (400, 404)
        r = s.get("/iiif/presentation/books/b1/manifest/canvas/1")
        assert r.status == 200, r.status
        # the policy removed: public again once storage-ttl (1 s) and the policy re-check pass
        s3.delete(f"{PREFIX}/av/access.yml")
        wait_until(lambda: s.get("/iiif/media/av/tone.mp3",
                                 headers={"Range": "bytes=0-99"}).status == 206,
                   "the recording public again", 30)
        stop_clean(s)


def test_import_tool_reads_the_bucket(iiifd_bin, tmp_path):
    """`iiifd import` with an s3:// root takes keys (or locations) below it, folders listed."""
    lib = make_library(str(tmp_path))
    with bucket_of(lib) as s3:
        s3.put(f"{PREFIX}/books/b1/p1.xml", b"<alto><broken")
        cmd = [iiifd_bin, "import", "--data-dir", str(tmp_path / "data"),
               *s3_args(f"http://127.0.0.1:{s3.port}"), "--root", f"s3://{BUCKET}/{PREFIX}"]
        p = fx.run([*cmd, "ocr"])
        assert "ocr/page.xml: 4 annotations" in p.stdout, p.stdout  # a line and its 3 words
        assert "(unchanged)" not in p.stdout, p.stdout
        p = fx.run([*cmd, f"s3://{BUCKET}/{PREFIX}/ocr/page.xml"])
        assert "ocr/page.xml: 0 annotations (unchanged)" in p.stdout, p.stdout
        p = subprocess.run([*cmd, "books"], capture_output=True, text=True)
        assert p.returncode == 1 and "books/b1/p1.xml:1: " in p.stderr, (p.stdout, p.stderr)


def _exported(folder):
    """{path below folder: JSON} of every file an `iiifd manifest --out folder` wrote."""
    docs = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                docs[os.path.relpath(path, folder)] = json.load(f)
    return docs


def test_manifest_tool_exports_the_bucket(iiifd_bin, tmp_path):
    """`iiifd manifest` with an s3:// root writes the documents it writes for the same folder."""
    lib = make_library(str(tmp_path))
    with bucket_of(lib) as s3:
        public = "https://static.example.org/lib"
        local, remote = str(tmp_path / "local-out"), str(tmp_path / "bucket-out")
        p = fx.run([iiifd_bin, "manifest", lib, "--public-url", public, "--out", local])
        assert "wrote 8 documents" in p.stdout, p.stdout + p.stderr
        p = fx.run([iiifd_bin, "manifest", f"s3://{BUCKET}/{PREFIX}", "--public-url", public,
                    "--out", remote, *s3_args(f"http://127.0.0.1:{s3.port}")])
        assert "wrote 8 documents" in p.stdout, p.stdout + p.stderr
        docs = _exported(remote)
        assert docs == _exported(local)
        b1 = docs["iiif/presentation/books/b1/manifest"]
        assert b1["label"] == {"none": ["The first book"]} and len(b1["items"]) == 2
        p = subprocess.run([iiifd_bin, "manifest", f"s3://{BUCKET}/{PREFIX}", "--public-url",
                            public, "--out", remote,
                            *s3_args(f"http://127.0.0.1:{fx.free_port()}")],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1 and "iiifd manifest: " in p.stderr, (p.stdout, p.stderr)


def test_check_tool_reads_the_bucket(iiifd_bin, tmp_path):
    """`iiifd check` with an s3:// root lists the problems it lists for the same folder."""
    lib = make_library(str(tmp_path))
    pf.write(f"{lib}/books/b2/manifest.yml", "label: fine\nsummary: [unclosed\n")
    pf.write(f"{lib}/books/notes.txt", "not served\n")
    pf.write(f"{lib}/ocr/broken.xml", "<alto><broken")
    with open(f"{lib}/av/bad.mp3", "wb") as f:
        f.write(b"ID3 not really audio" * 50)
    with bucket_of(lib) as s3:
        local = subprocess.run([iiifd_bin, "check", lib, "--quiet"], capture_output=True,
                               text=True, timeout=120)
        remote = subprocess.run([iiifd_bin, "check", f"s3://{BUCKET}/{PREFIX}", "--quiet",
                                 *s3_args(f"http://127.0.0.1:{s3.port}")],
                                capture_output=True, text=True, timeout=120)
        assert local.returncode == remote.returncode == 1, (local, remote)
        lines = local.stdout.replace(lib, "ROOT").splitlines()
        assert remote.stdout.replace(f"s3://{BUCKET}/{PREFIX}", "ROOT").splitlines() == lines
        assert any(l.startswith("books/b2/manifest.yml:") for l in lines), lines
        assert any(l.startswith("books/notes.txt: skipped") for l in lines), lines
        assert any("broken.xml:" in l for l in lines) and any("bad.mp3" in l for l in lines)
        assert lines[-1].startswith("4 problems in ROOT"), lines
