#!/usr/bin/python3
"""MockupDB interop: an independent fake server (MockupDB, in Python) checks the exact
commands mongowire-cli sends for a transaction of three writes and a commit, an aborted
transaction and a ping, and the connection handshake (legacy OP_QUERY isMaster with helloOk
and client metadata, then OP_MSG hello once the server answered helloOk).

usage: mockupdb_txn.py PATH/TO/mongowire-cli    (exit 77 = skipped: mockupdb not importable)
"""
import subprocess
import sys
import threading
import uuid

try:
    from bson.binary import Binary
    from bson.int64 import Int64
    from mockupdb import CommandBase, MockupDB, OpMsg, OpQuery
except ImportError as exc:  # python3-mockupdb / python3-pymongo not installed
    print("SKIP: %s" % exc)
    sys.exit(77)

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL: " + message)


def is_uuid_lsid(doc):
    lsid = doc.get("lsid")
    if not isinstance(lsid, dict) or "id" not in lsid:
        return False
    value = lsid["id"]
    return isinstance(value, uuid.UUID) or (isinstance(value, Binary) and value.subtype == 4)


class Deployment:
    """A MockupDB server answering hello/isMaster as a replica-set primary (MongoDB 7.0)."""

    def __init__(self):
        self.server = MockupDB(auto_ismaster=False, request_timeout=10)
        self.port = self.server.run()
        self.address = "localhost:%d" % self.port
        self.handshakes = []
        self.lock = threading.Lock()
        for name in ("ismaster", "hello"):
            self.server.autoresponds(CommandBase(name), self.reply_hello)

    def reply_hello(self, request):
        with self.lock:
            self.handshakes.append(request)
        return request.ok(
            isWritablePrimary=True, ismaster=True, helloOk=True, setName="rs0", hosts=[self.address],
            primary=self.address, me=self.address, minWireVersion=0, maxWireVersion=21,
            logicalSessionTimeoutMinutes=30, maxBsonObjectSize=16 * 1024 * 1024,
            maxMessageSizeBytes=48000000, maxWriteBatchSize=100000, connectionId=1)

    def uri(self):
        return "mongodb://%s/?directConnection=true&heartbeatFrequencyMS=500" % self.address

    def stop(self):
        self.server.stop()


def run_cli(cli, deployment, script):
    return subprocess.Popen([cli, "--uri", deployment.uri(), "--script", script, "--db", "shop", "--coll", "orders"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def receive(deployment, name):
    # Everything but hello is queued in arrival order: the next request must be `name`.
    request = deployment.server.receives(timeout=10)
    if request.command_name != name:
        raise AssertionError("expected %s, got %r" % (name, request))
    check(isinstance(request, OpMsg), "%s arrives as OP_MSG" % name)
    return request


def finish(process, what):
    out, _ = process.communicate(timeout=20)
    check(process.returncode == 0, "%s: mongowire-cli exits 0 (got %s):\n%s" % (what, process.returncode, out))


def check_first_command(doc, name, txn_number):
    check(is_uuid_lsid(doc), "%s: lsid is {id: UUID}" % name)
    check(isinstance(doc.get("txnNumber"), Int64), "%s: txnNumber is an int64" % name)
    check(doc.get("txnNumber") == txn_number, "%s: txnNumber %s" % (name, txn_number))
    check(doc.get("startTransaction") is True, "%s: startTransaction: true" % name)
    check(doc.get("autocommit") is False, "%s: autocommit: false" % name)
    check(doc.get("readConcern") == {"level": "snapshot"}, "%s: readConcern {level: snapshot}, got %r" % (name, doc.get("readConcern")))
    check("writeConcern" not in doc, "%s: no writeConcern inside a transaction" % name)
    check(doc.get("$db") == "shop", "%s: $db shop" % name)


def check_later_command(doc, name, first):
    check(doc.get("lsid") == first.get("lsid"), "%s: same lsid as the first command" % name)
    check(isinstance(doc.get("txnNumber"), Int64) and doc.get("txnNumber") == first.get("txnNumber"),
          "%s: same int64 txnNumber" % name)
    check(doc.get("autocommit") is False, "%s: autocommit: false" % name)
    for absent in ("startTransaction", "readConcern", "writeConcern"):
        check(absent not in doc, "%s: no %s" % (name, absent))
    check(doc.get("$db") == "shop", "%s: $db shop" % name)


def check_finish_command(doc, name, first):
    check(doc.get(name) == 1, "%s: {%s: 1}" % (name, name))
    check(doc.get("$db") == "admin", "%s: $db admin" % name)
    check(doc.get("lsid") == first.get("lsid"), "%s: same lsid" % name)
    check(doc.get("txnNumber") == first.get("txnNumber"), "%s: same txnNumber" % name)
    check(doc.get("autocommit") is False, "%s: autocommit: false" % name)
    check(doc.get("writeConcern") == {"w": "majority"}, "%s: the transaction's writeConcern, got %r" % (name, doc.get("writeConcern")))
    check("startTransaction" not in doc and "readConcern" not in doc, "%s: no startTransaction/readConcern" % name)


def end_sessions(deployment, first):
    request = receive(deployment, "endSessions")
    doc = request.doc
    check(doc.get("$db") == "admin", "endSessions: $db admin")
    check(first.get("lsid") in doc.get("endSessions", []), "endSessions lists the session's lsid")
    request.ok()


def transaction_of_three_writes(cli, deployment):
    process = run_cli(cli, deployment, "txn3")
    insert = receive(deployment, "insert")
    first = insert.doc
    check_first_command(first, "insert", 1)
    check(first.get("documents") == [{"_id": 1, "qty": 5}], "insert: the document (kind-1 sequence folded in)")
    insert.ok(n=1)
    update = receive(deployment, "update")
    check_later_command(update.doc, "update", first)
    update.ok(n=1, nModified=1)
    delete = receive(deployment, "delete")
    check_later_command(delete.doc, "delete", first)
    delete.ok(n=1)
    commit = receive(deployment, "commitTransaction")
    check_finish_command(commit.doc, "commitTransaction", first)
    commit.ok()
    end_sessions(deployment, first)
    finish(process, "txn3")


def aborted_transaction(cli, deployment):
    process = run_cli(cli, deployment, "abort")
    insert = receive(deployment, "insert")
    first = insert.doc
    check_first_command(first, "insert (abort script)", 1)
    insert.ok(n=1)
    abort = receive(deployment, "abortTransaction")
    check_finish_command(abort.doc, "abortTransaction", first)
    abort.ok()
    end_sessions(deployment, first)
    finish(process, "abort")


def ping(cli, deployment):
    process = run_cli(cli, deployment, "ping")
    request = receive(deployment, "ping")
    doc = request.doc
    check(doc.get("$db") == "admin", "ping: $db admin")
    check(is_uuid_lsid(doc), "ping: an implicit session's lsid")
    for absent in ("txnNumber", "autocommit", "startTransaction"):
        check(absent not in doc, "ping: no %s" % absent)
    request.ok()
    end_sessions(deployment, doc)
    finish(process, "ping")


def handshake(deployment):
    with deployment.lock:
        requests = list(deployment.handshakes)
    legacy = [r for r in requests if isinstance(r, OpQuery)]
    # The monitor's first handshake is legacy isMaster; pooled connections opened once the
    # server is known to speak OP_MSG handshake with an OP_MSG hello carrying the metadata.
    check(len(legacy) >= 1, "the monitor's first handshake is legacy OP_QUERY, got %d" % len(legacy))
    with_metadata = [r for r in requests if "client" in r.doc]
    check(len(with_metadata) >= 2, "a handshake with client metadata per connection (monitor + pool), got %d"
          % len(with_metadata))
    for r in legacy:
        doc = r.doc
        check(r.namespace in ("admin", "admin.$cmd"), "handshake on admin.$cmd, got %r" % r.namespace)
        check(list(doc)[0].lower() == "ismaster", "legacy handshake command is isMaster, got %r" % list(doc)[0])
        check(doc.get("helloOk") is True, "handshake has helloOk: true")
        client = doc.get("client", {})
        check(isinstance(client.get("driver", {}).get("name"), str), "client.driver.name is a string")
        check(isinstance(client.get("driver", {}).get("version"), str), "client.driver.version is a string")
        check(isinstance(client.get("os", {}).get("type"), str), "client.os.type is a string")
    later = [r for r in requests if isinstance(r, OpMsg)]
    check(all(r.command_name == "hello" for r in later), "after helloOk, hello is sent as OP_MSG 'hello'")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    cli = sys.argv[1]
    for scenario in (transaction_of_three_writes, aborted_transaction, ping):
        deployment = Deployment()
        try:
            scenario(cli, deployment)
            if scenario is transaction_of_three_writes:
                handshake(deployment)
        except AssertionError as exc:
            check(False, "%s: %s" % (scenario.__name__, exc))
        finally:
            deployment.stop()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("mockupdb interop: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
