"""A cluster on one machine for tests and `make bench-cluster`: a throwaway PostgreSQL
(pg_server.py), N iiifd nodes over one root sharing its database, and Debian's HAProxy in front
(round robin, health check on /ready, retries on connection failures and empty responses, so a
node that dies costs only the requests it had in flight, and those are retried).

    c = Cluster(iiifd_bin, root, workdir, nodes=3, args=[...]).start()
    c.port            the balancer's port;  c.nodes  the fx.Server of each node
    c.kill(i)         SIGKILL node i;       c.close()  stops everything it started

and what the cluster tests (test_cluster.py on a folder, test_cluster_s3.py on a bucket) share:
mixed traffic through the balancer while a node is killed (run_traffic_with_a_kill,
check_traffic), and the counters and database rows they read (imports_ok, pg_rows).
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse

import fixtures as fx
import pg_server
import pyramid_fixtures as pf
from annotation_fixtures import ALICE, LOREM_TOTAL, TOKEN, manifest_url, search_total

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
NODE_ARGS = ["--api-token", f"{ALICE}={TOKEN}"]  # writes allowed with AUTH
WRITE = None  # in a traffic mix: an annotation POST


def wait_search_total(node, manifest, q, total, timeout=120):
    """Asks for the Manifest (which starts its imports), then waits until a search on node
    finds total hits."""
    import json
    node.get(f"/iiif/presentation/{manifest}/manifest")
    last = None

    def done():
        nonlocal last
        r = node.get(f"/iiif/presentation/{manifest}/manifest/search?q={q}")
        last = json.loads(r.body).get("partOf", {}).get("total") if r.status == 200 else r.status
        return last == total
    fx.wait_for(done, f"{total} hits for {q} (last: {last})", timeout)

HAPROXY_CFG = """global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
    # a request never rides an idle connection to a node that may have died since: a dead
    # node is then a refused connection, retried elsewhere even for a POST (nothing was sent)
    http-reuse never
backend nodes
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    timeout check 2s
    default-server inter {inter} fall {fall} rise 2
{servers}
frontend balancer
    bind 127.0.0.1:{port}
    default_backend nodes
"""


class Cluster:
    def __init__(self, binary, root, workdir, nodes=3, args=(), pg=None, fall=1, inter="300ms"):
        self.fall, self.inter = fall, inter  # health check: a node is out after fall misses
        self.binary, self.root, self.workdir = binary, str(root), str(workdir)
        self.count, self.args = nodes, list(args)
        self.pg, self.own_pg = pg, pg is None
        self.nodes, self.haproxy, self.port, self.uri = [], None, None, None

    def start(self):
        if self.pg is None:
            self.pg = pg_server.PgServer().start()
        self.uri = self.pg.new_database("c")
        for i in range(self.count):
            s = fx.Server(self.binary, self.root, self.workdir, name=f"node{i}",
                          args=["--database", self.uri, *self.args])
            self.nodes.append(s.start())
        self._start_haproxy()
        return self

    def _start_haproxy(self):
        if not shutil.which("haproxy"):
            raise RuntimeError("haproxy is not installed (scripts/install-deps)")
        self.port = fx.free_port()
        servers = "\n".join(f"    server n{i} 127.0.0.1:{s.port} check"
                            for i, s in enumerate(self.nodes))
        cfg = os.path.join(self.workdir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY_CFG.format(servers=servers, port=self.port, fall=self.fall,
                                      inter=self.inter))
        self._log = open(os.path.join(self.workdir, "haproxy.log"), "wb")
        self.haproxy = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=self._log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if fx.request(self.port, "/health", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("haproxy did not come up: " + open(self._log.name).read()[-2000:])

    def kill(self, i):
        s = self.nodes[i]
        s.stopped_on_purpose = True
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait(10)

    def close(self):
        if self.haproxy and self.haproxy.poll() is None:
            self.haproxy.kill()
            self.haproxy.wait(10)
        for s in self.nodes:
            s.kill()
        if self.own_pg and self.pg:
            self.pg.close()


class Balanced:
    """Requests through the balancer, as fx.Server-like object for the annotation helpers."""

    def __init__(self, port):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path, **kw):
        return fx.request(self.port, path, **kw)


def call(port, method, path, body=None, headers=None):
    """One request on a connection of its own: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def comment(base, value):
    """A commenting annotation on the first Canvas of the "book" Manifest, as JSON text."""
    return json.dumps({"@context": "http://iiif.io/api/presentation/3/context.json",
                       "type": "Annotation", "motivation": "commenting",
                       "body": {"type": "TextualBody", "value": value, "format": "text/plain"},
                       "target": f"{base}/iiif/presentation/book/manifest/canvas/1"})


def imports_ok(node):
    """The annotation files node has imported (its /metrics)."""
    text = node.get("/metrics").body.decode()
    return int(float(next(line.split()[-1] for line in text.splitlines()
                          if line.startswith('iiifd_annotation_imports_total{result="ok"}'))))


def work_done(nodes):
    """Per node: (annotation files imported, pyramids built); compared before and after a run,
    duplicate work shows as a change on a node that had nothing new to do."""
    return [(imports_ok(n), pf.metric(n, pf.BUILDS_OK)) for n in nodes]


def pg_rows(cluster, sql):
    """The rows of a query on the cluster's database, as lists of column texts."""
    db = cluster.uri.rsplit("/", 1)[1]
    return [line.split("|") for line in cluster.pg.sql(sql, db=db).splitlines() if line]


# Mixed traffic of the annotation tree (annotation_fixtures.make_tree): tiles, renders, info,
# Presentation, search, and annotation writes (WRITE).
TRAFFIC = ["/iiif/3/book%2Fpage1.png/0,0,256,256/256,/0/default.jpg",
           "/iiif/3/book%2Fpage2.png/full/200,/0/default.jpg",
           "/iiif/3/photos%2Fa.jpg/info.json",
           "/iiif/presentation/book/manifest",
           "/iiif/presentation/book/manifest/search?q=lorem",
           WRITE]


class Traffic:
    """What run_traffic_with_a_kill saw: every request as (start, end, path or "POST", status,
    body head), the annotations written (id, word), when the node was killed."""

    def __init__(self, paths, seconds, workers):
        self.paths, self.seconds, self.workers = paths, seconds, workers
        self.log, self.written, self.t_start, self.t_kill = [], [], None, None


def _worker(port, paths, stop, traffic, n):
    base, i = f"http://127.0.0.1:{port}", n
    while not stop.is_set():
        path = paths[i % len(paths)]
        i += 1
        t0 = time.monotonic()
        try:
            if path is WRITE:
                word = f"w{n}n{i}z"
                status, body = call(port, "POST", "/iiif/presentation/book/manifest/annotations",
                                    comment(base, word), AUTH)
                if status == 201:
                    traffic.written.append((json.loads(body)["id"], word))
            else:
                status, body = call(port, "GET", path)
        except OSError as e:
            status, body = 0, str(e).encode()
        traffic.log.append((t0, time.monotonic(), path or "POST", status, body[:200]))


def run_traffic_with_a_kill(cluster, victim, paths=TRAFFIC, seconds=12, kill_at=5, workers=6):
    """workers threads send paths round robin through the balancer for seconds; node victim is
    killed (SIGKILL) kill_at seconds in. Returns the Traffic."""
    traffic, stop = Traffic(paths, seconds, workers), threading.Event()
    threads = [threading.Thread(target=_worker, args=(cluster.port, paths, stop, traffic, n))
               for n in range(workers)]
    traffic.t_start = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(kill_at)
    traffic.t_kill = time.monotonic()
    cluster.kill(victim)
    time.sleep(seconds - kill_at)
    stop.set()
    for t in threads:
        t.join(60)
    return traffic


KILL_GRACE = 0.25  # seconds after the kill a connection to the dying node may still open


def check_traffic(traffic, cluster, live, work_before):
    """0 errors beyond the killed node's in-flight requests, every kind of request answered,
    every annotation written (201) there on each live node, the search totals unchanged, no
    import or pyramid build done again (work_done(live) as before the run, no failed build).
    Returns a line saying what was seen."""
    assert work_done(live) == work_before, "an import or a pyramid build done again"
    assert sum(pf.metric(n, pf.BUILDS_FAILED) for n in live) == 0
    errors = [e for e in traffic.log if e[3] not in (200, 201)]
    # in flight at the kill: started before it, or while the dying node's kernel still
    # accepted connections (SIGKILL is not instant: its socket closes as the process is torn
    # down, and a POST HAProxy sent there is not retried); ended after it
    t_kill = traffic.t_kill
    in_flight = [e for e in errors if e[0] <= t_kill + KILL_GRACE and e[1] >= t_kill]
    assert len(traffic.log) > 50, f"only {len(traffic.log)} requests in {traffic.seconds} s"
    assert len(errors) == len(in_flight), (
        f"{len(errors)} errors, {len(in_flight)} of them in flight at the kill: "
        f"{[(round(e[0] - traffic.t_start, 2), e[2], e[3], e[4]) for e in errors[:8]]}")
    assert len(in_flight) <= traffic.workers
    kinds = {e[2] for e in traffic.log if e[3] in (200, 201)}
    assert len(kinds) == len(set(traffic.paths)), f"not every kind of request succeeded: {kinds}"
    assert traffic.written, "no writes"
    for anno_id, _word in traffic.written:  # nothing written is lost
        path = urllib.parse.urlsplit(anno_id).path  # an id made by the balancer's address
        for node in live:
            assert node.get(path).status == 200, f"{anno_id} lost"
    lb = Balanced(cluster.port)
    assert search_total(lb, manifest_url(lb, "book"), q="lorem") == LOREM_TOTAL
    word = traffic.written[-1][1]
    assert search_total(lb, manifest_url(lb, "book"), q=word) == 1, f"{word} not searchable"
    return (f"{len(traffic.log)} requests in {traffic.seconds} s through HAProxy, "
            f"{len(errors)} errors ({len(in_flight)} in flight at the kill), "
            f"{len(traffic.written)} writes kept")
