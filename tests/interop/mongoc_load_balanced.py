"""libmongoc judges the test server's load-balanced mode (issue 12 "Done when").

usage: mongoc_load_balanced.py <path to mongowire-testd> <path to interop-mongoc-auth-client>
Starts mongowire-testd --load-balanced --log-commands. libmongoc 1.23, with
mongodb://127.0.0.1:PORT/?loadBalanced=true, commits a cross-database transaction (update + insert through
mongoc_client_session_with_transaction) and reads it back; the server's log shows that every
handshake said loadBalanced: true and got a serviceId (load-balancers.md "Connection
Establishment"). Without loadBalanced=true the same client is refused with the server's
LoadBalancerSupportMismatch error. With --mongos 2, two commits through the second load balancer
(in front of both routers, round robin) reach two mongos with different serviceIds.
"""
import re
import subprocess
import sys
import time

from testd_process import Testd


def run_client(client, *args):
    run = subprocess.run([client, *args], capture_output=True, text=True, timeout=60, errors="replace")
    return run.returncode, run.stdout + run.stderr


def handshakes(lines):
    """(command, reply) of every logged hello/isMaster (the first command of a connection)."""
    out = []
    for i, line in enumerate(lines):
        if re.match(r'conn\d+ \{ ?"(hello|isMaster|ismaster)"', line) and i + 1 < len(lines):
            out.append((line, lines[i + 1]))
    return out


def main():
    testd_binary, client = sys.argv[1], sys.argv[2]
    with Testd(testd_binary, "--load-balanced", "--log-commands") as testd:
        assert "load balancer" in testd.first_line, testd.first_line
        code, text = run_client(client, "commit", testd.uri("loadBalanced=true"), "load_balanced")
        assert code == 0, "loadBalanced=true: %s" % text
        print("%s committed a transaction with loadBalanced=true" % text.split(",")[0].replace("ok: ", ""))
        code, text = run_client(client, "commit", testd.uri("serverSelectionTryOnce=true"), "not_load_balanced")
        assert code != 0, "a client without loadBalanced=true was served: %s" % text
        assert "load balancing enabled" in text, "expected LoadBalancerSupportMismatch, got: %s" % text
        print("without loadBalanced=true: " + text.strip().splitlines()[-1])
        time.sleep(0.2)  # the reader thread catches up with the last lines
        lines = list(testd.lines)
    pairs = handshakes(lines)
    balanced = [(c, r) for c, r in pairs if re.search(r'"loadBalanced" ?: true', c)]
    assert balanced, "no handshake said loadBalanced: true"
    for command, reply in balanced:
        assert '"serviceId"' in reply, "a loadBalanced hello got no serviceId: %s" % reply
    assert any('"commitTransaction"' in line for line in lines), "libmongoc's commitTransaction never arrived"
    print("%d load-balanced handshakes, each answered with a serviceId; the transaction committed" % len(balanced))
    return check_two_services(testd_binary, client)


def check_two_services(testd_binary, client):
    """--mongos 2: the second load balancer hands each new connection to the next mongos, whose
    hello carries that mongos's own serviceId (MULTI_MONGOS_LB_URI of drivers' CI)."""
    with Testd(testd_binary, "--load-balanced", "--mongos", "2", "--log-commands") as testd:
        match = re.search(r"in front of every mongos: (\S+?)[,)]", testd.first_line)
        assert match, "no second load balancer in: %s" % testd.first_line
        uri = "mongodb://%s/?loadBalanced=true" % match.group(1)
        for run in ("first", "second"):
            code, text = run_client(client, "commit", uri, "two_services_" + run)
            assert code == 0, "through the load balancer of two mongos: %s" % text
        time.sleep(0.2)
        lines = list(testd.lines)
    services = set()
    for command, reply in handshakes(lines):
        services.update(re.findall(r'"serviceId" ?: ?\{ ?"\$oid" ?: ?"([0-9a-f]{24})"', reply))
    assert len(services) == 2, "expected the serviceIds of two mongos, got %s" % sorted(services)
    print("two libmongoc commits through the load balancer of two mongos reached serviceIds %s" % sorted(services))
    return 0


if __name__ == "__main__":
    sys.exit(main())
