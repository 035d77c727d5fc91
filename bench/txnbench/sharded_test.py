#!/usr/bin/env python3
"""txnbench against mongowire-testd --sharded --mongos 2 (issue 12): with a latency window wide
enough for both routers, every committed transaction was pinned once (no errors: no unpins),
the per-router shares add up to the commits, and both routers took a share.
usage: sharded_test.py TXNBENCH MONGOWIRE_TESTD"""
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "interop"))
from testd_process import Testd  # noqa: E402


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def main(txnbench, testd):
    with Testd(testd, "--sharded", "--mongos", "2") as server:
        routers = re.search(r"of \d+ mongos:((?: \S+?)+),", server.first_line).group(1).split()
        uri = "mongodb://%s/?localThresholdMS=1000" % ",".join(routers)
        out = subprocess.run([txnbench, "--uri", uri, "--transactions", "200", "--warmup", "0", "--concurrency", "4",
                              "--json"], capture_output=True, text=True, timeout=100)
    if out.returncode != 0:
        fail(f"txnbench exited {out.returncode}: {out.stderr}{out.stdout}")
    accounting = json.loads(out.stdout)["accounting"]
    pinning = accounting["pinning"]
    commits = accounting["transactions"]
    shares = pinning["committed_per_router"]
    print(f"{commits} commits, pins {pinning['pins']}, unpins {pinning['unpins']}, per router {shares}")
    if sorted(shares) != sorted(routers):
        fail(f"routers with commits {sorted(shares)}, expected both of {routers}")
    if sum(shares.values()) != commits or pinning["pins"] < commits:
        fail("the per-router shares or the pins do not account for every commit")
    if any(n == 0 for n in shares.values()):
        fail("a router took no transaction: selection is not random within the latency window")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
