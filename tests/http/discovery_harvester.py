"""A Change Discovery 1.0 harvester as the spec's §3.5 describes it, and the full crawl its copy is
compared with. Used by test_discovery.py; shared so that other tests can harvest too."""

import json
import time
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import fixtures as fx  # noqa: E402

STREAM = "/iiif/discovery/activity/all-changes"
PRES3 = "/iiif/presentation/"
KNOWN_TYPES = ("Collection", "Manifest")


def get_json(server, url):
    path = url[len(server.base):] if url.startswith(server.base) else url
    r = server.get(path)
    assert r.status == 200, f"GET {path}: {r.status} {r.body[:300]!r}"
    return r.json()


def full_crawl(server):
    """Every Collection and Manifest reachable from the root Collection: {id: document}."""
    docs, todo = {}, [server.base + PRES3 + "collection"]
    while todo:
        url = todo.pop()
        if url in docs:
            continue
        doc = get_json(server, url)
        docs[url] = doc
        if doc["type"] == "Collection":
            todo += [m["id"] for m in doc.get("items", []) if m["type"] in KNOWN_TYPES]
    return docs


def activity_key(a):
    """§3.5.4: type, object.id and endTime identify an activity (plus target for a Move)."""
    return (a["type"], a.get("object", {}).get("id"), a.get("endTime") or a.get("startTime"),
            a.get("target", {}).get("id"))


class Harvester:
    """Keeps a copy {id: document} of the Presentation 3 resources of one stream.

    harvest() follows the Page Algorithm: from the last page backwards, newest activity first,
    until it meets an activity a previous run processed (or the first page). Resources are
    fetched when an activity includes them, never by crawling."""

    def __init__(self, server):
        self.server = server
        self.copy = {}
        self.seen = set()          # keys of every activity processed by earlier runs
        self.last_crawl = None
        self.pages_fetched = 0     # by the last run
        self.activities = []       # processed by the last run, newest first
        self.included = set()      # ids fetched by the last run

    def _variant(self, a):
        obj = a.get("object") or {}
        return obj.get("type") in KNOWN_TYPES and obj.get("id", "").startswith(
            self.server.base + PRES3)

    def harvest(self):
        self.pages_fetched, self.activities, self.included = 0, [], set()
        coll = get_json(self.server, STREAM)
        assert coll["type"] == "OrderedCollection" and coll["last"]["type"] == \
            "OrderedCollectionPage", coll
        processed, new_keys, only_delete = set(), set(), False
        url = coll["last"]["id"]
        while url:
            page = get_json(self.server, url)
            self.pages_fetched += 1
            assert page["type"] == "OrderedCollectionPage" and page["orderedItems"], page
            for a in reversed(page["orderedItems"]):
                key = activity_key(a)
                if key in self.seen:
                    url = None
                    break
                new_keys.add(key)
                if a["type"] == "Refresh":
                    if self.last_crawl is None:
                        url = None
                        break
                    only_delete = True
                    continue
                if not self._variant(a):
                    continue
                oid = a["object"]["id"]
                if oid in processed:
                    continue
                self.activities.append(a)
                if a["type"] == "Delete":
                    self.copy.pop(oid, None)
                elif only_delete:
                    pass
                elif a["type"] in ("Create", "Update"):
                    self._include(oid)
                elif a["type"] == "Move":
                    self.copy.pop(oid, None)
                    tid = a["target"]["id"]
                    if tid not in processed:
                        self._include(tid)
                    processed.add(tid)
                processed.add(oid)
            else:
                url = page.get("prev", {}).get("id")
        self.seen |= new_keys
        self.last_crawl = True
        return self.copy

    def _include(self, oid):
        self.copy[oid] = get_json(self.server, oid)
        self.included.add(oid)


def replay(activities):
    """Checks a whole log is consistent and returns the set of ids it leaves: a Create only for
    an id not present, Update/Delete/Move only for one present, a Move's target not present."""
    alive = set()
    for a in activities:
        t = a["type"]
        if t == "Refresh":
            continue
        oid = a["object"]["id"]
        if t == "Create":
            assert oid not in alive, f"Create of a resource already there: {json.dumps(a)}"
            alive.add(oid)
        elif t == "Update":
            assert oid in alive, f"Update of a resource not there: {json.dumps(a)}"
        elif t == "Delete":
            assert oid in alive, f"Delete of a resource not there: {json.dumps(a)}"
            alive.remove(oid)
        elif t == "Move":
            tid = a["target"]["id"]
            assert oid in alive and tid not in alive, f"impossible Move: {json.dumps(a)}"
            alive.remove(oid)
            alive.add(tid)
        else:
            raise AssertionError(f"unexpected activity type {t}")
    return alive


def whole_log(server, attempts=5):
    """Every activity of the stream, oldest first, read forwards from the first page.

    A live stream may grow while it is read (a scan lands between two pages); the read is then
    made again, and the count is checked only for a read during which the stream did not change.
    """
    for _ in range(attempts):
        total = get_json(server, STREAM)["totalItems"]
        out = read_pages(server)
        if get_json(server, STREAM)["totalItems"] == total:
            assert len(out) == total, (len(out), total)
            return out
    raise AssertionError(f"the stream kept changing during {attempts} reads")


def read_pages(server):
    coll = get_json(server, STREAM)
    out, url = [], coll["first"]["id"]
    while url:
        page = get_json(server, url)
        assert page["startIndex"] == len(out), (page["startIndex"], len(out))
        out += page["orderedItems"]
        url = page.get("next", {}).get("id")
    return out


def wait_quiet_log(server, timeout=30):
    """Waits until the stream exists and its size has stayed the same for 2.5 s."""
    seen, since = None, None

    def settled():
        nonlocal seen, since
        r = server.get(STREAM)
        n = r.json()["totalItems"] if r.status == 200 else None
        now = time.monotonic()
        if n != seen or n is None:
            seen, since = n, now
            return False
        return now - since >= 2.5
    fx.wait_for(settled, "the activity log to settle", timeout)
    return seen
