"""Certificates for the TLS interop tests, made with the openssl command: a CA, a server
certificate for localhost and 127.0.0.1, and a client certificate (CN=pyclient)."""
import os
import subprocess


def make_certificates(directory):
    """Writes the files into `directory`; returns the paths of server.pem, ca.pem and client.pem
    (each .pem of a server or client holds its certificate, then its key)."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=interop CA")
    openssl("req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.crt", "-days", "2", "-extfile", "san.ext")
    openssl("req", *curve, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=pyclient")
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "client.crt", "-days", "2")
    for name in ("server", "client"):
        with open(os.path.join(directory, name + ".pem"), "w") as out:
            for part in (name + ".crt", name + ".key"):
                with open(os.path.join(directory, part)) as f:
                    out.write(f.read())
    return [os.path.join(directory, name) for name in ("server.pem", "ca.pem", "client.pem")]
