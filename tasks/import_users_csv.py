"""import-users-csv: import users from a CSV file, all or nothing.

    entrypoint task import-users-csv [--dry-run] -- FILE
    podman run -i --rm IMAGE task import-users-csv -- - < users.csv

The first line is the header: email and name are required, last_login_at
(YYYY-MM-DD or ISO 8601) is optional, any other column is an error.  Every
row is checked first: field count, email syntax, empty name, the date,
duplicates inside the file and emails the database already has.  Each bad
row is reported on stderr with its line number; when there is any, nothing
is imported and the exit code is 65.  Otherwise all users are inserted in
one transaction, each with a "welcome" job for the worker.
--dry-run (or DRY_RUN=1) checks everything and changes nothing.

Exit codes: 0 imported (or nothing to import), 64 usage, 65 bad rows,
66 the file cannot be read.
"""

import csv
import datetime
import io
import os
import re
import sys

import psycopg2
from psycopg2.extras import execute_values

from app.db import connect
from tasks import ArgParser, dry_run_requested

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
REQUIRED = ("email", "name")
OPTIONAL = ("last_login_at",)

INSERT_USERS = """
INSERT INTO users (email, name, last_login_at) VALUES %s RETURNING id, email
"""

INSERT_JOBS = """
INSERT INTO jobs (kind, payload)
SELECT 'welcome', jsonb_build_object('user_id', id, 'email', email)
  FROM users WHERE id = ANY(%s)
"""


def err(msg):
    sys.stderr.write("import-users-csv: %s\n" % msg)


def parse_time(s):
    """An ISO 8601 date or timestamp (naive means UTC), or None."""
    s = s.strip()
    if not s:
        return None
    try:
        if len(s) == 10:
            d = datetime.date.fromisoformat(s)
            t = datetime.datetime(d.year, d.month, d.day)
        else:
            t = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("invalid last_login_at \"%s\" (want YYYY-MM-DD or"
                         " ISO 8601)" % s) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t


def read_rows(f):
    """Return (rows, problems): rows as (line, email, name, last_login)."""
    reader = csv.reader(f)
    problems = []
    try:
        header = next(reader)
    except StopIteration:
        return [], [(1, "empty file: want a header line (email,name"
                        "[,last_login_at])")]
    except csv.Error as e:
        return [], [(reader.line_num, "unreadable CSV: %s" % e)]
    cols = [h.strip().lower() for h in header]
    unknown = [c for c in cols if c not in REQUIRED + OPTIONAL]
    missing = [c for c in REQUIRED if c not in cols]
    if unknown or missing or len(set(cols)) != len(cols):
        why = []
        if missing:
            why.append("missing column %s" % ", ".join(missing))
        if unknown:
            why.append("unrecognized column %s" % ", ".join(
                '"%s"' % c for c in unknown))
        if len(set(cols)) != len(cols):
            why.append("duplicate column")
        return [], [(1, "invalid header: %s (want email,name"
                        "[,last_login_at])" % "; ".join(why))]
    idx = {c: i for i, c in enumerate(cols)}
    rows = []
    first_seen = {}
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            problems.append((reader.line_num, "unreadable CSV: %s" % e))
            break
        line = reader.line_num
        if not fields or fields == [""]:
            continue
        if len(fields) != len(cols):
            problems.append((line, "expected %d fields, got %d" % (
                len(cols), len(fields))))
            continue
        email = fields[idx["email"]].strip().lower()
        name = fields[idx["name"]].strip()
        bad = []
        if not EMAIL.match(email):
            bad.append("invalid email \"%s\"" % fields[idx["email"]].strip())
        elif email in first_seen:
            bad.append("duplicate email \"%s\" (first on line %d)" % (
                email, first_seen[email]))
        else:
            first_seen[email] = line
        if not name:
            bad.append("empty name")
        last = None
        if "last_login_at" in idx:
            try:
                last = parse_time(fields[idx["last_login_at"]])
            except ValueError as e:
                bad.append(str(e))
        if bad:
            problems.append((line, "; ".join(bad)))
        else:
            rows.append((line, email, name, last))
    return rows, problems


def main(argv):
    p = ArgParser(prog="import-users-csv")
    p.add_argument("--dry-run", action="store_true",
                   help="check everything, import nothing")
    p.add_argument("file", help="CSV file, or - for standard input")
    args = p.parse_args(argv)
    dry = dry_run_requested(args.dry_run)

    try:
        if args.file == "-":
            f = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8",
                                 newline="")
        else:
            f = open(args.file, encoding="utf-8", newline="")
    except OSError as e:
        err("could not open \"%s\": %s" % (args.file, e.strerror))
        return os.EX_NOINPUT
    try:
        with f:
            rows, problems = read_rows(f)
    except UnicodeDecodeError as e:
        err("\"%s\" is not UTF-8: %s" % (args.file, e))
        return os.EX_DATAERR

    conn = connect("import-users-csv")
    try:
        if rows:
            with conn.cursor() as cur:
                cur.execute("SELECT email FROM users WHERE email = ANY(%s)",
                            ([r[1] for r in rows],))
                existing = {e for (e,) in cur.fetchall()}
            for line, email, _, _ in rows:
                if email in existing:
                    problems.append((line, "email \"%s\" already exists" %
                                     email))
        if problems:
            for line, msg in sorted(problems):
                err("line %d: %s" % (line, msg))
            err("%d bad rows in \"%s\": nothing imported" % (
                len(problems), args.file))
            conn.rollback()
            return os.EX_DATAERR
        if not rows:
            print("nothing to import: \"%s\" has no rows" % args.file)
            return 0
        if dry:
            print("dry run: %d rows are valid, would import %d users;"
                  " nothing changed" % (len(rows), len(rows)))
            conn.rollback()
            return 0
        try:
            with conn:
                with conn.cursor() as cur:
                    inserted = execute_values(
                        cur, INSERT_USERS,
                        [(email, name, last) for _, email, name, last in rows],
                        page_size=1000, fetch=True)
                    cur.execute(INSERT_JOBS, ([i for i, _ in inserted],))
                    jobs = cur.rowcount
                    cur.execute("NOTIFY jobs")
        except psycopg2.IntegrityError as e:
            # Someone inserted one of these emails since we checked.
            err("nothing imported: %s" % str(e).strip().splitlines()[0])
            return os.EX_DATAERR
        print("imported %d users, queued %d welcome mails" % (
            len(inserted), jobs))
        return 0
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
