"""TLS on the line port, from clients nobody here wrote: Python's ssl module and `openssl s_client`,
against the real chat_server binary. Certificates are made here with the openssl command.

  /usr/bin/python3 tests/tls/tls_test.py PATH/TO/chat_server

Each case has a deadline; nothing waits on a sleep being long enough.
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SERVER = None
CLIENT = None
DEADLINE = 20.0
WORK = None


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
    """chat_server with TLS; reads the ports from its log and keeps the log."""

    def __init__(self, cert, key, *flags):
        data = tempfile.mkdtemp(dir=WORK)
        self.process = subprocess.Popen(
            [SERVER, "--port=0", "--http_port=-1", "--tls_port=0", f"--tls_cert={cert}",
             f"--tls_key={key}", f"--data_dir={data}", *flags],
            stderr=subprocess.PIPE, text=True)
        self.log = []
        self.ports = {}
        self.lock = threading.Condition()
        threading.Thread(target=self._read_log, daemon=True).start()
        self.wait_log(r"listening for TLS on 127\.0\.0\.1:\d+")

    def _read_log(self):
        for line in self.process.stderr:
            with self.lock:
                self.log.append(line)
                for kind, pattern in (("tcp", r"listening on 127\.0\.0\.1:(\d+) \("),
                                      ("tls", r"listening for TLS on 127\.0\.0\.1:(\d+)")):
                    found = re.search(pattern, line)
                    if found:
                        self.ports[kind] = int(found.group(1))
                self.lock.notify_all()

    def wait_log(self, pattern):
        with self.lock:
            if not self.lock.wait_for(lambda: any(re.search(pattern, l) for l in self.log),
                                      DEADLINE):
                raise AssertionError(f"no log line matching {pattern!r}:\n{''.join(self.log)}")

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


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cert, cls.key = make_cert(os.path.join(WORK, "a"), "localhost")
        cls.server = Server(cls.cert, cls.key, "--tls_handshake_timeout_s=1")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_a_tls_client_and_a_plain_client_share_a_room(self):
        secure = tls_client(self.server.ports["tls"], self.cert)
        self.assertIn(secure.version(), ("TLSv1.2", "TLSv1.3"))
        alice = Lines(secure)
        self.assertTrue(alice.read().startswith("WELCOME "))
        self.assertEqual(alice.ask("/nick alice"), "OK NICK alice")
        self.assertEqual(alice.ask("/create Vault"), "OK CREATE Vault")
        bob = Lines(socket.create_connection(("127.0.0.1", self.server.ports["tcp"]),
                                             timeout=DEADLINE))
        self.assertTrue(bob.read().startswith("WELCOME "))
        bob.ask("/nick bob")
        self.assertEqual(bob.ask("/join Vault"), "OK JOIN Vault 2")
        self.assertEqual(alice.read(), "JOIN Vault bob")
        alice.send("x" * 40000)  # over --max_line_bytes, across several TLS records
        self.assertTrue(alice.read().startswith("ERR line-too-long"))
        alice.send("over TLS")
        self.assertEqual(bob.read(), "MSG Vault alice over TLS")
        bob.send("over plain TCP")
        self.assertEqual(alice.read(), "MSG Vault bob over plain TCP")
        self.assertEqual(alice.ask("/quit"), "BYE quit")
        secure.close()

    def test_many_lines_in_one_burst_arrive_through_tls_records(self):
        sender = Lines(tls_client(self.server.ports["tls"], self.cert))
        receiver = Lines(tls_client(self.server.ports["tls"], self.cert))
        sender.read(), receiver.read()
        self.assertEqual(sender.ask("/create Burst"), "OK CREATE Burst")
        self.assertTrue(receiver.ask("/join Burst").startswith("OK JOIN Burst"))
        sender.read()  # JOIN
        lines = [f"line {i} " + "y" * 2000 for i in range(300)]
        sender.sock.sendall("".join(l + "\n" for l in lines).encode())  # ~600 KB, many records
        for line in lines:
            self.assertTrue(receiver.read().endswith(line.split(" ", 2)[2]))

    def test_old_protocol_versions_are_refused(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(self.cert)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT@SECLEVEL=0")
        raw = socket.create_connection(("127.0.0.1", self.server.ports["tls"]), timeout=DEADLINE)
        with self.assertRaises(ssl.SSLError) as refused:
            context.wrap_socket(raw, server_hostname="localhost")
        self.assertRegex(str(refused.exception), r"(?i)protocol.version|unsupported protocol")
        self.server.wait_log(r"handshake with 127\.0\.0\.1:\d+ failed")

    def test_plaintext_to_the_tls_port_is_refused_and_the_port_still_serves(self):
        plain = socket.create_connection(("127.0.0.1", self.server.ports["tls"]), timeout=DEADLINE)
        plain.sendall(b"/nick mallory\n")
        received = b""
        try:
            while chunk := plain.recv(4096):  # an alert at most, then the end (or a reset)
                received += chunk
        except ConnectionResetError:
            pass
        self.assertNotIn(b"WELCOME", received)
        self.server.wait_log(r"handshake with 127\.0\.0\.1:\d+ failed")
        after = Lines(tls_client(self.server.ports["tls"], self.cert))
        self.assertTrue(after.read().startswith("WELCOME "))

    def test_a_handshake_left_half_done_is_cut(self):
        stalled = socket.create_connection(("127.0.0.1", self.server.ports["tls"]),
                                           timeout=DEADLINE)
        stalled.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, then nothing
        self.assertEqual(stalled.recv(4096), b"", "the server closes it")
        self.server.wait_log(r"did not finish its handshake in 1 s")

    def test_a_client_refuses_a_certificate_for_another_name(self):
        with self.assertRaises(ssl.SSLCertVerificationError):
            tls_client(self.server.ports["tls"], self.cert, hostname="chat.example.org")

    def test_the_terminal_client_talks_tls_and_checks_the_certificate(self):
        port = self.server.ports["tls"]
        listener = Lines(tls_client(port, self.cert))
        listener.read()
        self.assertEqual(listener.ask("/create Terminal"), "OK CREATE Terminal")
        result = subprocess.run(
            [CLIENT, "--tls", f"--tls_ca={self.cert}", "--host=localhost", f"--port={port}",
             "--nick=term", "--room=Terminal"],
            input="typed in a terminal\n", capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stderr, r"connected over TLSv1\.[23]")
        self.assertEqual(listener.read(), "JOIN Terminal term")
        self.assertEqual(listener.read(), "MSG Terminal term typed in a terminal")
        other_cert, _ = make_cert(os.path.join(WORK, "other"), "localhost")
        refused = subprocess.run(
            [CLIENT, "--tls", f"--tls_ca={other_cert}", "--host=localhost", f"--port={port}"],
            input="", capture_output=True, text=True, timeout=DEADLINE)
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn("certificate not trusted", refused.stderr)

    def test_openssl_s_client_chats(self):
        result = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{self.server.ports['tls']}",
             "-CAfile", self.cert, "-verify_return_error", "-quiet", "-verify_hostname",
             "localhost"],
            input="/nick sclient\n/whoami\n/quit\n", capture_output=True, text=True,
            timeout=DEADLINE)
        self.assertIn("OK NICK sclient", result.stdout)
        self.assertIn("OK WHOAMI sclient -", result.stdout)
        self.assertIn("BYE quit", result.stdout)


class HandshakeLimitTest(unittest.TestCase):
    def test_one_address_cannot_hold_every_handshake_slot(self):
        cert, key = make_cert(os.path.join(WORK, "limit"), "localhost")
        server = Server(cert, key, "--tls_handshake_timeout_s=60")
        silent = []
        try:
            port = server.ports["tls"]
            for _ in range(20):  # more than the 16 one address may hold; they never say hello
                sock = socket.socket()
                sock.bind(("127.0.0.2", 0))
                sock.settimeout(DEADLINE)
                sock.connect(("127.0.0.1", port))
                silent.append(sock)
            # Accepted in order: by now 127.0.0.2 holds all its slots, so its next is turned away.
            context = ssl.create_default_context(cafile=cert)
            crowded = socket.socket()
            crowded.bind(("127.0.0.2", 0))
            crowded.settimeout(DEADLINE)
            crowded.connect(("127.0.0.1", port))
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                context.wrap_socket(crowded, server_hostname="localhost")
            server.wait_log(r"TLS handshakes in progress from 127\.0\.0\.2")
            # Another address is served at once.
            other = Lines(tls_client(port, cert))
            self.assertTrue(other.read().startswith("WELCOME "))
        finally:
            server.stop()  # with 16 handshakes still pending: a clean exit all the same
            for sock in silent:
                sock.close()


class PasswordTest(unittest.TestCase):
    """Passwords travel only over TLS or loopback; with loopback not trusted, only over TLS. No
    password reaches the server's log."""

    def test_register_and_login_need_tls_when_loopback_is_not_trusted(self):
        cert, key = make_cert(os.path.join(WORK, "auth"), "localhost")
        server = Server(cert, key, "--plaintext_auth_from_loopback=false")
        passwords = ["tls-pass-31337", "tls-wrong-27182", "tls-newpass-16180", "plain-pass-14142"]
        try:
            plain = Lines(socket.create_connection(("127.0.0.1", server.ports["tcp"]),
                                                   timeout=DEADLINE))
            self.assertTrue(plain.read().startswith("WELCOME "))
            self.assertEqual(plain.ask("/nick plainuser"), "OK NICK plainuser")
            self.assertRegex(plain.ask(f"/register {passwords[3]}"), r"^ERR insecure( |$)")
            self.assertRegex(plain.ask(f"/login tlsuser {passwords[0]}"), r"^ERR insecure( |$)")

            alice = Lines(tls_client(server.ports["tls"], cert))
            self.assertTrue(alice.read().startswith("WELCOME "))
            self.assertEqual(alice.ask("/nick tlsuser"), "OK NICK tlsuser")
            self.assertEqual(alice.ask(f"/register {passwords[0]}"), "OK REGISTER tlsuser")
            self.assertEqual(alice.ask(f"/password {passwords[0]} {passwords[2]}"), "OK PASSWORD")

            # The plain client may not log in to it, even with the right password...
            self.assertRegex(plain.ask(f"/login tlsuser {passwords[2]}"), r"^ERR insecure( |$)")
            # ...a TLS client may.
            other = Lines(tls_client(server.ports["tls"], cert))
            self.assertTrue(other.read().startswith("WELCOME "))
            self.assertRegex(other.ask(f"/login tlsuser {passwords[1]}"), r"^ERR auth-failed( |$)")
            self.assertEqual(other.ask(f"/login tlsuser {passwords[2]}"), "OK LOGIN tlsuser")
            self.assertRegex(alice.read(), r"^RENAMED tlsuser guest\d+ ")
            self.assertEqual(other.ask("/whoami"), "OK WHOAMI tlsuser -")
        finally:
            server.stop()
        server.wait_log(r"shut down")  # the log read to its end
        log = "".join(server.log)
        self.assertIn("listening for TLS", log)
        for password in passwords:
            self.assertNotIn(password, log, f"{password} is in the server's log")


class ReloadTest(unittest.TestCase):
    def test_sighup_reloads_the_certificate_for_new_connections_only(self):
        directory = os.path.join(WORK, "live")
        cert, key = make_cert(directory, "localhost")
        old = os.path.join(WORK, "old-cert.pem")
        shutil.copy(cert, old)
        server = Server(cert, key)
        try:
            before = Lines(tls_client(server.ports["tls"], old))
            before.read()
            self.assertEqual(before.ask("/create Renewal"), "OK CREATE Renewal")
            make_cert(directory, "localhost")  # renewed in place
            server.process.send_signal(signal.SIGHUP)
            server.wait_log(r"reloaded the TLS certificate")
            with self.assertRaises(ssl.SSLCertVerificationError):
                tls_client(server.ports["tls"], old)  # the new certificate is served
            after = Lines(tls_client(server.ports["tls"], cert))
            after.read()
            self.assertTrue(after.ask("/join Renewal").startswith("OK JOIN Renewal"))
            self.assertEqual(before.read(), "JOIN Renewal " + after.ask("/whoami").split()[2])
            before.send("still here on the old certificate")
            self.assertEqual(after.read(), "MSG Renewal " + before.ask("/whoami").split()[2] +
                             " still here on the old certificate")
        finally:
            server.stop()


if __name__ == "__main__":
    SERVER = os.path.abspath(sys.argv.pop(1))
    CLIENT = os.path.abspath(sys.argv.pop(1))
    WORK = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    unittest.main(verbosity=2)
