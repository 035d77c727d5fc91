"""libmongoc and mongowire through mongowire-testd's routers (issue 12 "Done when").

usage: routers_interop.py <mongowire-testd> <interop-mongoc-auth-client> <update-employee-info>
- `--sharded --mongos 2`: libmongoc 1.23 commits cross-database transactions (update hr.X,
  insert reporting.X, with_transaction) through mongodb://R1,R2/?localThresholdMS=1000, several times (each client picks its router at
  random); mongowire's example program commits its cross-database transaction (update
  hr.employees, insert reporting.events) through the same URI. A commit proves the pinning
  (transactions.md "Mongos Pinning"): each router keeps its own transactions, as mongos does, so
  a statement or commit sent to the other router fails with NoSuchTransaction.
- `--load-balanced`: the same libmongoc and mongowire programs through
  mongodb://LB/?loadBalanced=true (mongoc_load_balanced.py checks libmongoc's handshakes there).
"""
import re
import subprocess
import sys
import time

from testd_process import Testd

MONGOC_RUNS = 6


def run(*argv):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, errors="replace")
    assert done.returncode == 0, "%s failed (%d): %s%s" % (argv[0], done.returncode, done.stdout, done.stderr)
    return done.stdout


def routers_of(first_line):
    match = re.search(r"of \d+ mongos:((?: \S+?)+),", first_line)
    assert match, first_line
    return match.group(1).split()


def sharded(testd_binary, mongoc_client, example):
    with Testd(testd_binary, "--sharded", "--mongos", "2") as server:
        routers = routers_of(server.first_line)
        uri = "mongodb://%s/?localThresholdMS=1000" % ",".join(routers)
        for i in range(MONGOC_RUNS):
            run(mongoc_client, "commit", uri, "through_routers_%d" % i)
        print("libmongoc: %d cross-database transactions committed through %s" % (MONGOC_RUNS, " and ".join(routers)))
        out = run(example, uri)
        assert "reporting.events" in out and "hr.employees" in out, out
        print("mongowire: the cross-database transaction committed through both routers' URI")


def load_balanced(testd_binary, mongoc_client, example):
    with Testd(testd_binary, "--load-balanced") as server:
        run(mongoc_client, "commit", server.uri("loadBalanced=true"), "through_load_balancer")
        print("libmongoc: a cross-database transaction committed with loadBalanced=true")
        out = run(example, server.uri("loadBalanced=true"))
        assert "reporting.events" in out, out
        print("mongowire: the cross-database transaction committed with loadBalanced=true")


def main():
    testd_binary, mongoc_client, example = sys.argv[1:4]
    sharded(testd_binary, mongoc_client, example)
    load_balanced(testd_binary, mongoc_client, example)
    return 0


if __name__ == "__main__":
    sys.exit(main())
