"""mongowire-testd's command-line knobs, each checked through PyMongo.

usage: testd_knobs.py <path to mongowire-testd>
Exit code 77 (meson: skipped) when pymongo cannot be imported.
"""
import socket
import subprocess
import sys
import time

try:
    from pymongo import MongoClient, ReadPreference
    from pymongo.errors import OperationFailure
except ImportError as exc:
    print("SKIP: pymongo is not importable (%s)" % exc)
    sys.exit(77)

from testd_process import Testd


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed_pings(client, n):
    start = time.monotonic()
    for _ in range(n):
        client.admin.command("ping")
    return time.monotonic() - start


def check_port_set_name_wire_version_lifetime_and_log(binary):
    port = free_port()
    args = ["--port", str(port), "--set-name", "knobs", "--max-wire-version", "17",
            "--transaction-lifetime-s", "1", "--log-commands"]
    with Testd(binary, *args) as server:
        assert server.port == port, (server.port, port)
        client = MongoClient(server.uri("replicaSet=knobs"), serverSelectionTimeoutMS=10000)
        try:
            hello = client.admin.command("hello")
            assert hello["me"] == "127.0.0.1:%d" % port, hello
            assert hello["setName"] == "knobs", hello
            assert hello["maxWireVersion"] == 17, hello
            print("ok: --port, --set-name and --max-wire-version show in hello")

            coll = client.knobs.c
            coll.drop()
            with client.start_session() as s:
                s.start_transaction()
                coll.insert_one({"_id": 1}, session=s)
                time.sleep(1.5)  # beyond transactionLifetimeLimitSeconds
                try:
                    s.commit_transaction()
                    raise AssertionError("a transaction older than its lifetime committed")
                except OperationFailure as exc:
                    assert exc.code == 251, exc.details  # NoSuchTransaction: the server aborted it
            assert coll.count_documents({}) == 0
            print("ok: --transaction-lifetime-s aborts older transactions")

            client.admin.command("ping", comment="knob-log-check")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not any("knob-log-check" in l for l in server.lines):
                time.sleep(0.05)
            logged = [l for l in server.lines if "knob-log-check" in l]
            assert logged and logged[0].startswith("conn"), server.lines[-5:]
            assert any(l.strip().startswith("->") for l in server.lines), server.lines[-5:]
            print("ok: --log-commands prints every command and its reply")
        finally:
            client.close()


def check_latency(binary):
    with Testd(binary) as fast, Testd(binary, "--latency-us", "40000") as slow:
        clients = [MongoClient(s.uri(), serverSelectionTimeoutMS=10000) for s in (fast, slow)]
        try:
            fast_time, slow_time = (timed_pings(c, 5) for c in clients)
        finally:
            for c in clients:
                c.close()
    assert slow_time >= 0.2, slow_time
    assert fast_time < slow_time, (fast_time, slow_time)
    print("ok: --latency-us delays every reply (5 pings: %.3f s vs %.3f s)" % (slow_time, fast_time))


def check_members_and_replication_lag(binary):
    lag_s = 1.0
    with Testd(binary, "--members", "3", "--replication-lag-ms", str(int(lag_s * 1000))) as rs:
        assert "of 3 members" in rs.first_line, rs.first_line
        client = MongoClient(rs.uri("replicaSet=rs0&w=1"), serverSelectionTimeoutMS=10000)
        try:
            assert len(client.admin.command("hello")["hosts"]) == 3
            coll = client.knobs.c
            secondary = coll.with_options(read_preference=ReadPreference.SECONDARY)
            start = time.monotonic()
            coll.insert_one({"_id": 1})
            early = secondary.find_one({"_id": 1})
            assert early is None or time.monotonic() - start >= lag_s, early
            time.sleep(lag_s)
            assert secondary.find_one({"_id": 1}) == {"_id": 1}
            with client.start_session(causal_consistency=True) as s:
                coll.insert_one({"_id": 2}, session=s)
                assert secondary.find_one({"_id": 2}, session=s) == {"_id": 2}  # waits for the lag
            print("ok: --members and --replication-lag-ms: secondaries apply writes after the lag; "
                  "causally consistent reads wait for them")
            old_primary = client.primary
            client.admin.command("replSetStepDown", 10)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and client.primary in (None, old_primary):
                time.sleep(0.05)
            assert client.primary not in (None, old_primary), client.primary
            coll.insert_one({"_id": 3})
            assert sorted(d["_id"] for d in coll.find()) == [1, 2, 3]
            print("ok: replSetStepDown elects another member, which holds the data")
        finally:
            client.close()


def check_standalone(binary):
    with Testd(binary, "--standalone") as server:
        client = MongoClient(server.uri("directConnection=true"), serverSelectionTimeoutMS=10000)
        try:
            hello = client.admin.command("hello")
            assert "setName" not in hello and hello["isWritablePrimary"], hello
            print("ok: --standalone answers hello as a standalone mongod")
        finally:
            client.close()


def check_no_speculative_auth(binary):
    """PyMongo sends speculativeAuthenticate; --no-speculative-auth makes it run saslStart too."""
    sasl_starts = []
    for extra in ([], ["--no-speculative-auth"]):
        with Testd(binary, "--auth", "--user", "alice:pw", "--log-commands", *extra) as server:
            client = MongoClient(server.uri("replicaSet=rs0&authMechanism=SCRAM-SHA-256"), username="alice",
                                 password="pw", serverSelectionTimeoutMS=10000)
            try:
                client.admin.command("ping")
            finally:
                client.close()
        log = "".join(server.lines)
        assert '"saslContinue"' in log, log
        sasl_starts.append(log.count('"saslStart"'))
    assert sasl_starts == [0, 1], sasl_starts
    print("ok: --no-speculative-auth ignores speculativeAuthenticate (the client sends saslStart)")


def check_bad_arguments(binary):
    for args in (["--latency-us", "soon"], ["--port", "70000"], ["--no-such-knob"], ["--standalone", "--members", "2"],
                 ["--members", "0"]):
        run = subprocess.run([binary, *args], capture_output=True, text=True, timeout=10)
        assert run.returncode == 2, (args, run.returncode)
        assert "usage:" in run.stderr, run.stderr
    print("ok: bad arguments exit 2 with the usage")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    check_port_set_name_wire_version_lifetime_and_log(sys.argv[1])
    check_latency(sys.argv[1])
    check_members_and_replication_lag(sys.argv[1])
    check_standalone(sys.argv[1])
    check_no_speculative_auth(sys.argv[1])
    check_bad_arguments(sys.argv[1])
    print("8 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
