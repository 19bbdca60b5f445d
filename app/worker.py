"""worker: the example app's background process.

Takes queued jobs from the jobs table one at a time with
SELECT ... FOR UPDATE SKIP LOCKED, so any number of workers share the queue
and never take the same job.  Each job and its status change commit in one
transaction.  It sleeps on LISTEN jobs (whoever queues a job may NOTIFY
jobs) with a poll interval as a fallback.

SIGTERM or SIGINT: the job in hand finishes, then the worker exits 0.

Job kinds:  welcome {"email": ...}   "sends" a welcome mail (logs it)
            sleep   {"seconds": N}   works for N seconds (tests, demos)
            anything else            fails, with the reason in jobs.error
"""

import os
import select
import signal
import sys
import time

from app.db import connect, log, release


POLL_SECONDS = float(os.environ.get("WORKER_POLL_SECONDS", "5"))

TAKE = """
SELECT id, kind, payload FROM jobs
 WHERE status = 'queued'
 ORDER BY id
 LIMIT 1
 FOR UPDATE SKIP LOCKED
"""

FINISH = """
UPDATE jobs
   SET status = %s, error = %s, attempts = attempts + 1, finished_at = now()
 WHERE id = %s
"""


class JobFailed(Exception):
    pass


def run_job(kind, payload):
    if kind == "welcome":
        log("worker", "sent welcome mail to %s" % payload.get("email", "?"))
    elif kind == "sleep":
        time.sleep(float(payload.get("seconds", 1)))
    else:
        raise JobFailed("unrecognized job kind \"%s\"" % kind)


def take_one(conn):
    """Run one queued job; return False when the queue is empty."""
    with conn:
        with conn.cursor() as cur:
            cur.execute(TAKE)
            row = cur.fetchone()
            if row is None:
                return False
            job_id, kind, payload = row
            try:
                run_job(kind, payload)
            except JobFailed as e:
                log("worker", "job %d (%s) failed: %s" % (job_id, kind, e))
                cur.execute(FINISH, ("failed", str(e), job_id))
            else:
                log("worker", "job %d (%s) done" % (job_id, kind))
                cur.execute(FINISH, ("done", None, job_id))
    return True


def main():
    stopping = []
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    # A signal wakes the select() below at once through this pipe.
    signal.set_wakeup_fd(wfd)

    def stop(signum, _frame):
        if not stopping:
            log("worker", "got %s, stopping after the current job" %
                signal.Signals(signum).name)
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    conn = connect("worker")
    with conn:
        with conn.cursor() as cur:
            cur.execute("LISTEN jobs")
    log("worker", "waiting for jobs (release %s, pid %d)" % (
        release(), os.getpid()))
    while not stopping:
        while not stopping and take_one(conn):
            pass
        if stopping:
            break
        ready, _, _ = select.select([conn, rfd], [], [], POLL_SECONDS)
        if conn in ready:
            conn.poll()
            conn.notifies.clear()
        if rfd in ready:
            os.read(rfd, 64)
    conn.close()
    log("worker", "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
