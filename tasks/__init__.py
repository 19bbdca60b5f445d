"""The example app's one-off admin tasks, run as `entrypoint task NAME`.

Each is a module run with `python3 -m tasks.NAME` (see entrypoint.ini).
They write their report to stdout and their errors to stderr, and exit with
sysexits codes: 0 done, 64 usage, 65 bad input data, 66 input not found.
"""

import argparse
import os
import sys


def dry_run_requested(flag):
    """--dry-run, or DRY_RUN=1 as entrypoint sets it for a dry run."""
    return bool(flag) or os.environ.get("DRY_RUN") == "1"


class ArgParser(argparse.ArgumentParser):
    """argparse with the sysexits usage code (64) instead of 2."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(os.EX_USAGE, "%s: %s\n" % (self.prog, message))
