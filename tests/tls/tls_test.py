"""TLS on the line port, from clients nobody here wrote: Python's ssl module and `openssl s_client`,
against the real chat_server binary. Certificates are made here with the openssl command.

  /usr/bin/python3 tests/tls/tls_test.py PATH/TO/chat_server

Each case has a deadline; nothing waits on a sleep being long enough.
"""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest

from tls_support import (DEADLINE, Lines, make_cert, old_protocol_context, read_until_closed,
                         tls_client)
import tls_support

SERVER = None
CLIENT = None
WORK = None


def Server(cert, key, *flags):
    """chat_server with TLS on the line port only."""
    return tls_support.Server(SERVER, WORK, cert, key, "--http_port=-1", "--tls_port=0", *flags)


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
        context = old_protocol_context(self.cert)
        raw = socket.create_connection(("127.0.0.1", self.server.ports["tls"]), timeout=DEADLINE)
        with self.assertRaises(ssl.SSLError) as refused:
            context.wrap_socket(raw, server_hostname="localhost")
        self.assertRegex(str(refused.exception), r"(?i)protocol.version|unsupported protocol")
        self.server.wait_log(r"handshake with 127\.0\.0\.1:\d+ failed")

    def test_plaintext_to_the_tls_port_is_refused_and_the_port_still_serves(self):
        plain = socket.create_connection(("127.0.0.1", self.server.ports["tls"]), timeout=DEADLINE)
        plain.sendall(b"/nick mallory\n")
        received = read_until_closed(plain)  # an alert at most, then the end (or a reset)
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
