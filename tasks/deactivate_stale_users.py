"""deactivate-stale-users: deactivate users who have not logged in for a year.

    entrypoint task deactivate-stale-users [--dry-run] [--yes] [-- --days N]

A user is stale when active and their last login (or, never having logged
in, their sign-up) is older than --days (365).  The cutoff is fixed once at
the start.  Users are deactivated in batches of --batch-size (500), each
batch its own transaction with one line of output, so a long run holds no
long lock and a run stopped half-way keeps the batches it committed.
Running it twice is safe: the second run finds nothing to do.
--dry-run (or DRY_RUN=1) reports how many would be deactivated and changes
nothing.
"""

import sys

from app.db import connect
from tasks import ArgParser, dry_run_requested

STALE = """
active AND coalesce(last_login_at, created_at) < %(cutoff)s
"""

COUNT = "SELECT count(*) FROM users WHERE" + STALE

BATCH = """
UPDATE users SET active = false, deactivated_at = now()
 WHERE id IN (SELECT id FROM users WHERE""" + STALE + """
               ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
"""


def parse_args(argv):
    p = ArgParser(prog="deactivate-stale-users")
    p.add_argument("--dry-run", action="store_true",
                   help="report how many, change nothing")
    p.add_argument("--days", type=int, default=365,
                   help="no login for this many days (365)")
    p.add_argument("--batch-size", type=int, default=500,
                   help="users per transaction (500)")
    args = p.parse_args(argv)
    if args.days < 1 or args.batch_size < 1:
        p.error("--days and --batch-size must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    dry = dry_run_requested(args.dry_run)
    conn = connect("deactivate-stale-users")
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT now() - make_interval(days => %s)",
                        (args.days,))
            cutoff = cur.fetchone()[0]
            cur.execute(COUNT, {"cutoff": cutoff})
            stale = cur.fetchone()[0]
    since = cutoff.strftime("%Y-%m-%d %H:%M:%S%z")
    if dry:
        print("dry run: would deactivate %d users with no login since %s"
              " (%d batches of %d); nothing changed" % (
                  stale, since, -(-stale // args.batch_size),
                  args.batch_size))
        conn.close()
        return 0
    if stale == 0:
        print("nothing to do: no active user without a login since %s" %
              since)
        conn.close()
        return 0
    print("deactivating %d users with no login since %s, batches of %d" % (
        stale, since, args.batch_size))
    sys.stdout.flush()
    total = batch = 0
    while True:
        with conn:
            with conn.cursor() as cur:
                cur.execute(BATCH, {"cutoff": cutoff,
                                    "limit": args.batch_size})
                n = cur.rowcount
        if n == 0:
            break
        batch += 1
        total += n
        print("batch %d: deactivated %d users (%d so far)" % (batch, n, total))
        sys.stdout.flush()
    conn.close()
    print("done: deactivated %d users in %d batches" % (total, batch))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
