"""Change Discovery 1.0 (docs/discovery.md): the activity stream iiifd keeps by watching and
scanning the root. A harvester that follows the spec's algorithm keeps a copy equal to a full
crawl while the test adds, edits, renames and deletes files; restarts and kill -9 during a burst
of changes lose nothing and report no observed state twice."""

import json
import os
import shutil
import sys
import threading
import time

from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402
from annotation_fixtures import alto_v4, http, layout  # noqa: E402
from discovery_harvester import (  # noqa: E402
    PRES3, STREAM, Harvester, full_crawl, get_json, replay, wait_quiet_log, whole_log)

TOKEN = "discovery-test-token"
ALICE = "https://example.org/users/alice"
PAGE = 4


def png(path, w=24, h=16, colour=(200, 30, 30)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", (w, h), colour).save(path)


def make_tree(root):
    png(f"{root}/books/b1/p1.png")
    png(f"{root}/books/b1/p2.png", colour=(0, 90, 0))
    png(f"{root}/books/b2/p1.png", 30, 20)
    png(f"{root}/maps/m1/sheet.png", 40, 40)
    png(f"{root}/loose.png", 10, 10)


def start(server_factory, root, data, *extra):
    return server_factory(args=["--data-dir", data, "--discovery-page-size", str(PAGE),
                                "--discovery-scan-interval", "0", "--auto-import", "false",
                                "--api-token", f"{ALICE}={TOKEN}", *extra], root_dir=root)


def wait_log_built(server, timeout=15):
    """Until the first scan is stored (503 "being built" before; a shared store takes longer)."""
    deadline = time.monotonic() + timeout
    while server.get(STREAM).status == 503 and time.monotonic() < deadline:
        time.sleep(0.1)


def harvest_until_equal(h, server, what, expect=None, timeout=30):
    """Harvests (incrementally) until the copy equals a full crawl and, when expect is given
    (activity type, v3 id), that activity was processed. Returns the pages the last run read."""
    deadline = time.monotonic() + timeout
    wait_log_built(server)
    found = expect is None
    while True:
        h.harvest()
        found = found or any(a["type"] == expect[0] and expect[1] in (
            a["object"]["id"], a.get("target", {}).get("id")) for a in h.activities)
        crawl = full_crawl(server)
        if found and h.copy == crawl:
            return h.pages_fetched
        if time.monotonic() > deadline:
            raise AssertionError(
                f"after {what}: copy {sorted(h.copy)} != crawl {sorted(crawl)} or "
                f"{expect} not seen; last run: {json.dumps(h.activities)[:2000]}")
        time.sleep(0.3)


def test_harvester_follows_adds_edits_renames_deletes(server_factory, tmp_path):
    root, data = str(tmp_path / "root"), str(tmp_path / "data")
    make_tree(root)
    s = start(server_factory, root, data)
    base = s.base + PRES3
    h = Harvester(s)
    harvest_until_equal(h, s, "the first harvest")
    assert len(h.copy) == 7  # root, books, maps; b1, b2, m1, loose.png
    steps = [
        ("adding a book", lambda: (png(f"{root}/books/b3/p1.png"), png(f"{root}/books/b3/p2.png")),
         ("Create", base + "books/b3/manifest")),
        ("replacing an image", lambda: png(f"{root}/books/b1/p1.png", 50, 70),
         ("Update", base + "books/b1/manifest")),
        ("writing a sidecar", lambda: open(f"{root}/books/b2/manifest.yml", "w").write(
            "label: The second book\n"), ("Update", base + "books/b2/manifest")),
        ("renaming a folder", lambda: os.rename(f"{root}/books/b2", f"{root}/books/b2-renamed"),
         ("Move", base + "books/b2-renamed/manifest")),
        ("renaming a file", lambda: os.rename(f"{root}/loose.png", f"{root}/loose-2.png"),
         ("Move", base + "loose-2.png/manifest")),
        ("deleting a folder", lambda: shutil.rmtree(f"{root}/books/b1"),
         ("Delete", base + "books/b1/manifest")),
        ("adding a Collection level", lambda: png(f"{root}/maps/m1/inset/a.png"),
         ("Create", base + "maps/m1/collection")),
    ]
    total = get_json(s, STREAM)["totalItems"]
    for what, change, expect in steps:
        change()
        pages = harvest_until_equal(h, s, what, expect)
        before, total = total, get_json(s, STREAM)["totalItems"]
        # incremental: it read only the pages of the new activities (plus the one before),
        # never the whole stream
        assert pages <= (total - before) // PAGE + 2 < -(-total // PAGE), (what, pages, total)
    # the Move kept the new label: the moved Manifest was fetched at its new URL
    assert h.copy[base + "books/b2-renamed/manifest"]["label"] == {"none": ["The second book"]}
    # a write-API edit is a change of the Manifest too
    target = base + "books/b3/manifest/canvas/1"
    anno = {"@context": "http://iiif.io/api/presentation/3/context.json", "type": "Annotation",
            "motivation": "commenting", "target": target + "#xywh=1,1,5,5",
            "body": {"type": "TextualBody", "value": "a note", "format": "text/plain"}}
    r = http(s, "POST", "/iiif/presentation/books/b3/manifest/annotations", body=anno,
             headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/ld+json"})
    assert r.status == 201, (r.status, r.body[:300])
    harvest_until_equal(h, s, "a write-API edit", ("Update", base + "books/b3/manifest"))
    # the whole log is consistent, and the 2.1 variants follow the 3.0 ones one for one
    log = whole_log(s)
    v3 = [a for a in log if a["object"]["id"].startswith(base)]
    v2 = [a for a in log if "/iiif/presentation-v2/" in a["object"]["id"]]
    assert replay(v3) == set(full_crawl(s))
    assert len(v2) == len(v3)
    for a, b in zip(v3, v2):
        assert a["type"] == b["type"] and a["endTime"] == b["endTime"]
        assert a["object"]["canonical"] == b["object"]["canonical"]
        assert b["object"]["id"] == a["object"]["id"].replace("/iiif/presentation/",
                                                              "/iiif/presentation-v2/")
        assert "presentation/2/context.json" in b["object"]["format"]
    times = [a["endTime"] for a in log]
    assert times == sorted(times)


def test_stream_documents_and_caching(server_factory, tmp_path):
    root, data = str(tmp_path / "root"), str(tmp_path / "data")
    make_tree(root)
    s = start(server_factory, root, data)
    total = wait_quiet_log(s)
    assert total == 14  # 7 resources, each in 2 variants
    r = s.get(STREAM)
    assert r.content_type.startswith("application/ld+json")
    assert 'profile="http://iiif.io/api/discovery/1/context.json"' in r.content_type
    assert r.header("Access-Control-Allow-Origin") == "*"
    coll = r.json()
    assert coll["@context"] == "http://iiif.io/api/discovery/1/context.json"
    assert list(coll)[0] == "@context"
    assert coll["id"] == s.base + STREAM and coll["totalItems"] == 14
    assert coll["first"]["id"].endswith("/page/0") and coll["last"]["id"].endswith("/page/3")
    assert "max-age=10" in r.header("Cache-Control")
    full = s.get("/iiif/discovery/activity/page/0")
    last = s.get("/iiif/discovery/activity/page/3")
    assert "max-age=31536000" in full.header("Cache-Control")
    assert "immutable" not in full.header("Cache-Control") + last.header("Cache-Control")
    assert "max-age=31536000" not in last.header("Cache-Control")
    etag = full.header("ETag")
    assert etag and s.get("/iiif/discovery/activity/page/0",
                          headers={"If-None-Match": etag}).status == 304
    p0, p1, p3 = full.json(), s.get("/iiif/discovery/activity/page/1").json(), last.json()
    assert "prev" not in p0 and p0["next"]["id"] == p1["id"] and p1["prev"]["id"] == p0["id"]
    assert "next" not in p3 and p3["startIndex"] == 12 and p1["startIndex"] == 4
    assert p0["partOf"] == {"id": s.base + STREAM, "type": "OrderedCollection"}
    a = p0["orderedItems"][0]
    assert a["type"] == "Create" and a["object"]["type"] == "Collection"
    assert a["object"]["id"] == s.base + "/iiif/presentation/collection"
    assert a["object"]["canonical"] == s.base + "/view/collection"
    assert a["endTime"].endswith("Z") and len(a["endTime"]) == 24
    assert len(a["startTime"]) == 24 and a["startTime"] <= a["endTime"]  # the scan's start
    # bad page parameters
    for bad in ("page/4", "page/-1", "page/01", "page/x", "page/", "page/1/", "page",
                "page/99999999999999999999", "all-changes/", "nothing"):
        assert s.get("/iiif/discovery/activity/" + bad).status == 404, bad
    # the root Collection links the stream; the home page too
    root_doc = get_json(s, s.base + "/iiif/presentation/collection")
    links = [l for l in root_doc.get("seeAlso", []) if l["type"] == "OrderedCollection"]
    assert [l["id"] for l in links] == [s.base + STREAM]
    home = s.get("/", headers={"Accept": "text/html"})
    assert home.status == 200 and (s.base + STREAM).encode() in home.body
    # a full page never changes as the stream grows
    png(f"{root}/books/b9/p.png")
    fx.wait_for(lambda: get_json(s, s.base + STREAM)["totalItems"] > 14, "new activities")
    assert s.get("/iiif/discovery/activity/page/0").body == full.body


def test_discovery_off(server_factory, tmp_path):
    root = str(tmp_path / "root")
    make_tree(root)
    s = server_factory(args=["--discovery", "false"], root_dir=root)
    assert s.get(STREAM).status == 404
    assert "seeAlso" not in get_json(s, s.base + "/iiif/presentation/collection")


def churn(root, n, tag, pause=0.02):
    """A burst of changes: new books, edits of them, renames and deletes."""
    def book(i):
        return f"{root}/burst/{tag}{i}"
    for i in range(n):
        png(f"{book(i)}/p.png", 10 + i, 10)
        if i % 3 == 1 and os.path.isdir(book(i - 1)):
            png(f"{book(i - 1)}/p.png", 40, 12 + i)
        if i % 4 == 2 and os.path.isdir(book(i - 2)):
            os.rename(book(i - 2), book(i - 2) + "-moved")
        if i % 5 == 4 and os.path.isdir(book(i - 1)):
            shutil.rmtree(book(i - 1))
        time.sleep(pause)


def kill9(s):
    s.stopped_on_purpose = True
    s.kill()  # SIGKILL


def check_log(s):
    """The whole log replays without contradiction to exactly what the root holds now."""
    log = whole_log(s)
    v3 = [a for a in log if a["type"] == "Refresh" or a["object"]["id"].startswith(s.base + PRES3)]
    assert replay(v3) == set(full_crawl(s)), "the log does not describe what the root holds"
    return log


def test_restart_and_kill_during_a_burst(server_factory, tmp_path):
    root, data = str(tmp_path / "root"), str(tmp_path / "data")
    make_tree(root)
    s = start(server_factory, root, data)
    wait_quiet_log(s)
    churn(root, 12, "a")
    kill9(s)  # in the middle of (or right after) the burst's syncs
    churn(root, 8, "b")  # while iiifd is down
    png(f"{root}/books/b2/p1.png", 33, 33)
    png(f"{root}/books/b2/p1.png", 34, 34)  # edited twice while down
    s = start(server_factory, root, data)
    n_before = wait_quiet_log(s)
    log = check_log(s)
    # the changes made while down appear once each: b2 has one Update since the restart
    b2 = s.base + PRES3 + "books/b2/manifest"
    assert [a["type"] for a in log if a["object"]["id"] == b2] == ["Create", "Update"]
    # kill -9 during a burst that the server is busy recording (a burst delays a sync by 2 s
    # at most, so at 2.3 s of a 4 s burst one has started)
    burst = threading.Thread(target=churn, args=(root, 40, "c", 0.1))
    t_burst = time.monotonic()
    burst.start()
    time.sleep(2.3)
    kill9(s)
    burst.join()
    s = start(server_factory, root, data)
    wait_quiet_log(s)
    log = check_log(s)
    assert time.monotonic() - t_burst < 120
    # a restart that finds nothing changed records nothing (no observed state twice)
    total = len(log)
    assert s.stop() == 0
    s = start(server_factory, root, data)
    assert wait_quiet_log(s) == total
    kill9(s)
    s = start(server_factory, root, data)
    assert wait_quiet_log(s) == total
    assert n_before <= total


def test_cli_prints_and_rebuilds(iiifd_bin, server_factory, tmp_path):
    root, data = str(tmp_path / "root"), str(tmp_path / "data")
    make_tree(root)
    s = start(server_factory, root, data)
    total = wait_quiet_log(s)
    db_args = fx.database_args(data)
    out = fx.run([iiifd_bin, "activity", *db_args, "--data-dir", data, root]).stdout.splitlines()
    assert len(out) == total and out[0].split("\t")[2:6] == ["Create", "Collection", "v3", "/"]
    rebuilt = fx.run([iiifd_bin, "activity", *db_args, "--data-dir", data, "--rebuild",
                      root]).stdout
    assert "7 resources re-issued" in rebuilt
    fx.wait_for(lambda: get_json(s, s.base + STREAM)["totalItems"] == total + 1 + 14,
                "the Refresh and re-issued activities")
    log = whole_log(s)
    assert log[:total] == whole_log(s)[:total]  # history is never rewritten
    refresh = log[total]
    assert refresh["type"] == "Refresh" and "startTime" in refresh and "object" not in refresh
    assert {a["type"] for a in log[total + 1:]} == {"Update"}
    assert refresh["startTime"] <= log[total + 1]["endTime"]
    # a harvester that never saw the stream stops at the Refresh and still has everything
    h = Harvester(s)
    h.harvest()
    assert h.copy == full_crawl(s) and h.pages_fetched <= 5
    lines = fx.run([iiifd_bin, "activity", *fx.database_args(data), "--json",
                    "--public-url", "https://x.org",
                    "--data-dir", data, root]).stdout.splitlines()
    assert json.loads(lines[0])["object"]["id"] == "https://x.org/iiif/presentation/collection"


def test_an_ocr_import_is_an_update(iiifd_bin, server_factory, tmp_path):
    """`iiifd import` changes no file, but the Manifest now lists the OCR: the import marks it,
    and the running server's next scan reports it (here: within the 1 s schedule)."""
    root, data = str(tmp_path / "root"), str(tmp_path / "data")
    make_tree(root)
    s = server_factory(args=["--data-dir", data, "--discovery-scan-interval", "1",
                             "--auto-import", "false"], root_dir=root)
    h = Harvester(s)
    harvest_until_equal(h, s, "the first harvest")
    with open(f"{root}/books/b2/p1.xml", "w") as f:
        f.write(alto_v4([layout("an imported line", 2, 2, 4, 4, 4)], 30, 20, "p1.png"))
    base = s.base + PRES3
    harvest_until_equal(h, s, "an ALTO file", ("Update", base + "books/b2/manifest"))
    before = get_json(s, STREAM)["totalItems"]
    unimported = h.copy[base + "books/b2/manifest"]
    fx.run([iiifd_bin, "import", "--root", root, "--data-dir", data, *fx.database_args(data),
            "--quiet",
            f"{root}/books/b2/p1.xml"])
    harvest_until_equal(h, s, "the import", ("Update", base + "books/b2/manifest"))
    assert get_json(s, STREAM)["totalItems"] > before
    assert h.copy[base + "books/b2/manifest"] != unimported  # it lists the OCR now


def test_an_access_policy_is_an_update(server_factory, tmp_path):
    """A new or changed access.yml changes the documents of what it governs (they name the
    access services): each of those Manifests and Collections gets an Update, the rest none."""
    root, data = str(tmp_path / "root"), str(tmp_path / "data")
    make_tree(root)
    s = start(server_factory, root, data)
    base = s.base + PRES3
    h = Harvester(s)
    harvest_until_equal(h, s, "the first harvest")
    seen = len(whole_log(s))
    with open(f"{root}/books/access.yml", "w") as f:
        f.write("policy: clickthrough\nterms: Read only in the reading room.\n")
    harvest_until_equal(h, s, "protecting books/", ("Update", base + "books/b2/manifest"))
    updated = {a["object"]["id"] for a in whole_log(s)[seen:] if a["type"] == "Update"}
    assert {base + "books/collection", base + "books/b1/manifest",
            base + "books/b2/manifest"} <= updated, updated
    assert not updated & {base + "maps/m1/manifest", base + "loose.png/manifest"}, updated
    # the copy a harvester keeps shows the access services the Manifest now names
    b1 = json.dumps(h.copy[base + "books/b1/manifest"])
    assert "AuthProbeService2" in b1, b1[:500]
    with open(f"{root}/books/access.yml", "w") as f:
        f.write("policy: public\n")
    harvest_until_equal(h, s, "opening books/ again", ("Update", base + "books/b1/manifest"))
    assert "AuthProbeService2" not in json.dumps(h.copy[base + "books/b1/manifest"])
