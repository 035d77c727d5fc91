"""libmongoc judges the test server's authentication over TLS (issue 11 "Done when").

usage: mongoc_auth_tls.py <path to mongowire-testd> <path to interop-mongoc-auth-client>
Starts mongowire-testd --auth --user alice:s3cr3t --tls-certificate-key-file server.pem
--tls-ca-file ca.pem --log-commands (certificates made with the openssl command; exit code 77,
skipped, without it). libmongoc, with mongodb://alice:s3cr3t@localhost:PORT/?replicaSet=rs0&
tls=true&tlsCAFile=ca.pem and no client certificate, commits a transaction with SCRAM-SHA-256,
SCRAM-SHA-1 and the negotiated mechanism; a wrong password is libmongoc's authentication
error; and neither the server's output (stdout and stderr, every command logged) nor the
client's shows the password or a SCRAM message.
"""
import shutil
import subprocess
import sys
import tempfile

from certificates import make_certificates
from testd_process import Testd

PASSWORD = "s3cr3t"
SECRETS = (PASSWORD, "c=biws", "n,,n=alice")


def run_client(client, *args):
    run = subprocess.run([client, *args], capture_output=True, text=True, timeout=60, errors="replace")
    return run.returncode, run.stdout + run.stderr


def uri(testd, ca, password, mechanism):
    """The "Done when" connection string, with authMechanism when one is given."""
    text = "mongodb://alice:%s@localhost:%d/?replicaSet=rs0&tls=true&tlsCAFile=%s" % (password, testd.port, ca)
    return text + ("&authMechanism=" + mechanism if mechanism else "")


def check_libmongoc(testd, ca, client):
    """Transactions with each mechanism, then wrong passwords; returns what the client printed."""
    outputs = []
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1", None):
        name = mechanism or "negotiated"
        code, text = run_client(client, "commit", uri(testd, ca, PASSWORD, mechanism), "auth_tls_" + name)
        outputs.append(text)
        assert code == 0, "%s: %s" % (name, text)
        print("%s (%s)" % (text.strip(), name))
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
        code, text = run_client(client, "refused", uri(testd, ca, "wrong", mechanism))
        outputs.append(text)
        assert code == 0, "%s: %s" % (mechanism, text)
        print("%s (%s)" % (" / ".join(text.strip().splitlines()), mechanism))
    return "".join(outputs)


def main():
    testd_binary, client = sys.argv[1], sys.argv[2]
    if shutil.which("openssl") is None:
        print("SKIP: the openssl command is not installed (it makes the certificates)")
        return 77
    with tempfile.TemporaryDirectory() as directory:
        server_pem, ca, _ = make_certificates(directory)
        with Testd(testd_binary, "--auth", "--user", "alice:" + PASSWORD, "--tls-certificate-key-file", server_pem,
                   "--tls-ca-file", ca, "--log-commands", merge_stderr=True) as testd:
            client_output = check_libmongoc(testd, ca, client)
        server_output = testd.first_line + "".join(testd.lines)
    assert "saslContinue" in server_output, "the server's log does not show the authentication"
    assert server_output.count('"commitTransaction"') >= 3, "the server did not see three commits"
    for secret in SECRETS:
        assert secret not in server_output, "mongowire-testd printed %r" % secret
        assert secret not in client_output, "the client printed %r" % secret
    print("ok: neither mongowire-testd --log-commands nor the client printed the password or a SCRAM message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
