"""/metrics and /ready (issue #11 §4, docs/metrics.md).

Every scrape is parsed by a strict reader of the Prometheus text format 0.0.4 (below): HELP and
TYPE before a family's samples, families contiguous, no series twice, label and metric names
valid, histograms with increasing cumulative buckets ending in +Inf equal to _count. The tests
make known requests on a server of their own and check that the counters moved by exactly that
much; access is checked directly, through a trusted proxy, and with an allow-list; /ready is
checked while the annotation database is in place, deleted, replaced and changed under it."""

import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from annotation_fixtures import (  # noqa: E402,F401
    _anno_shared_cleanup, atree, canvas_page, get_json, manifest_url, search_total)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
HELP_RE = re.compile(rf"^# HELP ({NAME}) (.*)$")
TYPE_RE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")
SAMPLE_RE = re.compile(rf"^(?P<name>{NAME})(?:\{{(?P<labels>(?:{LABEL})(?:,{LABEL})*)?,?\}})?"
                       rf" (?P<value>\S+)(?: -?\d+)?$")
VALUE_RE = re.compile(r"^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$")
HIST_SUFFIXES = ("_bucket", "_sum", "_count")
TILE_SIZE = 512  # advertised for flat sources (tile-size default)


class Exposition:
    def __init__(self, text):
        self.types = {}
        self.samples = {}  # (name, ((label, value), ...)) -> float
        self._parse(text)

    def _family(self, name):
        if name in self.types:
            return name
        for suffix in HIST_SUFFIXES:
            base = name[:-len(suffix)]
            if name.endswith(suffix) and self.types.get(base) == "histogram":
                return base
        return None

    def _parse(self, text):
        assert text.endswith("\n"), "the exposition must end with a newline"
        helped, current, closed = set(), None, set()
        for n, line in enumerate(text.split("\n")[:-1], 1):
            where = f"line {n}: {line!r}"
            assert line, f"{where}: empty line"
            if line.startswith("#"):
                m = HELP_RE.match(line)
                if m:
                    assert m.group(1) not in helped, f"{where}: HELP twice"
                    helped.add(m.group(1))
                    continue
                m = TYPE_RE.match(line)
                assert m, f"{where}: a comment that is neither HELP nor TYPE"
                name, kind = m.groups()
                assert name not in self.types, f"{where}: TYPE twice"
                assert name in helped, f"{where}: TYPE without HELP"
                self.types[name] = kind
                continue
            m = SAMPLE_RE.match(line)
            assert m, f"{where}: not a sample line"
            name, body, raw = m.group("name"), m.group("labels"), m.group("value")
            assert VALUE_RE.match(raw), f"{where}: value {raw!r}"
            family = self._family(name)
            assert family, f"{where}: no TYPE before this sample"
            if family != current:
                assert family not in closed, f"{where}: family {family} is not contiguous"
                if current:
                    closed.add(current)
                current = family
            labels = tuple(re.findall(LABEL, body or ""))
            keys = [k for k, _v in labels]
            assert len(keys) == len(set(keys)), f"{where}: a label twice"
            key = (name, labels)
            assert key not in self.samples, f"{where}: series twice"
            self.samples[key] = float(raw)
        self._check_histograms()

    def _check_histograms(self):
        for family, kind in self.types.items():
            if kind != "histogram":
                continue
            series = {}
            for (name, labels), v in self.samples.items():
                if name == family + "_bucket":
                    rest = tuple(kv for kv in labels if kv[0] != "le")
                    le = dict(labels)["le"]
                    series.setdefault(rest, []).append((math.inf if le == "+Inf" else
                                                        float(le), v))
            assert series, f"histogram {family} has no buckets"
            for rest, buckets in series.items():
                bounds = [b for b, _c in buckets]
                counts = [c for _b, c in buckets]
                assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds), \
                    f"{family}{rest}: le not increasing: {bounds}"
                assert bounds[-1] == math.inf, f"{family}{rest}: no +Inf bucket"
                assert counts == sorted(counts), f"{family}{rest}: not cumulative: {counts}"
                assert self.samples[(family + "_count", rest)] == counts[-1], \
                    f"{family}{rest}: _count != +Inf bucket"
                assert (family + "_sum", rest) in self.samples, f"{family}{rest}: no _sum"

    def get(self, name, **labels):
        for (n, ls), v in self.samples.items():
            if n == name and dict(ls) == labels:
                return v
        return 0.0  # a counter never incremented is left out

    def has(self, name, **labels):
        return any(n == name and dict(ls) == labels for (n, ls) in self.samples)


def scrape(server, headers=None):
    r = server.get("/metrics", headers=headers)
    assert r.status == 200, f"/metrics -> {r.status}: {r.body[:300]!r}"
    assert r.header("Content-Type") == CONTENT_TYPE
    return Exposition(r.body.decode("utf-8"))


def tile_path(x, y, w, h, out_w):
    return f"/iiif/3/grid.png/{x},{y},{w},{h}/{out_w},/0/default.jpg"


def test_counters_move_with_requests(server_factory):
    s = server_factory()
    before = scrape(s)
    # grid.png is 1000x1000, flat: 512-pixel tiles at scale factors 1 and 2
    tiles = [tile_path(0, 0, 512, 512, 512), tile_path(512, 0, 488, 512, 488),
             tile_path(512, 512, 488, 488, 488), tile_path(0, 0, 1000, 1000, 500),
             tile_path(0, 0, 512, 512, 512)]  # the last one again: from the render cache
    renders = ["/iiif/3/grid.png/full/100,/0/default.jpg",
               "/iiif/3/grid.png/10,10,300,200/150,/0/default.png"]
    for p in tiles[:-1] + renders:
        assert s.get(p).status == 200, p
    # renders are stored by the cache's writer thread: wait for all six before asking again
    scrapes, deadline = 1, time.monotonic() + 30
    while scrape(s).get("iiifd_cache_entries", cache="render") < len(tiles) + len(renders) - 1:
        scrapes += 1
        assert time.monotonic() < deadline, "renders not in the cache after 30 s"
        time.sleep(0.1)
    scrapes += 1
    for p in [tiles[-1], "/iiif/3/grid.png/info.json", "/no/such/thing"]:
        r = s.get(p)
        assert r.status in (200, 404), (p, r.status)
    after = scrape(s)
    d = lambda name, **l: after.get(name, **l) - before.get(name, **l)  # noqa: E731
    assert d("iiifd_http_requests_total", route="tile", code="200") == len(tiles)
    assert d("iiifd_http_requests_total", route="render", code="200") == len(renders)
    assert d("iiifd_http_requests_total", route="info", code="200") == 1
    assert d("iiifd_http_requests_total", route="other", code="404") == 1
    assert d("iiifd_http_requests_total", route="other", code="200") == scrapes
    for route, n in (("tile", len(tiles)), ("render", len(renders)), ("info", 1),
                     ("search", 0), ("media", 0)):
        assert d("iiifd_http_request_duration_seconds_count", route=route) == n, route
        assert d("iiifd_http_request_duration_seconds_bucket", route=route, le="+Inf") == n
    assert d("iiifd_http_request_duration_seconds_sum", route="tile") > 0
    assert d("iiifd_cache_hits_total", cache="render") == 1
    assert d("iiifd_cache_misses_total", cache="render") == len(tiles) + len(renders) - 1
    assert after.get("iiifd_cache_entries", cache="render") == len(tiles) + len(renders) - 1
    assert after.get("iiifd_cache_bytes", cache="render") > 0
    # grid.png probed once, by the first request; every later one counts one hit, whether the
    # I/O thread answered it or handed it to a worker
    assert d("iiifd_cache_misses_total", cache="source") == 1
    assert d("iiifd_cache_hits_total", cache="source") == len(tiles) + len(renders)
    assert d("iiifd_image_renders_total", result="ok") == len(tiles) + len(renders) - 1
    assert d("iiifd_image_responses_total", via="cache") == 1
    # decoded: at least every pixel of the four distinct tiles (the whole image, once at
    # full resolution and once for the factor-2 tile read from the full-resolution file)
    assert d("iiifd_image_decoded_pixels_total") >= 2 * 1000 * 1000
    assert d("iiifd_image_output_pixels_total") >= 512 * 512
    assert after.get("iiifd_http_open_connections") >= 1
    assert after.get("process_resident_memory_bytes") > 10 << 20
    assert abs(after.get("process_start_time_seconds") - time.time()) < 3600
    assert after.has("iiifd_build_info", version=s.get("/health").json()["version"])
    for cache in ("render", "pyramid", "source", "media_probe", "annotation_page",
                  "canvas_index"):
        assert after.has("iiifd_cache_hits_total", cache=cache), cache


def test_pyramid_cache(server_factory):
    """grid.png (1 megapixel, flat) gets a background pyramid with --pyramid-threshold-mp 1:
    a miss while it is being built, hits once it is there."""
    s = server_factory(args=["--pyramid-threshold-mp", "1"])
    tile = tile_path(0, 0, 512, 512, 512)
    assert s.get(tile).status == 200
    m = scrape(s)
    assert m.get("iiifd_cache_misses_total", cache="pyramid") == 1
    deadline = time.monotonic() + 60
    while scrape(s).get("iiifd_cache_entries", cache="pyramid") < 1:
        assert time.monotonic() < deadline, "no pyramid built in 60 s"
        time.sleep(0.2)
    for x in (0, 512):
        assert s.get(tile_path(x, 512, 512 if x == 0 else 488, 488, 512 if x == 0 else 488)) \
            .status == 200
    m = scrape(s)
    assert m.get("iiifd_cache_hits_total", cache="pyramid") == 2
    assert m.get("iiifd_cache_misses_total", cache="pyramid") == 1
    assert m.get("iiifd_cache_bytes", cache="pyramid") > 0


def test_pdf_download_route(server_factory):
    s = server_factory()
    before = scrape(s)
    r = s.get("/pdf/grid.png/manifest?width=200")
    assert r.status == 200 and r.body.startswith(b"%PDF"), (r.status, r.body[:100])
    assert s.get("/pdf/nothing/manifest").status == 404
    after = scrape(s)
    for code in ("200", "404"):
        assert after.get("iiifd_http_requests_total", route="download", code=code) - \
            before.get("iiifd_http_requests_total", route="download", code=code) == 1
    assert after.get("iiifd_image_renders_total", result="ok") > \
        before.get("iiifd_image_renders_total", result="ok")


def test_web_route(server_factory):
    s = server_factory()
    before = scrape(s)
    r = s.get("/", headers={"Accept": "text/html"})
    assert r.status == 200 and "html" in r.content_type, r.content_type
    assert s.get("/").status == 200  # JSON for other clients: "other"
    after = scrape(s)
    d = lambda name, **l: after.get(name, **l) - before.get(name, **l)  # noqa: E731
    assert d("iiifd_http_requests_total", route="web", code="200") == 1
    assert d("iiifd_http_requests_total", route="other", code="200") == 2  # with a scrape


def test_admission_refusal_is_counted(server_factory):
    s = server_factory(args=["--memory-budget-mb", "1", "--max-area", "1000000000",
                             "--max-upscale", "0"])
    before = scrape(s)
    r = s.get("/iiif/3/grid.png/full/^8000,/0/default.png")
    assert r.status == 400 and b"memory budget" in r.body, r.body[:200]
    after = scrape(s)
    assert after.get("iiifd_admission_rejected_total", **{"class": "large"},
                     reason="too_large") - \
        before.get("iiifd_admission_rejected_total", **{"class": "large"},
                   reason="too_large") == 1
    assert after.get("iiifd_admission_waiting", **{"class": "small"}) == 0
    assert after.get("iiifd_admission_running", **{"class": "large"}) == 0


def test_annotation_routes_and_imports(server_factory, atree, tmp_path):
    s = server_factory(args=["--data-dir", str(tmp_path / "data"), "--auto-import", "true"],
                       root_dir=atree.root)
    get_json(s, manifest_url(s, "book"))  # queues page1.xml, page2.xml, page3.hocr
    get_json(s, manifest_url(s, "photos"))  # detections.json, tags.csv
    deadline = time.monotonic() + 60
    while True:
        m = scrape(s)
        if m.get("iiifd_annotation_imports_total", result="ok") >= 5 and \
                m.get("iiifd_annotation_import_queue") == 0:
            break
        assert time.monotonic() < deadline, "the five files were not imported in 60 s"
        time.sleep(0.2)
    assert m.get("iiifd_annotation_imports_total", result="failed") == 0
    assert m.get("iiifd_annotation_import_records_total") > 0
    assert m.get("iiifd_annotation_import_duration_seconds_count") == \
        sum(m.get("iiifd_annotation_imports_total", result=r)
            for r in ("ok", "unchanged", "failed"))
    before = m
    assert search_total(s, manifest_url(s, "book"), q="lorem") > 0
    assert canvas_page(s, "book", 1, "supplementing")["items"]  # long: streamed
    assert canvas_page(s, "photos", 1, "tagging")["items"]
    canvas_page(s, "photos", 1, "tagging")  # the second time from the page cache
    assert s.get("/iiif/media/av/talk.mp3").status == 200
    for _ in range(2):  # the second build of the Manifest finds talk.mp3 probed
        get_json(s, manifest_url(s, "av"))
    after = scrape(s)
    d = lambda name, **l: after.get(name, **l) - before.get(name, **l)  # noqa: E731
    assert d("iiifd_http_requests_total", route="search", code="200") == 1
    assert d("iiifd_http_requests_total", route="annotations", code="200") == 3
    assert d("iiifd_http_requests_total", route="media", code="200") == 1
    assert d("iiifd_http_request_duration_seconds_count", route="presentation") == 2
    assert d("iiifd_cache_hits_total", cache="media_probe") >= 1
    assert after.get("iiifd_cache_entries", cache="media_probe") >= 1
    assert d("iiifd_cache_hits_total", cache="annotation_page") >= 1
    assert after.get("iiifd_cache_bytes", cache="annotation_page") > 0
    assert d("iiifd_cache_hits_total", cache="canvas_index") + \
        d("iiifd_cache_misses_total", cache="canvas_index") >= 1


@pytest.mark.parametrize("headers", [{"X-Forwarded-For": "203.0.113.5"},
                                     {"Forwarded": "for=203.0.113.5"}])
def test_refused_through_a_trusted_proxy(server_factory, headers):
    """The tests' loopback address is the trusted proxy: the client is the forwarded one."""
    s = server_factory(args=["--trusted-proxies", "127.0.0.1"])
    r = s.get("/metrics", headers=headers)
    assert r.status == 403, r.status
    assert b"iiifd_" not in r.body
    assert s.get("/metrics").status == 200  # the proxy's own, direct request


def test_refused_through_an_untrusted_local_proxy(server):
    r = server.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert r.status == 403 and b"iiifd_" not in r.body
    assert scrape(server).types["iiifd_http_requests_total"] == "counter"


def test_allow_list(server_factory):
    s = server_factory(args=["--trusted-proxies", "127.0.0.1", "--metrics-allow",
                             "10.0.0.0/8, 2001:db8::/32"])
    assert scrape(s, {"X-Forwarded-For": "10.1.2.3"}).types
    assert scrape(s, {"X-Forwarded-For": "2001:db8::9"}).types
    assert s.get("/metrics", headers={"X-Forwarded-For": "11.0.0.1"}).status == 403
    assert s.get("/metrics").status == 403, "loopback is not in this allow-list"


def test_empty_allow_list_refuses_everyone(server_factory):
    s = server_factory(config={"metrics-allow": ""})
    assert s.get("/metrics").status == 403


def test_bad_allow_list_answers_500_and_says_why(server_factory):
    s = server_factory(args=["--metrics-allow", "10.0.0.0/99"])
    r = s.get("/metrics")
    assert r.status == 500 and b"metrics-allow" in r.body
    assert "metrics-allow" in s.stderr_text()


def test_metrics_method_and_gzip(server):
    assert server.get("/metrics", method="POST").status in (405, 411)
    r = server.get("/metrics", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.header("Content-Encoding") == "gzip"


# --------------------------------------------------------------------------------------------
# /ready
# --------------------------------------------------------------------------------------------
def ready(s):
    r = s.get("/ready")
    assert r.header("Content-Type") == "application/json"
    assert r.header("Cache-Control") == "no-store"
    doc = r.json()
    assert doc["ready"] is (r.status == 200), (r.status, doc)
    return r.status, doc


def test_ready_when_the_database_answers(server):
    assert ready(server) == (200, {"ready": True})


def test_ready_without_annotations(server_factory):
    assert ready(server_factory(args=["--annotations", "false"]))[0] == 200


def test_not_ready_when_the_database_file_is_deleted(server_factory, tmp_path):
    data = tmp_path / "data"
    s = server_factory(args=["--data-dir", str(data)])
    assert ready(s)[0] == 200
    for name in os.listdir(data):
        os.unlink(data / name)
    status, doc = ready(s)
    assert status == 503 and "gone" in doc["reason"], doc
    assert s.get("/iiif/3/grid.png/info.json").status == 200, "still alive for images"
    assert s.get("/health").status == 200, "/health stays liveness only"


def test_not_ready_when_the_database_file_is_replaced(server_factory, tmp_path):
    data = tmp_path / "data"
    s = server_factory(args=["--data-dir", str(data)])
    assert ready(s)[0] == 200
    db = data / "annotations.sqlite"
    shutil.copy(db, tmp_path / "copy.sqlite")
    os.replace(tmp_path / "copy.sqlite", db)  # e.g. a backup restored by rename
    status, doc = ready(s)
    assert status == 503 and "replaced" in doc["reason"], doc


def test_not_ready_while_the_database_does_not_answer(server_factory, tmp_path):
    """Another program changed the schema under the server (here: renamed the table the
    trivial query reads); ready again once it is back."""
    data = tmp_path / "data"
    s = server_factory(args=["--data-dir", str(data)])
    assert ready(s)[0] == 200
    con = sqlite3.connect(str(data / "annotations.sqlite"), isolation_level=None)
    try:
        con.execute("ALTER TABLE annotations RENAME TO annotations_elsewhere")
        status, doc = ready(s)
        assert status == 503 and "does not answer" in doc["reason"], doc
        con.execute("ALTER TABLE annotations_elsewhere RENAME TO annotations")
    finally:
        con.close()
    assert ready(s)[0] == 200


GOOD = """# HELP a_total A.
# TYPE a_total counter
a_total{x="1"} 3
# HELP h H.
# TYPE h histogram
h_bucket{le="1"} 1
h_bucket{le="+Inf"} 2
h_sum 1.5
h_count 2
"""


@pytest.mark.parametrize("bad", [
    GOOD.replace("# HELP a_total A.\n", ""),                       # TYPE without HELP
    GOOD.replace('a_total{x="1"} 3', 'a_total{x=1} 3'),           # unquoted label value
    GOOD.replace('a_total{x="1"} 3', 'a_total{x="1"} three'),     # not a number
    GOOD.replace('a_total{x="1"} 3', 'b_total 3'),                # no TYPE for it
    GOOD.replace("h_count 2", "h_count 3"),                       # _count != +Inf
    GOOD.replace('h_bucket{le="1"} 1', 'h_bucket{le="1"} 5'),     # not cumulative
    GOOD.replace('h_bucket{le="+Inf"} 2\n', ""),                  # no +Inf
    GOOD + 'a_total{x="2"} 1\n',                                  # family not contiguous
    GOOD.replace('a_total{x="1"} 3', 'a_total{x="1"} 3\na_total{x="1"} 4'),  # series twice
    GOOD[:-1],                                                    # no final newline
])
def test_the_reader_is_strict(bad):
    assert Exposition(GOOD).get("h_count") == 2
    with pytest.raises(AssertionError):
        Exposition(bad)


# --------------------------------------------------------------------------------------------
# metrics-address: a second listener for operators
# --------------------------------------------------------------------------------------------
def test_separate_metrics_listener(server_factory):
    ops_port = fx.free_port()
    s = server_factory(args=["--metrics-address", f"127.0.0.1:{ops_port}",
                             "--metrics-allow", "", "--trusted-proxies", "127.0.0.1"])
    assert s.get("/metrics").status == 403, "the main listener keeps metrics-allow (nobody)"
    # anyone who reaches the operators' listener may read it, forwarded or not
    for headers in (None, {"X-Forwarded-For": "203.0.113.5"}):
        r = fx.request(ops_port, "/metrics", headers=headers)
        assert r.status == 200 and r.header("Content-Type") == CONTENT_TYPE
        Exposition(r.body.decode("utf-8"))
    assert fx.request(ops_port, "/ready").status == 200
    assert fx.request(ops_port, "/health").status == 200
    for path in ("/iiif/3/grid.png/info.json", "/", "/iiif/presentation/collection"):
        assert fx.request(ops_port, path).status == 404, path
    assert s.get("/iiif/3/grid.png/info.json").status == 200


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", ":8080",
                                     "[::1:9100",
                                     "127.0.0.1:PORT"])  # the main listener's own port
def test_bad_metrics_address_stops_the_start(iiifd_bin, root, tmp_path, address):
    port = fx.free_port()
    address = address.replace("PORT", str(port))
    r = subprocess.run([iiifd_bin, "serve", "--port", str(port), "--metrics-address",
                        address, "--data-dir", str(tmp_path / "d"), "--cache-dir",
                        str(tmp_path / "c"), str(root)], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 1 and "metrics-address" in r.stderr, (r.returncode, r.stderr[-300:])
