"""PyMongo (an independent SCRAM implementation) authenticates against mongowire-testd --auth.

usage: pymongo_auth.py <path to mongowire-testd> [<path to mongowire-cli>]
Exit code 77 (meson: skipped) when pymongo cannot be imported.
Checks: SCRAM-SHA-256, SCRAM-SHA-1 and the negotiated mechanism each run a transaction; a
wrong password is OperationFailure 18; an unauthenticated command is Unauthorized 13; users
created through PyMongo (one per mechanism, auth.md's SASLprep users) authenticate; and
mongowire-cli, with and without --trace, prints neither the password nor a SCRAM message; and
the same over TLS (testd --tls-certificate-key-file/--tls-ca-file, certificates made with the
openssl command), where a plain-TCP client is refused.
"""
import os
import subprocess
import sys
import tempfile
import urllib.parse

try:
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure, ServerSelectionTimeoutError
except ImportError as exc:
    print("SKIP: pymongo is not importable (%s)" % exc)
    sys.exit(77)

from certificates import make_certificates
from testd_process import Testd

PASSWORD = "s3cr3t:P@ss/word"  # reserved characters: percent-encoded in URIs


def uri_for(testd, user, password, options=""):
    quote = lambda s: urllib.parse.quote(s, safe="")
    return "mongodb://%s:%s@%s/?replicaSet=rs0&serverSelectionTimeoutMS=5000%s" % (
        quote(user), quote(password), testd.address, options)


def client(testd, user="alice", password=PASSWORD, mechanism=None):
    options = "&authMechanism=" + mechanism if mechanism else ""
    return MongoClient(uri_for(testd, user, password, options))


def check_transaction(testd, mechanism):
    with client(testd, mechanism=mechanism) as c:
        coll = c.app.get_collection("people_%s" % (mechanism or "negotiated"))
        coll.insert_one({"_id": 0})  # the collection exists before the transaction
        with c.start_session() as s:
            with s.start_transaction():
                coll.insert_one({"_id": 1}, session=s)
                coll.insert_one({"_id": 2}, session=s)
        assert sorted(d["_id"] for d in coll.find()) == [0, 1, 2], list(coll.find())
    print("ok: %s authenticates and commits a transaction" % (mechanism or "negotiated mechanism"))


def check_failures(testd):
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
        with client(testd, password="wrong", mechanism=mechanism) as c:
            try:
                c.admin.command("ping")
                raise AssertionError("a wrong password was accepted (%s)" % mechanism)
            except OperationFailure as e:
                assert e.code == 18, e.details
    with MongoClient(testd.uri("replicaSet=rs0&serverSelectionTimeoutMS=5000")) as anonymous:
        try:
            anonymous.app.people.find_one()
            raise AssertionError("an unauthenticated find was accepted")
        except OperationFailure as e:
            assert e.code == 13 and e.details.get("codeName") == "Unauthorized", e.details
    print("ok: wrong password -> 18 AuthenticationFailed; unauthenticated find -> 13 Unauthorized")


def check_user_management(testd):
    with client(testd) as admin:
        users = [("sha1", "sha1", ["SCRAM-SHA-1"]), ("sha256", "sha256", ["SCRAM-SHA-256"]),
                 ("IX", "IX", ["SCRAM-SHA-256"]), ("\u2168", "\u2163", ["SCRAM-SHA-256"])]
        for name, pwd, mechs in users:
            admin.admin.command("createUser", name, pwd=pwd, roles=["root"], mechanisms=mechs)
        info = admin.admin.command("usersInfo", "sha256")
        assert info["users"][0]["mechanisms"] == ["SCRAM-SHA-256"], info
    # auth.md "SCRAM-SHA-256 and mechanism negotiation", steps 2 to 4.
    for name, pwd, mechanism in [("sha1", "sha1", "SCRAM-SHA-1"), ("sha1", "sha1", None),
                                 ("sha256", "sha256", "SCRAM-SHA-256"), ("sha256", "sha256", None),
                                 ("IX", "IX", None), ("IX", "I\u00adX", None),
                                 ("\u2168", "IV", None), ("\u2168", "I\u00adV", None)]:
        with client(testd, name, pwd, mechanism) as c:
            c.admin.command("listDatabases")
    for name, mechanism in [("sha1", "SCRAM-SHA-256"), ("sha256", "SCRAM-SHA-1")]:
        with client(testd, name, name, mechanism) as c:
            try:
                c.admin.command("listDatabases")
                raise AssertionError("%s authenticated with %s" % (name, mechanism))
            except OperationFailure as e:
                assert e.code == 18, e.details
    print("ok: users per mechanism, negotiation and SASLprep (auth.md test plan)")


def check_cli_output(testd, cli):
    good = uri_for(testd, "alice", PASSWORD)
    bad = uri_for(testd, "alice", "wrong-" + PASSWORD)
    outputs = []
    for uri, expect_ok in [(good, True), (bad, False)]:
        for trace in ([], ["--trace"]):
            coll = "cli_items_%d" % len(outputs)  # txn3 inserts _id 1: one collection per run
            run = subprocess.run([cli, "--uri", uri, "--script", "txn3", "--coll", coll, *trace],
                                 capture_output=True, text=True, timeout=60, errors="replace")
            assert (run.returncode == 0) == expect_ok, (run.returncode, run.stdout, run.stderr)
            outputs.append(run.stdout + run.stderr)
    text = "\n".join(outputs)
    assert "saslContinue" in text and "alice:****@" in text, "the trace does not show the authentication"
    for secret in (PASSWORD, urllib.parse.quote(PASSWORD, safe=""), "c=biws", "n,,n=alice"):
        assert secret not in text, "mongowire-cli printed %r" % secret
    print("ok: mongowire-cli authenticates; its output (with --trace) shows no secret")


def check_tls(testd_binary, cli):
    """Issue 11 "Done when": testd --auth --user alice:s3cr3t --tls-certificate-key-file server.pem
    --tls-ca-file ca.pem serves PyMongo and mongowire with tls=true&tlsCAFile=ca.pem."""
    with tempfile.TemporaryDirectory() as directory:
        server_pem, ca, client_pem = make_certificates(directory)
        with Testd(testd_binary, "--auth", "--user", "alice:s3cr3t", "--tls-certificate-key-file", server_pem,
                   "--tls-ca-file", ca, "--x509-user", "CN=pyclient") as testd:
            tls = "&tls=true&tlsCAFile=" + urllib.parse.quote(ca, safe="")
            with MongoClient(uri_for(testd, "alice", "s3cr3t", tls)) as c:
                with c.start_session() as s:
                    with s.start_transaction():
                        c.app.tls_people.insert_one({"_id": 1}, session=s)
                assert c.app.tls_people.count_documents({}) == 1
            with MongoClient(uri_for(testd, "alice", "wrong", tls)) as c:
                try:
                    c.admin.command("listDatabases")
                    raise AssertionError("a wrong password was accepted over TLS")
                except OperationFailure as e:
                    assert e.code == 18, e.details
            with MongoClient(uri_for(testd, "alice", "s3cr3t"), serverSelectionTimeoutMS=1000) as plain:
                try:
                    plain.admin.command("ping")
                    raise AssertionError("a plain-TCP client reached a TLS-only server")
                except ServerSelectionTimeoutError:
                    pass
            run = subprocess.run([cli, "--uri", uri_for(testd, "alice", "s3cr3t", tls), "--script", "txn3"],
                                 capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, (run.stdout, run.stderr)
            x509 = "mongodb://%s/?replicaSet=rs0&authMechanism=MONGODB-X509%s&tlsCertificateKeyFile=%s" % (
                testd.address, tls, urllib.parse.quote(client_pem, safe=""))
            with MongoClient(x509, serverSelectionTimeoutMS=5000) as c:
                assert c.admin.command("listDatabases")["ok"] == 1
            run = subprocess.run([cli, "--uri", x509, "--script", "txn3", "--coll", "x509_items"],
                                 capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, (run.stdout, run.stderr)
    print("ok: PyMongo and mongowire-cli authenticate (SCRAM, MONGODB-X509) and commit over TLS; "
          "plain TCP is refused")


def main():
    testd_binary = sys.argv[1]
    cli = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(testd_binary)))), "tools", "mongowire-cli")
    with Testd(testd_binary, "--auth", "--user", "alice:" + PASSWORD, "--log-commands") as testd:
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1", None):
            check_transaction(testd, mechanism)
        check_failures(testd)
        check_user_management(testd)
        if not os.access(cli, os.X_OK):
            raise AssertionError("mongowire-cli not found at %s (build it first)" % cli)
        check_cli_output(testd, cli)
        log = testd.first_line + "".join(testd.lines)
    check_tls(testd_binary, cli)
    for secret in (PASSWORD, "I\u00adX", "c=biws"):
        assert secret not in log, "mongowire-testd --log-commands printed %r" % secret
    print("ok: mongowire-testd --log-commands redacts the authentication and user commands")
    return 0


if __name__ == "__main__":
    sys.exit(main())
