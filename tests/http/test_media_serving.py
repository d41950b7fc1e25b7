"""/iiif/media/{path}: audio, video and WebVTT files with byte ranges (RFC 9110 sections 13-14:
Range, If-Range, 206, 416), Content-Type, HEAD, and nothing else (no images, no escapes)."""

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from presentation_fixtures import _pres_health, ptree, pserver, server_p  # noqa: E402,F401

TYPES = {
    "av/interview.mp3": "audio/mpeg",
    "av/film.mp4": "video/mp4",
    "av/clip.webm": "video/webm",
    "av/interview.en.vtt": "text/vtt",
    "av/film.vtt": "text/vtt",
}


def media(server_p, rel, **kw):
    return server_p.get("/iiif/media/" + rel, **kw)


def data_of(ptree, rel):
    with open(ptree.path(*rel.split("/")), "rb") as f:
        return f.read()


def ctype(r):
    return r.content_type.split(";")[0].strip().lower()


@pytest.mark.parametrize("rel", sorted(TYPES))
def test_full_get(server_p, ptree, rel):
    r = media(server_p, rel)
    data = data_of(ptree, rel)
    assert r.status == 200, r
    assert ctype(r) == TYPES[rel], r.content_type
    assert r.body == data
    assert r.header("Content-Length") == str(len(data))
    if not rel.endswith(".vtt"):
        assert (r.header("Accept-Ranges") or "").strip() == "bytes", r.headers
    assert r.header("Access-Control-Allow-Origin") == "*"
    assert r.header("ETag"), "media responses need an ETag for If-Range"


def test_head(server_p, ptree):
    data = data_of(ptree, "av/film.mp4")
    g = media(server_p, "av/film.mp4")
    r = media(server_p, "av/film.mp4", method="HEAD")
    assert r.status == 200 and r.body == b""
    assert ctype(r) == "video/mp4"
    assert r.header("Content-Length") == str(len(data))
    assert (r.header("Accept-Ranges") or "").strip() == "bytes"
    assert r.header("ETag") == g.header("ETag")


def check_206(r, data, first, last):
    size = len(data)
    assert r.status == 206, f"{r} {r.headers}"
    assert r.header("Content-Range") == f"bytes {first}-{last}/{size}", r.header("Content-Range")
    assert r.body == data[first:last + 1], f"bytes {first}-{last} differ"
    assert r.header("Content-Length") == str(last - first + 1)


@pytest.mark.parametrize("rel", ["av/film.mp4", "av/interview.mp3", "av/clip.webm"])
def test_range_closed(server_p, ptree, rel):
    data = data_of(ptree, rel)
    r = media(server_p, rel, headers={"Range": "bytes=0-99"})
    check_206(r, data, 0, 99)
    assert ctype(r) == TYPES[rel]
    mid = len(data) // 2
    check_206(media(server_p, rel, headers={"Range": f"bytes={mid}-{mid + 4096}"}), data, mid,
              mid + 4096)
    check_206(media(server_p, rel, headers={"Range": "bytes=5-5"}), data, 5, 5)


def test_range_suffix(server_p, ptree):
    data = data_of(ptree, "av/film.mp4")
    n = len(data)
    check_206(media(server_p, "av/film.mp4", headers={"Range": "bytes=-100"}), data, n - 100,
              n - 1)
    # a suffix longer than the file is the whole file
    check_206(media(server_p, "av/film.mp4", headers={"Range": f"bytes=-{n + 50}"}), data, 0,
              n - 1)


def test_range_open(server_p, ptree):
    data = data_of(ptree, "av/film.mp4")
    n = len(data)
    check_206(media(server_p, "av/film.mp4", headers={"Range": "bytes=100-"}), data, 100, n - 1)
    # last-byte-pos beyond the end is clamped
    check_206(media(server_p, "av/film.mp4", headers={"Range": f"bytes={n - 10}-{n + 1000}"}),
              data, n - 10, n - 1)


def parse_multipart(r):
    m = re.search(r'boundary="?([^";]+)"?', r.content_type)
    assert r.content_type.startswith("multipart/byteranges") and m, r.content_type
    boundary = m.group(1).encode()
    parts = []
    for chunk in r.body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        if body.endswith(b"\r\n"):
            body = body[:-2]
        headers = dict(line.split(b":", 1) for line in head.split(b"\r\n") if b":" in line)
        headers = {k.strip().lower().decode(): v.strip().decode() for k, v in headers.items()}
        parts.append((headers, body))
    return parts


def test_multiple_ranges(server_p, ptree):
    """Several ranges: a multipart/byteranges 206, or the whole file with 200 (both allowed)."""
    data = data_of(ptree, "av/film.mp4")
    n = len(data)
    r = media(server_p, "av/film.mp4", headers={"Range": "bytes=0-9,200-299,-20"})
    assert r.status in (200, 206), r
    if r.status == 200:
        assert r.body == data
        return
    parts = parse_multipart(r)
    want = [(0, 9), (200, 299), (n - 20, n - 1)]
    assert len(parts) == len(want), f"{len(parts)} parts"
    for (h, body), (a, b) in zip(parts, want):
        assert h.get("content-range") == f"bytes {a}-{b}/{n}", h
        assert h.get("content-type", "").split(";")[0] == "video/mp4", h
        assert body == data[a:b + 1]


@pytest.mark.parametrize("spec", ["bytes={n}-", "bytes={n}-{m}", "bytes={m}-"])
def test_unsatisfiable_416(server_p, ptree, spec):
    data = data_of(ptree, "av/film.mp4")
    n = len(data)
    rng = spec.format(n=n, m=n + 100)
    r = media(server_p, "av/film.mp4", headers={"Range": rng})
    assert r.status == 416, f"Range {rng} -> {r.status}"
    assert r.header("Content-Range") == f"bytes */{n}", r.header("Content-Range")


def test_unknown_unit_and_invalid_ranges(server_p, ptree):
    """RFC 9110 14.2: a Range with an unknown unit MUST be ignored (200, whole file); an invalid
    ranges-specifier MAY be ignored (200) or rejected (416)."""
    data = data_of(ptree, "av/film.mp4")
    r = media(server_p, "av/film.mp4", headers={"Range": "pages=1-2"})
    assert r.status == 200 and r.body == data, f"Range pages=1-2 -> {r.status}"
    for rng in ("bytes=abc", "bytes=10-5", "bytes=--3"):
        r = media(server_p, "av/film.mp4", headers={"Range": rng})
        assert r.status in (200, 416), f"Range {rng} -> {r.status}"
        if r.status == 200:
            assert r.body == data


def test_if_range(server_p, ptree):
    data = data_of(ptree, "av/film.mp4")
    etag = media(server_p, "av/film.mp4", method="HEAD").header("ETag")
    assert etag and not etag.startswith("W/"), \
        f"ETag {etag!r}: If-Range needs a strong validator (RFC 9110 13.1.5)"
    r = media(server_p, "av/film.mp4", headers={"Range": "bytes=0-99", "If-Range": etag})
    check_206(r, data, 0, 99)
    r = media(server_p, "av/film.mp4", headers={"Range": "bytes=0-99", "If-Range": '"stale"'})
    assert r.status == 200 and r.body == data, f"stale If-Range -> {r.status}"
    # another file's ETag is stale too
    other = media(server_p, "av/clip.webm", method="HEAD").header("ETag")
    assert other != etag, "two different files share an ETag"
    r = media(server_p, "av/film.mp4", headers={"Range": "bytes=0-99", "If-Range": other})
    assert r.status == 200 and r.body == data


def test_conditional_get(server_p):
    etag = media(server_p, "av/interview.mp3", method="HEAD").header("ETag")
    r = media(server_p, "av/interview.mp3", headers={"If-None-Match": etag})
    assert r.status == 304 and r.body == b"", r


@pytest.mark.parametrize("path", [
    "av/notes.txt", "books/book1/page1.png", "books/book1/data.bin", "books/book1/manifest.yml",
    "av/interview.mp3.yml", "av/nope.mp3", "av/link.mp3", "av/.secret.mp3", ".hidden/secret.mp3",
    "../outside/outside.mp3", "av/../../outside/outside.mp3", "%2e%2e/outside/outside.mp3",
    "av/%2e%2e/%2e%2e/outside/outside.mp3", "av%2f..%2f..%2foutside%2foutside.mp3",
    "av/..%2f..%2foutside/outside.mp3", "%2fetc%2fpasswd", "/etc/passwd", "av",
    "av/", "",
])
def test_not_served(server_p, path):
    """Images go through the Image API; unservable, sidecar, hidden, missing, symlinked-out and
    escaping paths are 404 (README: identifiers that try to leave ROOT are 404)."""
    r = media(server_p, path)
    assert r.status == 404, f"/iiif/media/{path} -> {r.status} {r.body[:100]!r}"
    assert b"root:x:" not in r.body and b"ID3" not in r.body[:3]


def test_gzip_never_applied_to_ranges(server_p, ptree):
    """A Range answer is bytes of the file as stored: no Content-Encoding on a 206 (the
    Content-Range would otherwise count bytes of another representation)."""
    data = data_of(ptree, "av/interview.en.vtt")
    r = media(server_p, "av/interview.en.vtt",
              headers={"Range": "bytes=0-9", "Accept-Encoding": "gzip"})
    assert r.status == 206 and r.body == data[:10], r
    assert (r.header("Content-Encoding") or "identity") == "identity"
    r = media(server_p, "av/film.mp4", headers={"Accept-Encoding": "gzip"})
    body = r.body
    if r.header("Content-Encoding") == "gzip":
        import gzip
        body = gzip.decompress(body)
    assert body == data_of(ptree, "av/film.mp4")


def test_offsets_beyond_4_gib(server_factory, tmp_path):
    """64-bit offsets: a sparse 5 GiB file with a marker past 4 GiB."""
    root = tmp_path / "bigroot"
    (root / "v").mkdir(parents=True)
    size = 5 * 2 ** 30
    mark_at = 5_000_000_000
    with open(root / "v" / "big.mp4", "wb") as f:
        f.truncate(size)
        f.seek(mark_at)
        f.write(b"MARKMARK")
        f.seek(size - 4)
        f.write(b"TAIL")
    s = server_factory(root_dir=str(root))
    r = s.get("/iiif/media/v/big.mp4", method="HEAD")
    assert r.status == 200 and r.header("Content-Length") == str(size), r.headers
    r = s.get("/iiif/media/v/big.mp4", headers={"Range": f"bytes={mark_at}-{mark_at + 7}"})
    assert r.status == 206 and r.body == b"MARKMARK", (r, r.body[:20])
    assert r.header("Content-Range") == f"bytes {mark_at}-{mark_at + 7}/{size}"
    r = s.get("/iiif/media/v/big.mp4", headers={"Range": "bytes=-4"})
    assert r.status == 206 and r.body == b"TAIL"
    assert r.header("Content-Range") == f"bytes {size - 4}-{size - 1}/{size}"
    r = s.get("/iiif/media/v/big.mp4", headers={"Range": f"bytes={size}-"})
    assert r.status == 416 and r.header("Content-Range") == f"bytes */{size}"


def test_concurrent_ranges_and_manifests(server_p, ptree):
    """Many clients at once (the probe and source caches are shared): every answer is exact."""
    import concurrent.futures
    data = data_of(ptree, "av/film.mp4")
    manifests = ["/iiif/presentation/av/film.mp4/manifest",
                 "/iiif/presentation/av/interview.mp3/manifest",
                 "/iiif/presentation/books/book2/manifest",
                 "/iiif/presentation/collection"]
    # the first requests queue the background import of the captions, which then adds
    # annotation pages to the Canvases: wait until the documents are stable
    import time
    ref = {p: server_p.get(p).body for p in manifests}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.5)
        again = {p: server_p.get(p).body for p in manifests}
        if again == ref:
            break
        ref = again

    def job(i):
        if i % 2:
            a = (i * 997) % (len(data) - 2000)
            r = media(server_p, "av/film.mp4", headers={"Range": f"bytes={a}-{a + 1999}"})
            return r.status == 206 and r.body == data[a:a + 2000], f"range {a}: {r}"
        p = manifests[(i // 2) % len(manifests)]
        r = server_p.get(p)
        return r.status == 200 and r.body == ref[p], f"{p}: {r}"

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(job, range(96)))
    bad = [m for ok, m in results if not ok]
    assert not bad, bad[:5]
