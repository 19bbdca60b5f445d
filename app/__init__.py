"""The example app that ships in the entrypoint-demo image.

web (app.web) serves HTTP, worker (app.worker) takes jobs from a table,
console (app.console) is the interactive shell.  Every one of them is started
by entrypoint, so they all get the same environment: DATABASE_URL, PORT,
ENTRYPOINT_RELEASE, ...
"""
