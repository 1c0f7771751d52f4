"""WebSocket protocol cases against the real chat_server binary, from a client nobody here wrote
(python3-websockets, Debian's), plus raw-socket cases no well-behaved client can produce.

  /usr/bin/python3 tests/web/websocket_protocol_test.py PATH/TO/chat_server

Each case has a deadline; nothing waits on a sleep being long enough.
"""
import asyncio
import base64
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

try:
    import websockets
    from websockets.exceptions import ConnectionClosed, InvalidStatusCode
except ImportError:
    sys.exit("websocket_protocol_test: python3-websockets is missing; run tools/setup.sh")

SERVER = None
DEADLINE = 20.0
MAX_LINE = 256


def start_server():
    process = subprocess.Popen(
        [SERVER, "--port=0", "--http_port=0", f"--max_line_bytes={MAX_LINE}",
         "--max_outbuf_bytes=1048576"],
        stderr=subprocess.PIPE, text=True)
    ports = {}
    until = time.monotonic() + DEADLINE
    while len(ports) < 2 and time.monotonic() < until:
        line = process.stderr.readline()
        if not line:
            break
        found = re.search(r"(listening on|serving HTTP on) 127\.0\.0\.1:(\d+)", line)
        if found:
            ports["http" if "HTTP" in found.group(1) else "tcp"] = int(found.group(2))
    if len(ports) < 2:
        process.kill()
        raise RuntimeError("the server did not say which ports it listens on")
    # Keep draining its log so it never blocks on a full pipe.
    threading.Thread(target=lambda: process.stderr.read(), daemon=True).start()
    return process, ports["tcp"], ports["http"]


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, DEADLINE))


def raw_handshake(port, extra=b""):
    """A raw socket that has completed the upgrade; returns it and the bytes after the 101."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 b"Sec-WebSocket-Version: 13\r\n\r\n" % (port, key) + extra)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError("closed during the handshake")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock, rest


def read_frames_until_close(sock, buffered=b""):
    """Server frames (unmasked) until a close frame; returns (text messages, close code)."""
    data, texts = buffered, []
    while True:
        while len(data) >= 2:
            opcode, length = data[0] & 0x0F, data[1] & 0x7F
            header = 2
            if length == 126:
                if len(data) < 4:
                    break
                length, header = struct.unpack("!H", data[2:4])[0], 4
            if len(data) < header + length:
                break
            payload, data = data[header:header + length], data[header + length:]
            if opcode == 0x1:
                texts.append(payload.decode())
            if opcode == 0x8:
                return texts, struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        chunk = sock.recv(4096)
        if not chunk:
            return texts, None
        data += chunk


def masked(opcode, payload, fin=True):
    key = os.urandom(4)
    header = bytes([(0x80 if fin else 0) | opcode])
    header += bytes([0x80 | len(payload)]) if len(payload) < 126 else \
        bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class WebSocketProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server, cls.tcp_port, cls.http_port = start_server()
        cls.url = f"ws://127.0.0.1:{cls.http_port}/ws"

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=DEADLINE)

    async def closed_with(self, send):
        async with websockets.connect(self.url) as ws:
            self.assertTrue((await ws.recv()).startswith("WELCOME "))
            await send(ws)
            with self.assertRaises(ConnectionClosed) as closed:
                while True:
                    await ws.recv()
            return closed.exception.rcvd.code if closed.exception.rcvd else None

    def test_lines_are_text_frames_and_bye_is_followed_by_a_close(self):
        async def case():
            async with websockets.connect(self.url) as ws:
                self.assertTrue((await ws.recv()).startswith("WELCOME guest"))
                await ws.send("/ping one")
                self.assertEqual(await ws.recv(), "PONG one")
                await ws.send("two\nlines")
                self.assertTrue((await ws.recv()).startswith("ERR bad-encoding "))
                await ws.send("/quit")
                self.assertEqual(await ws.recv(), "BYE quit")
                with self.assertRaises(ConnectionClosed) as closed:
                    await ws.recv()
                self.assertEqual(closed.exception.rcvd.code, 1000)
        run(case())

    def test_binary_is_1003(self):
        self.assertEqual(run(self.closed_with(lambda ws: ws.send(b"\x00\x01"))), 1003)

    def test_invalid_utf8_is_1007(self):
        self.assertEqual(run(self.closed_with(lambda ws: ws.write_frame(True, 0x1, b"\xff\xfe"))),
                         1007)

    def test_an_oversize_message_is_1009(self):
        self.assertEqual(run(self.closed_with(lambda ws: ws.send("x" * (MAX_LINE + 1)))), 1009)

    def test_fragments_are_reassembled_and_ping_is_answered(self):
        async def case():
            async with websockets.connect(self.url) as ws:
                await ws.recv()
                await ws.send(iter(["/pi", "ng frag", "mented"]))
                self.assertEqual(await ws.recv(), "PONG fragmented")
                pong = await ws.ping(b"beat")
                await asyncio.wait_for(pong, DEADLINE)
        run(case())

    def test_the_close_handshake_completes(self):
        async def case():
            ws = await websockets.connect(self.url)
            await ws.recv()
            await ws.close(1000)
            self.assertEqual(ws.close_rcvd.code, 1000)
        run(case())

    def test_another_sites_origin_is_403_and_the_own_origin_passes(self):
        async def case():
            with self.assertRaises(InvalidStatusCode) as refused:
                await websockets.connect(self.url, origin="https://evil.example")
            self.assertEqual(refused.exception.status_code, 403)
            own = f"http://127.0.0.1:{self.http_port}"
            async with websockets.connect(self.url, origin=own) as ws:
                self.assertTrue((await ws.recv()).startswith("WELCOME "))
        run(case())

    def test_an_unmasked_frame_is_1002(self):
        sock, rest = raw_handshake(self.http_port)
        with sock:
            sock.sendall(bytes([0x81, 0x02]) + b"hi")  # a client frame must be masked
            texts, code = read_frames_until_close(sock, rest)
            self.assertEqual(code, 1002)
            self.assertTrue(texts[0].startswith("WELCOME "))

    def test_frames_sent_with_the_upgrade_request_are_read(self):
        sock, rest = raw_handshake(self.http_port, extra=masked(0x1, b"/quit"))
        with sock:
            texts, code = read_frames_until_close(sock, rest)
            self.assertEqual(texts[-1], "BYE quit")
            self.assertEqual(code, 1000)

    def test_a_half_finished_upgrade_is_cut(self):
        sock = socket.create_connection(("127.0.0.1", self.http_port), timeout=DEADLINE)
        with sock:
            sock.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
            start = time.monotonic()
            self.assertEqual(sock.recv(4096), b"", "the server must close it")
            self.assertLess(time.monotonic() - start, DEADLINE)

    def test_a_websocket_and_a_tcp_client_share_a_room(self):
        async def case():
            reader, writer = await asyncio.open_connection("127.0.0.1", self.tcp_port)
            async def line():
                return (await reader.readline()).decode().rstrip("\n")
            self.assertTrue((await line()).startswith("WELCOME "))
            writer.write(b"/nick tcpclient\n/create mixed\n")
            self.assertEqual(await line(), "OK NICK tcpclient")
            self.assertEqual(await line(), "OK CREATE mixed")
            async with websockets.connect(self.url) as ws:
                await ws.recv()
                await ws.send("/nick webclient")
                self.assertEqual(await ws.recv(), "OK NICK webclient")
                await ws.send("/join mixed")
                self.assertEqual(await ws.recv(), "OK JOIN mixed 2")
                self.assertEqual(await line(), "JOIN mixed webclient")
                await ws.send("hello from a browser")
                self.assertEqual(await line(), "MSG mixed webclient hello from a browser")
                writer.write(b"hello from a terminal\n/msg webclient psst\n")
                self.assertEqual(await ws.recv(), "MSG mixed tcpclient hello from a terminal")
                self.assertEqual(await ws.recv(), "PRIV tcpclient psst")
            self.assertEqual(await line(), "OK MSG webclient")
            self.assertEqual(await line(), "LEAVE mixed webclient")
            writer.close()
        run(case())


class HttpPortTest(unittest.TestCase):
    """The plain HTTP answers of the same port."""

    @classmethod
    def setUpClass(cls):
        cls.server, _, cls.http_port = start_server()

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=DEADLINE)

    def exchange(self, request):
        """Sends `request`, returns everything until the server closes."""
        sock = socket.create_connection(("127.0.0.1", self.http_port), timeout=DEADLINE)
        with sock:
            sock.sendall(request)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            return data

    def test_statuses(self):
        cases = [
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"200 OK"),
            (b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"404 Not Found"),
            (b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", b"405 Method Not Allowed"),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", b"413 "),
            (b"GET / HTTP/1.1\r\nX: " + b"y" * 9000 + b"\r\n\r\n", b"431 "),
            (b"BLAH\r\n\r\n", b"400 Bad Request"),
        ]
        for request, status in cases:
            response = self.exchange(request)
            self.assertTrue(response.startswith(b"HTTP/1.1 " + status), (request[:20], response[:60]))

    def test_a_half_closed_client_still_gets_its_answer(self):
        sock = socket.create_connection(("127.0.0.1", self.http_port), timeout=DEADLINE)
        with sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK"), data[:40])

    def test_a_client_that_pipelines_without_reading_is_read_no_further(self):
        # 64 MB of requests whose answers are never read: the server must stop reading once the
        # answers back up, so the send cannot complete (it did when every request was read).
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        sock = socket.create_connection(("127.0.0.1", self.http_port), timeout=3)
        sent = 0
        with sock:
            chunk = request * 20000
            with self.assertRaises(socket.timeout):
                while sent < 64 << 20:
                    sent += sock.send(chunk)
        self.assertLess(sent, 64 << 20)
        # The server still answers others.
        self.assertTrue(self.exchange(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
                        .startswith(b"HTTP/1.1 200 OK"))

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        response = self.exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                 b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(response.count(b"HTTP/1.1 200 OK"), 2)


class MetricsTest(unittest.TestCase):
    """/metrics after some traffic: the counts it must show, and promtool's verdict on the page."""

    @classmethod
    def setUpClass(cls):
        cls.server, cls.tcp_port, cls.http_port = start_server()

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=DEADLINE)

    def scrape(self):
        sock = socket.create_connection(("127.0.0.1", self.http_port), timeout=DEADLINE)
        with sock:
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        self.assertTrue(head.startswith(b"HTTP/1.1 200 OK"), head)
        self.assertIn(b"text/plain; version=0.0.4", head)
        return body.decode()

    def test_counts_traffic_and_passes_promtool(self):
        async def traffic():
            reader, writer = await asyncio.open_connection("127.0.0.1", self.tcp_port)
            await reader.readline()
            writer.write(b"/create metered\n")
            await reader.readline()
            async with websockets.connect(f"ws://127.0.0.1:{self.http_port}/ws") as ws:
                await ws.recv()
                await ws.send("/join metered")
                await ws.recv()
                await reader.readline()  # JOIN
                writer.write(b"one line\n")
                self.assertEqual(await ws.recv(), "MSG metered guest1 one line")
                page = self.scrape()
            writer.close()
            return page
        page = run(traffic())
        def value(name):
            found = re.search(r"^" + re.escape(name) + r" (\S+)$", page, re.M)
            self.assertIsNotNone(found, name)
            return float(found.group(1))
        self.assertEqual(value('roomchat_connections_accepted_total{transport="tcp"}'), 1)
        self.assertEqual(value('roomchat_connections_open{transport="websocket"}'), 1)
        self.assertEqual(value("roomchat_rooms"), 1)
        self.assertEqual(value('roomchat_members{place="rooms"}'), 2)
        self.assertGreaterEqual(value("roomchat_deliveries_total"), 2)  # JOIN and the line
        self.assertGreaterEqual(value("roomchat_lines_received_total"), 3)  # /create, /join, the line
        self.assertGreaterEqual(value("roomchat_fanout_seconds_count"), 2)
        promtool = "/usr/bin/promtool"
        self.assertTrue(os.path.exists(promtool), "promtool is missing; run tools/setup.sh")
        checked = subprocess.run([promtool, "check", "metrics"], input=page, text=True,
                                 capture_output=True, timeout=DEADLINE)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        self.assertEqual(checked.stdout + checked.stderr, "", "promtool found problems")


if __name__ == "__main__":
    SERVER = sys.argv.pop(1)
    unittest.main(verbosity=2)
