"""The example app's interactive console (`entrypoint shell`).

Started as `python3 -i -m app.console`: this module runs, then Python's
prompt stays open with `db` (a connection) and `q(sql, *args)` at hand.
It sees exactly the environment web and worker see.
"""

import os

from app.db import connect, release


def q(sql, *args):
    """Run one statement and return its rows (autocommit)."""
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else cur.rowcount


try:
    db = connect("console", autocommit=True)
except Exception as e:  # noqa: BLE001 - the console works without it
    db = None
    print("console: no database connection: %s" % str(e).strip())

print("console: release %s, process %s; db and q(sql, *args) are ready" % (
    release(), os.environ.get("ENTRYPOINT_PROCESS", "?")))
