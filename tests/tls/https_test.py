"""The HTTPS port (--https_port: the web client and wss://), from clients nobody here wrote:
Python's ssl and http.client, `openssl s_client` and python3-websockets, against the real
chat_server binary, with a plain line-port client in the same rooms.

  /usr/bin/python3 tests/tls/https_test.py PATH/TO/chat_server

Each case has a deadline; nothing waits on a sleep being long enough.
"""
import asyncio
import http.client
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import unittest

from tls_support import (DEADLINE, Lines, make_cert, old_protocol_context, read_until_closed,
                         tls_client)
import tls_support

try:
    import websockets
    from websockets.exceptions import InvalidStatusCode
except ImportError:
    sys.exit("https_test: python3-websockets is missing; run tools/setup.sh")

SERVER = None
WORK = None
HANDSHAKE_FAILED = r"handshake with 127\.0\.0\.1:\d+ failed"


def Server(cert, key, *flags):
    """chat_server with the plain line port, the HTTP port and the HTTPS port."""
    return tls_support.Server(SERVER, WORK, cert, key, "--http_port=0", "--https_port=0",
                              "--tls_port=-1", *flags, ready=r"serving HTTPS on")


def https_get(port, cafile, *paths):
    """GETs each path in turn on one kept-alive connection: [(status, body)]."""
    context = ssl.create_default_context(cafile=cafile)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context,
                                             timeout=DEADLINE)
    try:
        answers = []
        for path in paths:
            connection.request("GET", path)
            response = connection.getresponse()
            answers.append((response.status, response.read()))
        return answers
    finally:
        connection.close()


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, DEADLINE))


def wss(port, cafile, **options):
    return websockets.connect(f"wss://127.0.0.1:{port}/ws",
                              ssl=ssl.create_default_context(cafile=cafile), **options)


def line_client(port):
    lines = Lines(socket.create_connection(("127.0.0.1", port), timeout=DEADLINE))
    assert lines.read().startswith("WELCOME ")
    return lines


def client_frame(text):
    """A masked text frame, as a browser sends it."""
    payload = text.encode()
    key = os.urandom(4)
    size = bytes([0x80 | len(payload)]) if len(payload) < 126 else \
        bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    return b"\x81" + size + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class MemoryTls:
    """A TLS client over memory BIOs: what it writes leaves in one send(), so records written one
    after the other reach the server together."""

    def __init__(self, port, cafile):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ssl.create_default_context(cafile=cafile).wrap_bio(
            self.incoming, self.outgoing, server_hostname="127.0.0.1")
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                self.receive()
        self.flush()

    def flush(self):
        self.sock.sendall(self.outgoing.read())

    def receive(self):
        data = self.sock.recv(65536)
        if not data:
            raise AssertionError("the server closed the connection")
        self.incoming.write(data)

    def read(self):
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                self.receive()


def server_messages(data):
    """The text messages in `data` (unmasked server frames), and the bytes after the last whole
    frame."""
    messages = []
    while len(data) >= 2:
        size, at = data[1] & 0x7F, 2
        if size == 126:
            if len(data) < 4:
                break
            size, at = struct.unpack("!H", data[2:4])[0], 4
        if len(data) < at + size:
            break
        if data[0] & 0x0F == 0x1:
            messages.append(data[at:at + size].decode())
        data = data[at + size:]
    return messages, data


class HttpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cert, cls.key = make_cert(os.path.join(WORK, "a"), "localhost")
        cls.server = Server(cls.cert, cls.key, "--tls_handshake_timeout_s=1")
        cls.port = cls.server.ports["https"]

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_python_ssl_gets_the_web_client_and_healthz_on_one_connection(self):
        (page_status, page), (health_status, health) = https_get(self.port, self.cert, "/",
                                                                 "/healthz")
        self.assertEqual(page_status, 200)
        self.assertIn(b"<html", page.lower())
        self.assertEqual((health_status, health.strip()), (200, b"ok"))

    def test_openssl_s_client_gets_healthz(self):
        result = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{self.port}", "-CAfile", self.cert,
             "-verify_return_error", "-quiet", "-verify_hostname", "localhost"],
            input="GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            capture_output=True, text=True, timeout=DEADLINE)
        self.assertTrue(result.stdout.startswith("HTTP/1.1 200 "), result.stdout + result.stderr)
        self.assertTrue(result.stdout.endswith("ok\n"), result.stdout)

    def test_a_wss_client_chats_with_a_line_client_in_one_room(self):
        async def case():
            async with wss(self.port, self.cert) as ws:
                self.assertTrue((await ws.recv()).startswith("WELCOME "))
                await ws.send("/nick wendy")
                self.assertEqual(await ws.recv(), "OK NICK wendy")
                await ws.send("/create Secure")
                self.assertEqual(await ws.recv(), "OK CREATE Secure")
                lena = line_client(self.server.ports["tcp"])
                lena.ask("/nick lena")
                self.assertEqual(lena.ask("/join Secure"), "OK JOIN Secure 2")
                self.assertEqual(await ws.recv(), "JOIN Secure lena")
                await ws.send("over wss")
                self.assertEqual(lena.read(), "MSG Secure wendy over wss")
                long_line = "y" * 4000  # across TLS records both ways
                await ws.send(long_line)
                self.assertEqual(lena.read(), "MSG Secure wendy " + long_line)
                lena.send("over plain TCP")
                self.assertEqual(await ws.recv(), "MSG Secure lena over plain TCP")
                [(status, metrics)] = https_get(self.port, self.cert, "/metrics")
                self.assertEqual(status, 200)
                self.assertIn(b'roomchat_connections_open{transport="wss"} 1', metrics)
        run(case())

    def test_the_own_https_origin_passes_and_an_http_origin_is_403(self):
        async def case():
            own = f"https://127.0.0.1:{self.port}"
            async with wss(self.port, self.cert, origin=own) as ws:
                self.assertTrue((await ws.recv()).startswith("WELCOME "))
            with self.assertRaises(InvalidStatusCode) as refused:
                await wss(self.port, self.cert, origin=f"http://127.0.0.1:{self.port}")
            self.assertEqual(refused.exception.status_code, 403)
        run(case())

    def test_frames_that_came_with_the_upgrade_are_all_answered(self):
        # The upgrade request, then one full 16 KiB record of frames, in one send: the HTTP thread's
        # 16 KiB read ends inside that record, so its tail waits decrypted inside OpenSSL, where
        # epoll cannot see it, when the connection moves to the lobby.
        client = MemoryTls(self.port, self.cert)
        client.tls.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         b"Sec-WebSocket-Version: 13\r\n\r\n")
        frames, tokens = b"", []
        while 16384 - len(frames) > 300:
            tokens.append(f"{len(tokens):03d}" + "x" * 116)
            frames += client_frame("/ping " + tokens[-1])
        left = 16384 - len(frames)
        tokens.append("last" + "z" * (left - (6 if left - 6 < 126 else 8) - 10))
        frames += client_frame("/ping " + tokens[-1])
        self.assertEqual(len(frames), 16384)
        client.tls.write(frames)
        client.flush()
        received = b""
        while b"\r\n\r\n" not in received:
            received += client.read()
        head, rest = received.split(b"\r\n\r\n", 1)
        self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
        messages, rest = server_messages(rest)
        while len(messages) < len(tokens) + 1:  # WELCOME, then a PONG for each
            got, rest = server_messages(rest + client.read())
            messages += got
        self.assertTrue(messages[0].startswith("WELCOME "))
        self.assertEqual(messages[1:], ["PONG " + token for token in tokens])

    def test_plaintext_http_to_the_https_port_is_refused_and_the_port_still_serves(self):
        failed = self.server.count_log(HANDSHAKE_FAILED)
        plain = socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE)
        plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = read_until_closed(plain)  # an alert at most, then the end (or a reset)
        self.assertNotIn(b"HTTP/1.1", received)
        self.server.wait_log(HANDSHAKE_FAILED, failed + 1)
        self.assertEqual(https_get(self.port, self.cert, "/healthz")[0][0], 200)

    def test_a_handshake_left_half_done_is_cut(self):
        cut = self.server.count_log(r"did not finish its handshake in 1 s")
        stalled = socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE)
        stalled.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, then nothing
        self.assertEqual(stalled.recv(4096), b"", "the server closes it")
        self.server.wait_log(r"did not finish its handshake in 1 s", cut + 1)

    def test_tls_1_0_and_1_1_are_refused(self):
        failed = self.server.count_log(HANDSHAKE_FAILED)
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE)
        with self.assertRaises(ssl.SSLError) as refused:
            old_protocol_context(self.cert).wrap_socket(raw, server_hostname="localhost")
        self.assertRegex(str(refused.exception), r"(?i)protocol.version|unsupported protocol")
        self.server.wait_log(HANDSHAKE_FAILED, failed + 1)


class HttpsOffTest(unittest.TestCase):
    def test_no_https_port_without_the_http_port(self):
        cert, key = make_cert(os.path.join(WORK, "off"), "localhost")
        server = tls_support.Server(SERVER, WORK, cert, key, "--http_port=-1", "--tls_port=0",
                                    "--https_port=0")
        server.stop()
        server.wait_log(r"shut down")
        self.assertEqual(server.count_log(r"serving HTTPS"), 0)


class HttpsReloadTest(unittest.TestCase):
    def test_sighup_serves_a_new_certificate_and_a_wss_client_stays(self):
        directory = os.path.join(WORK, "live")
        cert, key = make_cert(directory, "localhost")
        old = os.path.join(WORK, "old-cert.pem")
        shutil.copy(cert, old)
        server = Server(cert, key)
        port = server.ports["https"]

        async def case():
            async with wss(port, old) as before:
                self.assertTrue((await before.recv()).startswith("WELCOME "))
                await before.send("/nick olga")
                await before.recv()
                await before.send("/create Renewal")
                self.assertEqual(await before.recv(), "OK CREATE Renewal")
                make_cert(directory, "localhost")  # renewed in place
                server.process.send_signal(signal.SIGHUP)
                server.wait_log(r"reloaded the TLS certificate")
                with self.assertRaises(ssl.SSLCertVerificationError):
                    https_get(port, old, "/healthz")  # the new certificate is served
                self.assertEqual(https_get(port, cert, "/healthz")[0][0], 200)
                async with wss(port, cert) as after:
                    self.assertTrue((await after.recv()).startswith("WELCOME "))
                    await after.send("/join Renewal")
                    self.assertTrue((await after.recv()).startswith("OK JOIN Renewal"))
                self.assertRegex(await before.recv(), r"^JOIN Renewal guest\d+$")
                lena = line_client(server.ports["tcp"])
                lena.ask("/nick lena")
                self.assertTrue(lena.ask("/join Renewal").startswith("OK JOIN Renewal"))
                await before.send("still here on the old certificate")
                self.assertEqual(lena.read(), "MSG Renewal olga still here on the old certificate")
        try:
            run(case())
        finally:
            server.stop()


if __name__ == "__main__":
    SERVER = os.path.abspath(sys.argv.pop(1))
    WORK = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    unittest.main(verbosity=2)
