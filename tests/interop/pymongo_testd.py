"""PyMongo (an independent driver written by MongoDB's engineers) against mongowire-testd.

usage: pymongo_testd.py <path to mongowire-testd>
Exit code 77 (meson: skipped) when pymongo cannot be imported.
Each check asserts the collection's final contents, and where a retry is involved, how
many times the driver sent the command (command monitoring) and how often the failpoint fired.
"""
import sys
import threading
import time

try:
    import pymongo
    from pymongo import MongoClient, monitoring
    from pymongo.errors import OperationFailure
except ImportError as exc:
    print("SKIP: pymongo is not importable (%s)" % exc)
    sys.exit(77)

from testd_process import Testd


class Recorder(monitoring.CommandListener):
    def __init__(self):
        self.events = []
        self.lock = threading.Lock()

    def started(self, event):
        with self.lock:
            self.events.append((event.command_name, event.command.get("txnNumber")))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass

    def count(self, name):
        with self.lock:
            return sum(1 for n, _ in self.events if n == name)

    def txn_numbers(self, name):
        with self.lock:
            return [t for n, t in self.events if n == name]

    def clear(self):
        with self.lock:
            self.events.clear()


def contents(coll):
    return sorted(coll.find({}, {"_id": 1, "n": 1}), key=lambda d: d["_id"])


def fail_point(client, mode, data):
    return client.admin.command("configureFailPoint", "failCommand", mode=mode, data=data)


def fail_point_on(client, mode, data):
    """Sets failCommand; returns its entry count so far (mongod's count is cumulative)."""
    return fail_point(client, mode, data)["count"]


def fail_point_off(client, count_before):
    """Turns failCommand off; returns how many times it fired since count_before."""
    return fail_point(client, "off", {})["count"] - count_before


def check_with_transaction(client):
    coll = client.interop.txn
    coll.drop()
    coll.insert_one({"_id": 0})

    def callback(session):
        coll.insert_one({"_id": 1, "n": 1}, session=session)
        coll.update_one({"_id": 0}, {"$set": {"n": 2}}, session=session)

    with client.start_session() as s:
        s.with_transaction(callback)
    assert contents(coll) == [{"_id": 0, "n": 2}, {"_id": 1, "n": 1}], contents(coll)
    print("ok: with_transaction committed both writes")


def check_write_conflict_resolved_by_retry(client):
    """Session A holds an uncommitted update; B's with_transaction hits WriteConflict
    (TransientTransactionError) and retries the callback until A has committed."""
    coll = client.interop.conflict
    coll.drop()
    coll.insert_one({"_id": 1, "n": 0})
    attempts = []
    errors = []
    first_attempt_failed = threading.Event()

    def callback(session):
        attempts.append(time.monotonic())
        try:
            coll.update_one({"_id": 1}, {"$inc": {"n": 10}}, session=session)
        except OperationFailure as exc:
            assert exc.code == 112, exc.details  # WriteConflict
            assert exc.has_error_label("TransientTransactionError"), exc.details
            first_attempt_failed.set()
            raise

    def run_b():
        try:
            with client.start_session() as b:
                b.with_transaction(callback)
        except Exception as exc:  # reported by the main thread
            errors.append(exc)

    with client.start_session() as a:
        a.start_transaction()
        coll.update_one({"_id": 1}, {"$inc": {"n": 1}}, session=a)
        thread_b = threading.Thread(target=run_b)
        thread_b.start()
        assert first_attempt_failed.wait(20), "B's transaction never met A's write"
        time.sleep(0.2)  # B keeps retrying while A is open
        a.commit_transaction()
    thread_b.join(60)
    assert not thread_b.is_alive(), "B's with_transaction did not finish"
    assert not errors, errors
    assert len(attempts) >= 2, attempts
    assert contents(coll) == [{"_id": 1, "n": 11}], contents(coll)
    print("ok: write conflict resolved by with_transaction after %d attempts" % len(attempts))


def check_commit_retried_once(client, recorder, data, what):
    """The first commitTransaction fails with an unknown outcome; PyMongo retries the commit
    (not the callback) and the transaction's insert is applied exactly once."""
    coll = client.interop.commit
    coll.drop()
    coll.insert_one({"_id": 0})
    calls = []

    def callback(session):
        calls.append(1)
        coll.insert_one({"_id": len(calls)}, session=session)

    before = fail_point_on(client, {"times": 1}, dict(data, failCommands=["commitTransaction"]))
    recorder.clear()
    with client.start_session() as s:
        s.with_transaction(callback)
    fired = fail_point_off(client, before)
    assert fired == 1, fired
    assert len(calls) == 1, "the callback ran %d times" % len(calls)
    assert recorder.count("commitTransaction") == 2, recorder.events
    assert contents(coll) == [{"_id": 0}, {"_id": 1}], contents(coll)
    print("ok: commit retried once after %s; the transaction applied once" % what)


def check_retryable_insert(client, recorder, fail_point_name, data, what, applied_before_failure):
    """The first insert attempt loses its connection; PyMongo retries it once with the same
    txnNumber and the document exists exactly once. When the first attempt had already
    applied the write, the server answers the retry from its retryable-write record."""
    coll = client.interop.retry
    coll.drop()
    coll.insert_one({"_id": 0})
    retried_before = client.admin.command("serverStatus")["transactions"]["retriedStatementsCount"]
    before = client.admin.command("configureFailPoint", fail_point_name, mode={"times": 1}, data=data)["count"]
    recorder.clear()
    coll.insert_one({"_id": 1, "n": 1})
    fired = client.admin.command("configureFailPoint", fail_point_name, mode="off")["count"] - before
    assert fired == 1, fired
    numbers = recorder.txn_numbers("insert")
    assert len(numbers) == 2 and numbers[0] is not None and numbers[0] == numbers[1], numbers
    assert contents(coll) == [{"_id": 0}, {"_id": 1, "n": 1}], contents(coll)
    retried = client.admin.command("serverStatus")["transactions"]["retriedStatementsCount"] - retried_before
    assert retried == (1 if applied_before_failure else 0), retried
    print("ok: retryable insert after %s applied once" % what)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    print("pymongo", pymongo.version)
    with Testd(sys.argv[1]) as server:
        recorder = Recorder()
        client = MongoClient(server.uri(), serverSelectionTimeoutMS=10000, event_listeners=[recorder])
        try:
            hello = client.admin.command("isMaster")
            assert hello["me"] == server.address and hello["primary"] == server.address, hello
            assert client.primary == (server.host, server.port), client.primary
            check_with_transaction(client)
            check_write_conflict_resolved_by_retry(client)
            check_commit_retried_once(client, recorder, {"closeConnection": True}, "a closed connection")
            check_commit_retried_once(
                client, recorder,
                {"writeConcernError": {"code": 64, "codeName": "WriteConcernFailed",
                                       "errmsg": "waiting for replication timed out",
                                       "errInfo": {"wtimeout": True}}},
                "a write concern timeout")
            check_retryable_insert(client, recorder, "failCommand",
                                   {"failCommands": ["insert"], "closeConnection": True},
                                   "a connection closed before the write", False)
            # mongod's onPrimaryTransactionalWrite closes the connection after the write
            # was applied (transaction_participant.cpp): the retry must not apply it again.
            check_retryable_insert(client, recorder, "onPrimaryTransactionalWrite",
                                   {"closeConnection": True},
                                   "a connection closed after the write", True)
        finally:
            client.close()
    print("6 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
