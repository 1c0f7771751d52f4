// The web client over HTTPS and wss://: the real chat_server with a self-signed certificate, a
// page in headless Chromium loaded from https://127.0.0.1:PORT/ (so the client opens wss://), and a
// plain TCP client in the same room. Chromium trusts the test certificate's key and no other
// (--ignore-certificate-errors-spki-list).
//
//   node tests/web/browser_https_test.mjs bazel-bin/chat/chat_server
//
// Needs what browser_test.mjs needs, and the openssl command. Every wait has a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  launchBrowser, makeCert, openPage, say, startServer, stopServer, TcpClient, waitLog, waitMembers,
  waitRoom,
} from './browser_support.mjs';

test('web client over https and wss, with a TCP client in one room', async (t) => {
  const work = fs.mkdtempSync(path.join(process.env.TEST_TMPDIR || os.tmpdir(), 'roomchat-tls-'));
  const { cert, key, spki } = makeCert(work);
  const server = await startServer({
    flags: [`--tls_cert=${cert}`, `--tls_key=${key}`, '--https_port=0', '--tls_port=-1'],
  });
  const browser = await launchBrowser([`--ignore-certificate-errors-spki-list=${spki}`]);
  const tcp = await TcpClient.connect(server.tcpPort);
  t.after(async () => {
    tcp.close();
    await browser.close();
    await stopServer(server);
  });

  const page = await openPage(browser, `https://127.0.0.1:${server.httpsPort}/`,
                              { width: 1280, height: 800 });
  assert.equal(await page.evaluate(() => location.protocol), 'https:');
  // The page's socket is the server's one wss client (it counts transports in /metrics).
  const metrics = await page.evaluate(async () => (await fetch('/metrics')).text());
  assert.match(metrics, /^roomchat_connections_open\{transport="wss"\} 1$/m);
  assert.match(metrics, /^roomchat_connections_open\{transport="websocket"\} 0$/m);

  await say(page, '/nick alice');
  await waitLog(page, 'note', 'You are now alice');
  await say(page, '/create vault');
  await waitRoom(page, 'vault');

  await tcp.expect(/^WELCOME guest\d+ /);
  tcp.send('/nick carol');
  await tcp.expect(/^OK NICK carol$/);
  tcp.send('/join vault');
  await tcp.expect(/^OK JOIN vault 2$/);
  await waitLog(page, 'join', 'carol joined vault');
  await waitMembers(page, ['alice', 'carol']);

  await say(page, 'hello over wss');
  await tcp.expect(/^MSG vault alice hello over wss$/);
  tcp.send('hi back over plain TCP');
  await waitLog(page, 'msg', 'hi back over plain TCP');
  const long = 'x'.repeat(3000);  // several TLS records' worth with the frame around it
  tcp.send(long);
  await waitLog(page, 'msg', `carol: ${long}`);

  assert.deepEqual(page.errors, [], 'errors in the page');
});
