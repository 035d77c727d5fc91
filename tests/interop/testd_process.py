"""Starts mongowire-testd as a child process on a free port (--port 0) for interop scripts."""
import re
import subprocess
import threading


class Testd:
    """mongowire-testd running until close(); its stdout after the first line is kept in lines
    (with merge_stderr, its stderr too: everything the server prints)."""

    def __init__(self, binary, *args, merge_stderr=False):
        self.proc = subprocess.Popen([binary, "--port", "0", *args], stdout=subprocess.PIPE, text=True,
                                     stderr=subprocess.STDOUT if merge_stderr else None)
        first = self.proc.stdout.readline()
        match = re.search(r"listening on (\S+):(\d+)", first)
        if not match:
            self.proc.kill()
            raise RuntimeError("mongowire-testd did not start; its first line was %r" % first)
        self.host, self.port = match.group(1), int(match.group(2))
        self.first_line = first
        self.lines = []
        # Drain stdout (--log-commands writes a lot) so that the server never blocks on it.
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def uri(self, options="replicaSet=rs0"):
        return "mongodb://%s/?%s" % (self.address, options)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
