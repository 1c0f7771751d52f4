"""What tls_test.py and https_test.py share: certificates made with the openssl command, the real
chat_server with TLS (its ports read from its log), and line reading over any socket.

Every wait has a deadline (DEADLINE); nothing waits on a sleep being long enough.
"""
import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import threading

DEADLINE = 20.0

# The log line that names each port, by kind.
PORT_PATTERNS = (("tcp", r"listening on 127\.0\.0\.1:(\d+) \("),
                 ("tls", r"listening for TLS on 127\.0\.0\.1:(\d+)"),
                 ("http", r"serving HTTP on 127\.0\.0\.1:(\d+)"),
                 ("https", r"serving HTTPS on 127\.0\.0\.1:(\d+)"))


def make_cert(directory, name):
    """A self-signed certificate for `name` and 127.0.0.1, as tools/make_cert.sh makes them."""
    os.makedirs(directory, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "2", "-keyout", os.path.join(directory, "key.pem"),
         "-out", os.path.join(directory, "cert.pem"), "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True)
    return os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")


class Server:
    """`binary` with TLS on ports it picks, its history under `work`; reads the ports from its log
    (self.ports by kind: tcp, tls, http, https), keeps the log, and returns once a line matching
    `ready` is logged."""

    def __init__(self, binary, work, cert, key, *flags, ready=r"listening for TLS on"):
        data = tempfile.mkdtemp(dir=work)
        self.process = subprocess.Popen(
            [binary, "--port=0", f"--tls_cert={cert}", f"--tls_key={key}", f"--data_dir={data}",
             *flags],
            stderr=subprocess.PIPE, text=True)
        self.log = []
        self.ports = {}
        self.lock = threading.Condition()
        threading.Thread(target=self._read_log, daemon=True).start()
        self.wait_log(ready)

    def _read_log(self):
        for line in self.process.stderr:
            with self.lock:
                self.log.append(line)
                for kind, pattern in PORT_PATTERNS:
                    found = re.search(pattern, line)
                    if found:
                        self.ports[kind] = int(found.group(1))
                self.lock.notify_all()

    def wait_log(self, pattern, count=1):
        """Waits until `count` log lines match `pattern`."""
        with self.lock:
            if not self.lock.wait_for(
                    lambda: sum(1 for l in self.log if re.search(pattern, l)) >= count, DEADLINE):
                raise AssertionError(f"no log line matching {pattern!r}:\n{''.join(self.log)}")

    def count_log(self, pattern):
        with self.lock:
            return sum(1 for l in self.log if re.search(pattern, l))

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(DEADLINE)
        if code != 0:  # a sanitizer's report (a leak, a race) ends the server with another code
            raise AssertionError(f"the server exited with {code}:\n{''.join(self.log[-40:])}")


class Lines:
    """Line reading over any socket-like object with recv()."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def read(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"closed; had {self.buffer!r}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def ask(self, line):
        self.send(line)
        return self.read()


def tls_client(port, cafile, hostname="localhost", **context_options):
    context = ssl.create_default_context(cafile=cafile)
    for name, value in context_options.items():
        setattr(context, name, value)
    raw = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    return context.wrap_socket(raw, server_hostname=hostname)


def old_protocol_context(cafile):
    """A client context that offers TLS 1.0 and 1.1 only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT@SECLEVEL=0")
    return context


def read_until_closed(sock):
    """Everything `sock` receives until the peer closes it (or resets it)."""
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received
