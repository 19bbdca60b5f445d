"""web: the example app's HTTP process.

GET /healthz   200 "ok" while the process runs (liveness)
GET /readyz    200 when the database answers, else 503 (readiness)
GET /          an HTML page listing the users

Listens on $PORT (entrypoint.ini's [env] gives 8080).  On SIGTERM or SIGINT
(forwarded by entrypoint, PID 1 of the container) it stops accepting, lets
requests in flight finish, and exits 0: a clean stop, which the container's
exit code then shows.
"""

import html
import http.server
import os
import signal
import sys
import threading

from app.db import connect, log, release


PAGE_LIMIT = 100


def users_page():
    conn = connect("web")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(*) FILTER (WHERE active)"
                        " FROM users")
            total, active = cur.fetchone()
            cur.execute("SELECT id, email, name, active, last_login_at"
                        " FROM users ORDER BY id LIMIT %s", (PAGE_LIMIT,))
            rows = cur.fetchall()
    finally:
        conn.close()
    out = ["<!doctype html>", "<html><head><meta charset=\"utf-8\">",
           "<title>Users</title></head><body>",
           "<h1>Users</h1>",
           "<p>%d users, %d active (release %s)</p>" % (
               total, active, html.escape(release())),
           "<table>",
           "<tr><th>id</th><th>email</th><th>name</th><th>active</th>"
           "<th>last login</th></tr>"]
    for uid, email, name, is_active, last_login in rows:
        out.append("<tr><td>%d</td><td>%s</td><td>%s</td><td>%s</td>"
                   "<td>%s</td></tr>" % (
                       uid, html.escape(email), html.escape(name),
                       "yes" if is_active else "no",
                       last_login.date().isoformat() if last_login else "-"))
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"


def database_ready():
    try:
        conn = connect("web")
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return True
    except Exception:  # noqa: BLE001
        return False
    finally:
        conn.close()


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "entrypoint-demo"

    def send_text(self, code, body, ctype="text/plain; charset=utf-8"):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self.send_text(200, "ok\n")
        elif path == "/readyz":
            if database_ready():
                self.send_text(200, "ready\n")
            else:
                self.send_text(503, "database unavailable\n")
        elif path == "/":
            try:
                body = users_page()
            except Exception as e:  # noqa: BLE001
                log("web", "GET /: %s" % str(e).strip())
                self.send_text(500, "internal error\n")
                return
            self.send_text(200, body, "text/html; charset=utf-8")
        else:
            self.send_text(404, "not found\n")

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        log("web", "%s %s" % (self.address_string(), fmt % args))


def main():
    port = int(os.environ.get("PORT", "8080"))
    server = http.server.ThreadingHTTPServer(("", port), Handler)
    # Requests in flight finish before we exit (server_close joins them).
    server.daemon_threads = False
    server.block_on_close = True
    stopping = []

    def stop(signum, _frame):
        if stopping:
            return
        stopping.append(signum)
        log("web", "got %s, stopping" % signal.Signals(signum).name)
        # shutdown() waits for serve_forever() to return, and that runs in
        # this (the main) thread: ask from another one.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("web", "listening on port %d (release %s, pid %d)" % (
        port, release(), os.getpid()))
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    log("web", "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
