"""users-report: counts of users and jobs, read-only.

    entrypoint task users-report [-- --format csv] [-- --days N]

Prints one "metric value" line each (or metric,value with --format csv).
It changes nothing, so there is nothing for a dry run to rehearse: the
config says dry_run = unsupported and entrypoint refuses --dry-run (64).
"""

import sys

from app.db import connect
from tasks import ArgParser

QUERY = """
SELECT count(*),
       count(*) FILTER (WHERE active),
       count(*) FILTER (WHERE NOT active),
       count(*) FILTER (WHERE active AND coalesce(last_login_at, created_at)
                              < now() - make_interval(days => %s)),
       (SELECT count(*) FROM jobs WHERE status = 'queued'),
       (SELECT count(*) FROM jobs WHERE status = 'done'),
       (SELECT count(*) FROM jobs WHERE status = 'failed')
  FROM users
"""

NAMES = ["users_total", "users_active", "users_inactive", "users_stale",
         "jobs_queued", "jobs_done", "jobs_failed"]


def main(argv):
    p = ArgParser(prog="users-report")
    p.add_argument("--format", choices=["text", "csv"], default="text")
    p.add_argument("--days", type=int, default=365,
                   help="stale: no login for this many days (365)")
    args = p.parse_args(argv)
    conn = connect("users-report")
    try:
        conn.set_session(readonly=True)
        with conn.cursor() as cur:
            cur.execute(QUERY, (args.days,))
            values = cur.fetchone()
        conn.rollback()
    finally:
        conn.close()
    if args.format == "csv":
        print("metric,value")
        for name, value in zip(NAMES, values):
            print("%s,%d" % (name, value))
    else:
        for name, value in zip(NAMES, values):
            print("%-15s %d" % (name, value))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
