"""A throwaway PostgreSQL server for tests and benchmarks (Debian's postgresql package).

PgServer().start() runs initdb and pg_ctl in a new folder below /tmp as an unprivileged user (`nobody` when
run as root; PostgreSQL refuses to run as root), with the unix socket in that folder and TCP on
a free 127.0.0.1 port. iiifd connects as the role `iiifd`, which is not a superuser:
new_database() makes an empty database it owns and returns its URI. stop()/start() again
restart the same cluster (the database-restart tests); close() removes the process.

Settings: by default TEST_SETTINGS, small and cheap (many such servers run at once under
`make test`; fsync off: a crash may lose the cluster, which is thrown away anyway).
PgServer(production=True) uses production_settings() instead: what a dedicated database server
with this machine's RAM should run for iiifd imports (docs/scaling.md, "PostgreSQL settings for
imports"). `settings` (a dict) is applied last, over either.

Also a command line, for shell scripts (bench/cluster, bench/store):
  python3 tests/http/pg_server.py [--production] [--set NAME=VALUE]...
      prints the URI of a new database, then waits for stdin to close and stops the server
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def _bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (scripts/install-deps)")
    return found[-1]


TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                 "max_connections": "200", "shared_buffers": "256MB"}


def ram_bytes():
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def production_settings(ram=None):
    """postgresql.conf for a dedicated database server of `ram` bytes (default: this machine's)
    bulk-loading iiifd imports and answering searches: durable (fsync, full_page_writes and
    synchronous_commit keep their defaults, on); docs/scaling.md has what each did."""
    mb = (ram or ram_bytes()) // (1024 * 1024)
    return {
        "max_connections": "200",
        "shared_buffers": f"{mb // 4}MB",                    # 25 % of RAM
        "effective_cache_size": f"{mb * 3 // 4}MB",          # with what the kernel caches
        "maintenance_work_mem": f"{min(2048, mb // 16)}MB",  # the import's closing VACUUM
        "max_wal_size": "16GB",          # 1.1 GB of WAL per million words: no checkpoint (nor
        "checkpoint_timeout": "30min",   # its full-page images) in an import of < 7.5 M words
        "checkpoint_completion_target": "0.9",
        "wal_compression": "lz4",        # those full-page images that remain, compressed
    }


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PgServer:
    def __init__(self, base=None, production=False, settings=None):
        # its own folder under /tmp: the unprivileged user must reach it (pytest's are 0700)
        self.dir = tempfile.mkdtemp(prefix="iiifd-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = None
        self.serial = 0
        self.user = "nobody" if os.geteuid() == 0 else None
        self.settings = dict(production_settings() if production else TEST_SETTINGS)
        self.settings.update(settings or {})

    def _as_user(self, cmd):
        return (["runuser", "-u", self.user, "--"] + cmd) if self.user else cmd

    def _run(self, cmd, **kw):
        p = subprocess.run(self._as_user(cmd), capture_output=True, text=True, cwd=self.dir, **kw)
        if p.returncode != 0:
            raise RuntimeError(f"{cmd} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    def _init(self):
        if self.user:
            uid = pwd.getpwnam(self.user).pw_uid
            os.chown(self.dir, uid, -1)
        self._run([_bin("initdb"), "-D", self.data, "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--locale=C.UTF-8"])
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            for name, value in self.settings.items():
                f.write(f"{name} = '{value}'\n")
            f.write(f"unix_socket_directories = '{self.dir}'\nlisten_addresses = '127.0.0.1'\n")

    def start(self):
        if not os.path.isdir(self.data):
            self._init()
        self.port = self.port or _free_port()
        self._run([_bin("pg_ctl"), "-D", self.data, "-l", os.path.join(self.dir, "log"),
                   "-o", f"-p {self.port}", "-w", "-t", "30", "start"])
        if not self.sql("SELECT 1 FROM pg_roles WHERE rolname = 'iiifd'").strip():
            self.sql("CREATE ROLE iiifd LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        return self

    def stop(self, mode="fast"):
        if os.path.isdir(self.data):
            subprocess.run(self._as_user([_bin("pg_ctl"), "-D", self.data, "-m", mode, "-w",
                                          "stop"]), capture_output=True, cwd=self.dir)

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def sql(self, query, db="postgres"):
        """Runs query as the superuser over the unix socket; its rows as text."""
        return self._run(["psql", "-h", self.dir, "-p", str(self.port), "-U", "postgres",
                          "-d", db, "-Atq", "-v", "ON_ERROR_STOP=1", "-c", query]).stdout

    def uri(self, name):
        return f"postgresql://iiifd@127.0.0.1:{self.port}/{name}"

    def new_database(self, prefix="t"):
        self.serial += 1
        name = f"{prefix}{os.getpid()}_{self.serial}"
        self.sql(f"CREATE DATABASE {name} OWNER iiifd")
        return self.uri(name)


def wait_ready_sql(pg, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            pg.sql("SELECT 1")
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the finally below cleans up
    import argparse
    ap = argparse.ArgumentParser(description="a throwaway PostgreSQL server: prints its URI, "
                                 "stops when stdin closes")
    ap.add_argument("--production", action="store_true",
                    help="production_settings() for this machine's RAM instead of the tests' own")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="one more setting, over the others")
    args = ap.parse_args()
    server = PgServer(production=args.production,
                      settings=dict(kv.split("=", 1) for kv in args.set)).start()
    try:
        print(server.new_database("b"), flush=True)
        sys.stdin.read()
    finally:
        server.close()
