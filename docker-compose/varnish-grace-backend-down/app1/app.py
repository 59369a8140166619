"""firedrill's reference API server: writes and reads over its own PostgreSQL connection pool.

Python's standard library and psycopg2, as Debian packages them (python3, python3-psycopg2).

  POST /writes/{seq}  commit seq; 200 {"app", "node", "timeline", "committed": true}, or 503
                      {"app", "committed": false | null, "error"}: false when the commit
                      certainly did not happen (no connection, the INSERT refused or lost before
                      COMMIT was sent), null when the connection broke during COMMIT (it may have)
  GET /writes/latest  200 {"app", "node", "seq"}: the highest seq committed (APP_LATEST_PATH)
  GET /writes/{seq}   200 {"app", "node", "replica", "visible"}
  GET /status         200 {"app", "database": "ok"}, or 503 with "database": "unreachable"

The configuration is a JSON file (argv[1]): app, port, database host/port/name/user (or
db_at_virtual_ip: the run network's last usable address, as keepalived holds it), pool size,
connect timeout, and the password, or none and FIREDRILL_SUPERUSER_PASSWORD set. Without
one, it is read from the environment an own image's server is given (FIREDRILL_APP_NAME,
FIREDRILL_APP_PORT, FIREDRILL_DATABASE_HOST, _PORT, _NAME, _USER, FIREDRILL_SUPERUSER_PASSWORD),
and its paths from APP_WRITE_PATH, APP_READ_PATH, APP_STATUS_PATH if set: so it also serves as
an example of such an image.
"""

import ipaddress
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.pool



def from_environment():
    env = os.environ
    return {
        "app": env["FIREDRILL_APP_NAME"],
        "port": int(env["FIREDRILL_APP_PORT"]),
        "db_host": env["FIREDRILL_DATABASE_HOST"],
        "db_port": int(env["FIREDRILL_DATABASE_PORT"]),
        "db_name": env["FIREDRILL_DATABASE_NAME"],
        "db_user": env["FIREDRILL_DATABASE_USER"],
        "pool": 4,
        "connect_timeout_s": 1,
    }


def virtual_ip():
    """The run network's last usable address, computed from this container's own address as
    keepalived on the database nodes computes the address it holds."""
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "dev", "eth0", "scope", "global"],
        check=True, capture_output=True, text=True,
    ).stdout
    network = ipaddress.ip_interface(out.split()[3]).network
    return str(network.broadcast_address - 1)


CONFIG = json.load(open(sys.argv[1])) if len(sys.argv) > 1 else from_environment()
if CONFIG.get("db_at_virtual_ip"):
    CONFIG["db_host"] = virtual_ip()
APP = CONFIG["app"]
PASSWORD = CONFIG.get("password") or os.environ["FIREDRILL_SUPERUSER_PASSWORD"]


def route(path):
    """A path template's pattern: {seq} is the sequence number."""
    return re.compile("^" + re.escape(path).replace(r"\{seq\}", "([0-9]{1,18})") + "$")


WRITE = route(os.environ.get("APP_WRITE_PATH", "/writes/{seq}"))
READ = route(os.environ.get("APP_READ_PATH", "/writes/{seq}"))
STATUS = os.environ.get("APP_STATUS_PATH", "/status")
LATEST_PATH = os.environ.get("APP_LATEST_PATH", "/writes/latest")

INSERT = (
    "INSERT INTO firedrill_writes (seq) VALUES (%s) "
    "RETURNING current_setting('firedrill.node'), "
    "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"
)
VISIBLE = (
    "SELECT current_setting('firedrill.node'), pg_is_in_recovery(), "
    "EXISTS(SELECT 1 FROM firedrill_writes WHERE seq = %s)"
)
LATEST = "SELECT current_setting('firedrill.node'), max(seq) FROM firedrill_writes"


class Pool:
    """At most `size` connections, opened on demand; a broken one is closed, not reused."""

    def __init__(self, size):
        self.idle = []
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(size)

    def connect(self):
        return psycopg2.connect(
            host=CONFIG["db_host"],
            port=CONFIG["db_port"],
            dbname=CONFIG["db_name"],
            user=CONFIG["db_user"],
            password=PASSWORD,
            connect_timeout=CONFIG["connect_timeout_s"],
            application_name=APP,
        )

    def take(self):
        # Waiting for a slot is bounded: a pool exhausted for that long is an error, as in
        # the pools applications use.
        if not self.slots.acquire(timeout=CONFIG["connect_timeout_s"]):
            raise PoolExhausted("no pooled connection free")
        with self.lock:
            if self.idle:
                return self.idle.pop()
        try:
            return self.connect()
        except BaseException:
            self.slots.release()
            raise

    def give_back(self, conn, broken):
        if broken or conn.closed:
            try:
                conn.close()
            except Exception:
                pass
        else:
            with self.lock:
                self.idle.append(conn)
        self.slots.release()


class PoolExhausted(Exception):
    pass


POOL = Pool(CONFIG["pool"])


def first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def write(seq):
    """(status, body): the commit's outcome by the rule in the module's docstring."""
    try:
        conn = POOL.take()
    except Exception as e:
        return 503, {"committed": False, "error": "connect: " + first_line(e)}
    broken = False
    try:
        try:
            with conn.cursor() as cur:
                cur.execute(INSERT, (seq,))
                node, timeline = cur.fetchone()
        except Exception as e:
            # No COMMIT was sent: the transaction is not committed, whatever broke.
            broken = isinstance(e, psycopg2.OperationalError) or conn.closed != 0
            if not broken:
                conn.rollback()
            code = getattr(e, "pgcode", None)
            return 503, {"committed": False, "error": (code + ": " if code else "") + first_line(e)}
        try:
            conn.commit()
        except Exception as e:
            broken = True
            # An error from the server to COMMIT means it did not commit; a lost connection
            # leaves it unknown.
            code = getattr(e, "pgcode", None)
            committed = False if code else None
            return 503, {"committed": committed, "error": "commit: " + first_line(e)}
        return 200, {"committed": True, "node": node, "timeline": timeline}
    finally:
        POOL.give_back(conn, broken)


def query(sql, args):
    """One read-only statement; raises on any failure."""
    conn = POOL.take()
    broken = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
        conn.rollback()
        broken = False
        return row
    finally:
        POOL.give_back(conn, broken)



class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        body = dict(body, app=APP)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        m = WRITE.match(self.path)
        if not m:
            return self.answer(404, {"error": "no such path"})
        status, body = write(int(m.group(1)))
        self.answer(status, body)

    def do_GET(self):
        try:
            if self.path == STATUS:
                query("SELECT 1", ())
                return self.answer(200, {"database": "ok"})
            if self.path == LATEST_PATH:
                node, seq = query(LATEST, ())
                return self.answer(200, {"node": node, "seq": seq})
            m = READ.match(self.path)
            if m:
                node, replica, visible = query(VISIBLE, (int(m.group(1)),))
                return self.answer(200, {"node": node, "replica": replica, "visible": visible})
            return self.answer(404, {"error": "no such path"})
        except Exception as e:
            return self.answer(503, {"database": "unreachable", "error": first_line(e)})

    def log_message(self, format, *args):
        # One line per request would flood the node's log; errors are in the answers.
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


if __name__ == "__main__":
    server = Server(("0.0.0.0", CONFIG["port"]), Handler)
    print(f"{APP} serving on :{CONFIG['port']}", flush=True)
    server.serve_forever()
