#!/bin/bash
# t5030: deploy/*.yaml and docker-compose.yml agree with the rest of the
# repo: they parse, run the image `make image` builds, through the
# Dockerfile's ENTRYPOINT, with commands, processes and tasks that
# entrypoint.ini defines; the Job's podFailurePolicy is the exit-code table
# of entrypoint/exitcode.h (retry 69/75, fail at once on 64/65/77/78 ...);
# grace periods and deadlines are longer than what entrypoint.ini allows.
# No container engine needed: these are the files a user applies.
. "${SRCDIR:?}/tests/sh/lib.sh"

PY=/usr/bin/python3
"$PY" -c 'import yaml' 2>/dev/null ||
	skip_all "python3-yaml is not installed (make deps)"

"$PY" - "$SRCDIR" <<'EOF'
import configparser
import glob
import os
import re
import sys

import yaml

src = sys.argv[1]
n = 0
failed = 0


def check(cond, name, detail=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        if detail:
            for line in str(detail).splitlines():
                print("#   %s" % line)


def read(path):
    with open(os.path.join(src, path), encoding="utf-8") as f:
        return f.read()


# --- what the rest of the repo says ------------------------------------
m = re.search(r'^IMAGE=\$\{IMAGE:-([^}]+)\}', read("scripts/image.sh"), re.M)
image = m.group(1)
dockerfile = read("Dockerfile")
entry = re.search(r'^ENTRYPOINT \["([^"]+)"\]', dockerfile, re.M).group(1)
uid = int(re.search(r'useradd .*--uid (\d+)', dockerfile, re.S).group(1))
codes = {int(v) for v in re.findall(r'^\s*EXIT_\w+ = (\d+),',
                                    read("entrypoint/exitcode.h"), re.M)}
no_retry = {64, 65, 70, 77, 78, 126, 127}
retry = {69, 75}
check(no_retry | retry <= codes,
      "exitcode.h has every code the manifests use", sorted(codes))

# entrypoint.ini: inline ';' comments after whitespace, like inih.
ini = configparser.ConfigParser(inline_comment_prefixes=(";",),
                                interpolation=None)
ini.read_string(read("entrypoint.ini"))
procs = {s.split(".", 1)[1] for s in ini.sections() if s.startswith("process.")}
tasks = {s.split(".", 1)[1]: ini[s] for s in ini.sections()
         if s.startswith("task.")}
commands = {"migrate", "task", "tasks", "shell", "run", "history", "check",
            "env", "version", "help"} | procs


def seconds(v):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", v.strip())
    mult = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return int(m.group(1)) * mult


stop_timeout = seconds(ini["app"].get("stop_timeout", "10s"))

# --- deploy/*.yaml ------------------------------------------------------
docs = []
for path in sorted(glob.glob(os.path.join(src, "deploy", "*.yaml"))):
    name = os.path.relpath(path, src)
    try:
        with open(path, encoding="utf-8") as f:
            ds = [d for d in yaml.safe_load_all(f) if d]
        ok = all("apiVersion" in d and "kind" in d for d in ds)
        check(ok and ds, "%s parses as Kubernetes objects" % name)
        docs += [(name, d) for d in ds]
    except yaml.YAMLError as e:
        check(False, "%s parses" % name, e)

kinds = {}
for name, d in docs:
    kinds.setdefault(d["kind"], []).append((name, d))
check(len(kinds.get("Deployment", [])) == 2, "two Deployments (web, worker)")
check(len(kinds.get("Job", [])) == 1, "a migrate Job")
check(len(kinds.get("CronJob", [])) == 1, "a CronJob for a task")


def pod_spec(d):
    if d["kind"] == "CronJob":
        return d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return d["spec"]["template"]["spec"]


def job_spec(d):
    return d["spec"]["jobTemplate"]["spec"] if d["kind"] == "CronJob" \
        else d["spec"]


secret_names = {d["metadata"]["name"] for _, d in kinds.get("Secret", [])}
for name, d in docs:
    if d["kind"] not in ("Deployment", "Job", "CronJob"):
        continue
    what = "%s %s" % (name, d["kind"])
    spec = pod_spec(d)
    for c in spec["containers"]:
        cmd = c.get("command", [])
        check(c.get("image") == image,
              "%s: image %s (make image's default)" % (what, image),
              c.get("image"))
        check(cmd[:1] == [entry] and len(cmd) >= 2 and cmd[1] in commands,
              "%s: command %s is an entrypoint command" % (what, cmd))
        if cmd[1:2] == ["task"]:
            t = cmd[2] if len(cmd) > 2 else ""
            check(t in tasks, "%s: task %s is in entrypoint.ini" % (what, t))
            if t in tasks and tasks[t].get("confirm", "no") == "yes":
                check("--yes" in cmd, "%s: %s needs confirmation: --yes "
                      "(a Job has no terminal)" % (what, t))
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        check("DATABASE_URL_FILE" in env or "DATABASE_URL" in env,
              "%s: gets the database URL" % what)
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        for v in vols.values():
            if "secret" in v:
                check(v["secret"]["secretName"] in secret_names,
                      "%s: secret %s is the one deploy/ describes" % (
                          what, v["secret"]["secretName"]))
    sc = spec.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == uid,
          "%s: runs as non-root uid %d (the Dockerfile's app user)" % (
              what, uid), sc)
    if d["kind"] == "Deployment":
        proc = spec["containers"][0]["command"][1]
        check(proc in procs, "%s: [process.%s] exists" % (what, proc))
        check(spec.get("terminationGracePeriodSeconds", 30) > stop_timeout,
              "%s: grace period longer than stop_timeout (%ss)" % (
                  what, stop_timeout))
    else:
        js = job_spec(d)
        check(spec.get("restartPolicy") == "Never",
              "%s: restartPolicy Never" % what)
        check(js.get("activeDeadlineSeconds", 0) > 0,
              "%s: activeDeadlineSeconds" % what)
        rules = js.get("podFailurePolicy", {}).get("rules", [])
        cname = spec["containers"][0]["name"]
        fail, count = set(), set()
        for r in rules:
            ec = r.get("onExitCodes")
            if not ec:
                continue
            check(ec.get("containerName") == cname and
                  ec.get("operator") == "In",
                  "%s: rule %s names container %s" % (what, r["action"],
                                                      cname))
            (fail if r["action"] == "FailJob" else count).update(ec["values"])
        check(fail <= codes | {124} and count <= codes,
              "%s: podFailurePolicy uses exitcode.h's codes" % what,
              sorted(fail | count))
        check({64, 65, 77, 78} <= fail,
              "%s: FailJob on 64, 65, 77, 78 (retrying cannot help)" % what,
              sorted(fail))
        check(retry <= count and not retry & fail,
              "%s: 69 and 75 are retried" % what, sorted(count))
        cmd = spec["containers"][0]["command"]
        if cmd[1] == "task" and cmd[2] in tasks:
            t = tasks[cmd[2]]
            check(js["activeDeadlineSeconds"] > seconds(t.get("timeout", "0")),
                  "%s: activeDeadlineSeconds beyond the task's own timeout "
                  "(so 124 is what the Job sees)" % what)
    if d["kind"] == "CronJob":
        check(d["spec"].get("concurrencyPolicy") == "Forbid",
              "%s: concurrencyPolicy Forbid" % what)
        t = pod_spec(d)["containers"][0]["command"][2]
        check(t in tasks and tasks[t].get("exclusive") == "yes",
              "%s: the task is exclusive = yes in entrypoint.ini too" % what)

# --- docker-compose.yml -------------------------------------------------
compose = yaml.safe_load(read("docker-compose.yml"))
svc = compose["services"]
check(set(svc) == {"db", "migrate", "web", "worker"},
      "compose: services db, migrate, web, worker", sorted(svc))
check(svc["migrate"].get("command") == ["migrate"] and
      svc["migrate"].get("restart") == "no",
      "compose: migrate is a one-off running `migrate`")
for s in ("web", "worker"):
    check(svc[s].get("command") == [s] and s in procs,
          "compose: %s runs [process.%s]" % (s, s))
    check(svc[s].get("depends_on", {}).get("migrate", {}).get("condition")
          == "service_completed_successfully",
          "compose: %s starts after migrate completed successfully" % s)
for s in ("migrate", "web", "worker"):
    img = svc[s].get("image", "")
    check(img.endswith(":-%s}" % image) or img == image,
          "compose: %s uses the image make image builds" % s, img)
    env = svc[s].get("environment", {})
    check(any(k.endswith("_FILE") for k in env) and
          "DATABASE_URL" not in env and
          not any("password" in str(v).lower() for v in env.values()),
          "compose: %s reads its database secret through *_FILE" % s, env)
    for sec in svc[s].get("secrets", []):
        check(sec in compose.get("secrets", {}),
              "compose: %s's secret %s is declared" % (s, sec))
check("POSTGRES_PASSWORD_FILE" in svc["db"].get("environment", {}),
      "compose: the database password is a secret (POSTGRES_PASSWORD_FILE)")
stop = seconds(svc["web"].get("stop_grace_period", "10s"))
check(stop > stop_timeout, "compose: web's stop_grace_period beyond "
      "stop_timeout (%ss)" % stop_timeout)

print("1..%d" % n)
sys.exit(1 if failed else 0)
EOF
