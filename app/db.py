"""Database connection and logging shared by the app and its tasks."""

import os
import sys

import psycopg2


def log(component, msg):
    """One line on stderr, prefixed with the component name."""
    sys.stderr.write("%s: %s\n" % (component, msg))
    sys.stderr.flush()


def connect(component, autocommit=False):
    """Connect to $DATABASE_URL (libpq reads PG* variables too).

    The application_name shows the component and the entrypoint run id in
    pg_stat_activity, so a DBA can tell which one-off run holds a lock.
    """
    dsn = os.environ.get("DATABASE_URL", "")
    run_id = os.environ.get("ENTRYPOINT_RUN_ID", "")
    name = component + ((" " + run_id) if run_id else "")
    conn = psycopg2.connect(dsn, application_name=name[:63])
    conn.autocommit = autocommit
    return conn


def release():
    """The release this process belongs to, as entrypoint tells it."""
    return os.environ.get("ENTRYPOINT_RELEASE") or os.environ.get(
        "RELEASE", "dev")
