"""PyMongo judges mongowire-testd's wire compression (compression/OP_COMPRESSED.md).

usage: pymongo_compression.py <path to mongowire-testd>
For each of zlib, zstd and snappy, PyMongo negotiates the compressor in its handshake, runs a
transaction (update + insert + commit) and reads it back; the server's serverStatus
network.compression counters must show that it decompressed PyMongo's requests and compressed
its replies with that compressor, and with no other.
Exit code 77 (meson: skipped) when pymongo, zstandard or snappy cannot be imported.
"""
import sys

try:
    import pymongo
    from pymongo import MongoClient
    import snappy  # noqa: F401  (PyMongo needs python3-snappy for compressors=snappy)
    import zstandard  # noqa: F401  (and python3-zstandard for zstd)
except ImportError as exc:
    print("SKIP: %s (apt-get install python3-pymongo python3-snappy python3-zstandard)" % exc)
    sys.exit(77)

from testd_process import Testd

COMPRESSORS = ("zlib", "zstd", "snappy")


def compression_counters(client):
    status = client.admin.command("serverStatus")
    return {name: status["network"]["compression"][name] for name in COMPRESSORS}


def check_transaction(server, name, extra=""):
    client = MongoClient(server.uri("replicaSet=rs0&compressors=%s%s" % (name, extra)),
                         serverSelectionTimeoutMS=10000)
    try:
        coll = client.interop["compressed_" + name + extra.replace("&", "_").replace("=", "_")]
        coll.insert_one({"_id": 1, "n": 0})
        before = compression_counters(client)
        with client.start_session() as session:
            with session.start_transaction():
                coll.update_one({"_id": 1}, {"$inc": {"n": 1}}, session=session)
                coll.insert_one({"_id": 2, "pad": "x" * 2000}, session=session)
        docs = sorted(coll.find(), key=lambda d: d["_id"])
        assert [d.get("n") for d in docs] == [1, None] and len(docs[1]["pad"]) == 2000, docs
        after = compression_counters(client)
    finally:
        client.close()
    for other in COMPRESSORS:
        for side in ("compressor", "decompressor"):
            grew = after[other][side]["bytesOut"] - before[other][side]["bytesOut"]
            if other == name:
                assert grew > 0, (name, side, before, after)
            else:
                assert grew == 0, (name, other, side, before, after)
    # The 2000 'x' of the insert went compressed: the decompressor produced more than it read.
    got_in = after[name]["decompressor"]["bytesIn"] - before[name]["decompressor"]["bytesIn"]
    got_out = after[name]["decompressor"]["bytesOut"] - before[name]["decompressor"]["bytesOut"]
    assert got_out > got_in + 1500, (name, got_in, got_out)
    print("ok: a transaction with compressors=%s%s (requests %d -> %d bytes)" % (name, extra, got_out, got_in))


def main():
    binary = sys.argv[1] if len(sys.argv) == 2 else None
    if binary is None:
        print(__doc__)
        return 2
    with Testd(binary) as server:
        print("pymongo %s against mongowire-testd %s" % (pymongo.version, server.address))
        for name in COMPRESSORS:
            check_transaction(server, name)
        check_transaction(server, "zlib", "&zlibCompressionLevel=9")
    print("4 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
