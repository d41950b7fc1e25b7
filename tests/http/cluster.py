"""A cluster on one machine for tests and `make bench-cluster`: a throwaway PostgreSQL
(pg_server.py), N iiifd nodes over one root sharing its database, and Debian's HAProxy in front
(round robin, health check on /ready, retries on connection failures and empty responses, so a
node that dies costs only the requests it had in flight, and those are retried).

    c = Cluster(iiifd_bin, root, workdir, nodes=3, args=[...]).start()
    c.port            the balancer's port;  c.nodes  the fx.Server of each node
    c.kill(i)         SIGKILL node i;       c.close()  stops everything it started
"""

import os
import shutil
import signal
import subprocess
import time

import fixtures as fx
import pg_server


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
