"""PyMongo judges mongowire-testd --sharded: transactions through two mongos routers.

usage: pymongo_sharded.py <path to mongowire-testd>
The server plays a sharded cluster of two routers over one store. PyMongo, connected to both
with a latency window wide enough to choose either (localThresholdMS=1000), runs cross-database
transactions (update hr.employees, insert reporting.events); each is pinned to the router of its
first statement and committed there with the recoveryToken the router returned
(transactions.md "Mongos Pinning"). Both routers must have served transactions, and every
committed write must be visible through each router.
Exit code 77 (meson: skipped) when pymongo cannot be imported.
"""
import re
import sys

try:
    from pymongo import MongoClient
except ImportError as exc:
    print("SKIP: %s (apt-get install python3-pymongo)" % exc)
    sys.exit(77)

from testd_process import Testd

TRANSACTIONS = 24


def routers_of(first_line):
    match = re.search(r"of \d+ mongos:((?: \S+?)+),", first_line)
    assert match, first_line
    return match.group(1).split()


def main(binary):
    with Testd(binary, "--sharded", "--mongos", "2") as server:
        routers = routers_of(server.first_line)
        assert len(routers) == 2, routers
        uri = "mongodb://%s/?localThresholdMS=1000" % ",".join(routers)
        client = MongoClient(uri, serverSelectionTimeoutMS=10000)
        try:
            hello = client.admin.command("hello")
            assert hello.get("msg") == "isdbgrid" and "setName" not in hello, hello
            employees = client.hr.employees
            events = client.reporting.events
            employees.insert_one({"_id": "ann", "raises": 0})
            events.insert_one({"_id": "seed"})  # collections exist before the transactions
            pinned = set()
            for i in range(TRANSACTIONS):
                with client.start_session() as session:
                    with session.start_transaction():
                        employees.update_one({"_id": "ann"}, {"$inc": {"raises": 1}}, session=session)
                        events.insert_one({"_id": i, "what": "raise"}, session=session)
                        pinned.add(session._transaction.pinned_address)
            assert len(pinned) == 2, "one router served every transaction: %r" % pinned
            for router in routers:
                direct = MongoClient("mongodb://%s/?directConnection=true" % router)
                try:
                    raises = direct.hr.employees.find_one({"_id": "ann"})["raises"]
                    count = direct.reporting.events.count_documents({"what": "raise"})
                finally:
                    direct.close()
                assert raises == TRANSACTIONS and count == TRANSACTIONS, (router, raises, count)
        finally:
            client.close()
    print("ok: %d cross-database transactions through routers %s, each pinned to one" % (TRANSACTIONS, routers))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
