"""bench/footprint: heap bytes per idle connection and per open session, mongowire beside libmongoc.

usage: footprint.py [--build-dir DIR | --nullserver PATH --footprint PATH] [--connections N] [--sessions M]
Starts mongowire-nullserver, runs mongowire-footprint once per driver (each in its own process),
prints both and the ratios (mongowire / libmongoc). Fails when a figure is missing or not
positive, so the smoke test cannot pass on a broken measurement.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compare"))
from compare import NullServer  # noqa: E402

FIELDS = ("client_bytes", "per_connection_bytes", "per_session_bytes")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build-dir", default="build")
    p.add_argument("--nullserver")
    p.add_argument("--footprint")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--sessions", type=int, default=200)
    a = p.parse_args()
    a.nullserver = a.nullserver or os.path.join(a.build_dir, "bench", "nullserver", "mongowire-nullserver")
    a.footprint = a.footprint or os.path.join(a.build_dir, "bench", "footprint", "mongowire-footprint")
    return a


def measure(args, uri, driver):
    run = subprocess.run([args.footprint, "--driver", driver, "--uri", uri, "--connections", str(args.connections),
                          "--sessions", str(args.sessions)], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise RuntimeError("%s: %s%s" % (driver, run.stdout, run.stderr))
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    for field in FIELDS:
        if figures[field] <= 0:
            raise RuntimeError("%s: %s is %d" % (driver, field, figures[field]))
    return figures


def main():
    args = parse_args()
    server = NullServer(args.nullserver)
    try:
        got = {d: measure(args, server.uri, d) for d in ("mongowire", "mongoc")}
    finally:
        server.close()
    print("bench/footprint: live heap bytes (operator new + libbson's allocator), %d idle connections, %d sessions"
          % (args.connections, args.sessions))
    print("%-24s %12s %12s %10s" % ("", "mongowire", "libmongoc", "ratio"))
    for field in FIELDS:
        w, m = got["mongowire"][field], got["mongoc"][field]
        print("%-24s %12d %12d %9.2fx" % (field, w, m, w / m))
    w, m = got["mongowire"], got["mongoc"]
    print("summary: per idle connection %.2fx libmongoc, per session %.2fx libmongoc"
          % (w["per_connection_bytes"] / m["per_connection_bytes"], w["per_session_bytes"] / m["per_session_bytes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
