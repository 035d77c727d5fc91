#!/usr/bin/env python3
"""bench/compare: the raw loopback floor, libmongoc and mongowire, side by side in one run.

usage: compare.py [--build-dir DIR | --nullserver PATH --client PATH] [--concurrency 1,16,64,256]
                  [--rounds 3] [--transactions N] [--no-valgrind] [--no-strace] [--smoke]

Starts mongowire-nullserver (a multi-threaded primary that stores nothing), then runs the same
transaction (update + insert + commit: three round trips) with each client at each
concurrency, interleaved (the order of the clients rotates every round) and repeated; the
figures are the medians of the rounds. Per transaction: wall time (window / transactions),
p50/p99 latency, client CPU (the client process only), instructions (valgrind's callgrind,
concurrency 1) and syscalls (strace -c -f, concurrency 1). Instructions and syscalls are the
difference between a short and a longer run, divided by the difference in transactions, so
that start-up and the handshake cancel out. Ends with one summary line.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CLIENTS = ("floor", "mongoc", "mongowire")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    p.add_argument("--nullserver")
    p.add_argument("--client")
    p.add_argument("--concurrency", default="1,16,64,256")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--transactions", type=int, default=0, help="per run (default: by concurrency)")
    p.add_argument("--no-valgrind", action="store_true")
    p.add_argument("--no-strace", action="store_true")
    p.add_argument("--smoke", action="store_true", help="a tiny configuration (the compare-smoke test)")
    a = p.parse_args()
    a.nullserver = a.nullserver or os.path.join(a.build_dir, "bench", "nullserver", "mongowire-nullserver")
    a.client = a.client or os.path.join(a.build_dir, "bench", "compare", "mongowire-compare-client")
    if a.smoke:
        a.concurrency, a.rounds, a.transactions = "1,4", 1, 200
    a.levels = [int(c) for c in a.concurrency.split(",")]
    return a


def transactions_for(args, concurrency):
    # About half a second per run on loopback: more transactions where they overlap.
    return args.transactions or min(40000, 4000 * max(1, concurrency // 4))


class NullServer:
    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "--port", "0"], stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        match = re.search(r"listening on (\S+)", first)
        if not match:
            self.proc.kill()
            raise RuntimeError("mongowire-nullserver did not start: %r" % first)
        self.uri = "mongodb://%s/?replicaSet=rs0" % match.group(1)

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


def client_command(args, server, client, concurrency, transactions, warmup):
    return [args.client, "--client", client, "--uri", server.uri, "--concurrency", str(concurrency),
            "--transactions", str(transactions), "--warmup", str(warmup)]


def run_client(args, server, client, concurrency, transactions, warmup=50, prefix=()):
    cmd = list(prefix) + client_command(args, server, client, concurrency, transactions, warmup)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"error": "no result"}
    if done.returncode != 0 or result.get("error"):
        raise RuntimeError("%s failed (exit %d): %s %s" % (" ".join(cmd), done.returncode, result.get("error"),
                                                             done.stderr[-2000:]))
    return result, done.stderr


def instructions_per_txn(args, server, client):
    """callgrind's instruction count of the client process, per transaction."""
    small, large = (20, 60) if args.smoke else (100, 400)
    counts = []
    for n in (small, large):
        _, stderr = run_client(args, server, client, 1, n, warmup=10,
                               prefix=("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"))
        match = re.search(r"Collected\s*:\s*(\d+)", stderr)
        if not match:
            raise RuntimeError("no 'Collected' line from callgrind: " + stderr[-500:])
        counts.append(int(match.group(1)))
    return (counts[1] - counts[0]) / (large - small)


def strace_counts(path):
    """{syscall: calls} from strace -c output."""
    calls = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and re.match(r"^\d+\.\d+$", parts[0]) and parts[3].isdigit():
                calls[parts[-1]] = int(parts[3])
    return calls


def syscalls_per_txn(args, server, client):
    """strace -c -f of the client process: all syscalls, and the busiest ones, per transaction."""
    small, large = (50, 150) if args.smoke else (500, 2000)
    runs = []
    for n in (small, large):
        with tempfile.NamedTemporaryFile(suffix=".strace") as out:
            run_client(args, server, client, 1, n, warmup=10, prefix=("strace", "-f", "-c", "-o", out.name))
            runs.append(strace_counts(out.name))
    per = {name: (runs[1].get(name, 0) - runs[0].get(name, 0)) / (large - small)
           for name in set(runs[0]) | set(runs[1]) if name != "total"}
    total = (runs[1].get("total", 0) - runs[0].get("total", 0)) / (large - small)
    busiest = sorted(((v, k) for k, v in per.items() if v >= 0.05), reverse=True)[:4]
    return total, ", ".join("%s %.1f" % (k, v) for v, k in busiest)


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def measure(args, server):
    """{concurrency: {client: {metric: median}}} over the interleaved rounds."""
    raw = {c: {k: [] for k in CLIENTS} for c in args.levels}
    for r in range(args.rounds):
        for c in args.levels:
            order = CLIENTS[r % 3:] + CLIENTS[:r % 3]  # interleaved: nobody always runs first
            for client in order:
                result, _ = run_client(args, server, client, c, transactions_for(args, c))
                raw[c][client].append(result)
        print("round %d of %d done" % (r + 1, args.rounds), file=sys.stderr)
    keys = ("wall_us_per_txn", "p50_us", "p99_us", "cpu_us_per_txn")
    return {c: {k: {m: median([x[m] for x in raw[c][k]]) for m in keys} for k in CLIENTS} for c in args.levels}


def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "-"


def print_level(c, figures, extra):
    print("\nconcurrency %d (medians of the rounds; per transaction)" % c)
    print("%-10s %10s %9s %9s %10s %12s %9s  %-12s %-12s" % ("client", "wall us", "p50 us", "p99 us", "CPU us",
                                                             "instructions", "syscalls", "p50/floor", "vs libmongoc"))
    for k in CLIENTS:
        f, e = figures[k], extra.get(k, {})
        instr = "%.0fk" % (e["instructions"] / 1000) if "instructions" in e else "-"
        sysc = "%.1f" % e["syscalls"] if "syscalls" in e else "-"
        vs_c = "" if k != "mongowire" else "p50 %s, CPU %s" % (ratio(f["p50_us"], figures["mongoc"]["p50_us"]),
                                                              ratio(f["cpu_us_per_txn"], figures["mongoc"]["cpu_us_per_txn"]))
        print(("%-10s %10.1f %9.1f %9.1f %10.1f %12s %9s  %-12s %s" % (
            k, f["wall_us_per_txn"], f["p50_us"], f["p99_us"], f["cpu_us_per_txn"], instr, sysc,
            ratio(f["p50_us"], figures["floor"]["p50_us"]), vs_c)).rstrip())
    for k in CLIENTS:
        if "busiest" in extra.get(k, {}):
            print("  syscalls of %s: %s" % (k, extra[k]["busiest"]))


def extras(args, server):
    """Instructions and syscalls per transaction at concurrency 1, when the tools are there."""
    out = {k: {} for k in CLIENTS}
    for k in CLIENTS:
        if not args.no_valgrind and shutil.which("valgrind"):
            out[k]["instructions"] = instructions_per_txn(args, server, k)
        if not args.no_strace and shutil.which("strace"):
            out[k]["syscalls"], out[k]["busiest"] = syscalls_per_txn(args, server, k)
    return out


def summary(results, extra, levels):
    one, top = results[levels[0]], results[levels[-1]]
    w, c, f = one["mongowire"], one["mongoc"], one["floor"]
    parts = ["c=%d p50 %.1f us = %s floor, %s libmongoc" % (levels[0], w["p50_us"], ratio(w["p50_us"], f["p50_us"]),
                                                            ratio(w["p50_us"], c["p50_us"]))]
    if "instructions" in extra["mongowire"]:
        parts.append("instructions %s libmongoc" % ratio(extra["mongowire"]["instructions"],
                                                         extra["mongoc"]["instructions"]))
    if "syscalls" in extra["mongowire"]:
        parts.append("syscalls %.1f/txn (%.1f per round trip; libmongoc %.1f, floor %.1f)" % (
            extra["mongowire"]["syscalls"], extra["mongowire"]["syscalls"] / 3, extra["mongoc"]["syscalls"],
            extra["floor"]["syscalls"]))
    parts.append("c=%d CPU %s libmongoc, wall %s libmongoc" % (
        levels[-1], ratio(top["mongowire"]["cpu_us_per_txn"], top["mongoc"]["cpu_us_per_txn"]),
        ratio(top["mongowire"]["wall_us_per_txn"], top["mongoc"]["wall_us_per_txn"])))
    return "summary: " + "; ".join(parts)


def main():
    args = parse_args()
    for path in (args.nullserver, args.client):
        if not os.access(path, os.X_OK):
            print("compare.py: %s is not built (ninja -C build)" % path, file=sys.stderr)
            return 2
    server = NullServer(args.nullserver)
    try:
        print("bench/compare: update + insert + commit per transaction against mongowire-nullserver (%s)" %
              server.uri)
        print("%d round(s), clients interleaved; %d CPU(s)" % (args.rounds, os.cpu_count() or 0))
        results = measure(args, server)
        extra = extras(args, server)
        for c in args.levels:
            print_level(c, results[c], extra if c == 1 else {})
        print("\n" + summary(results, extra, args.levels))
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
