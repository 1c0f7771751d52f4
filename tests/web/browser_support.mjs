// What the browser tests share: the real chat_server (its ports read from its log), headless
// Chromium through playwright-core, a plain TCP client, and waits on the page. Every wait has a
// deadline; nothing sleeps for a fixed time.
//
// Needs Debian's chromium (CHROMIUM overrides /usr/bin/chromium) and `npm ci --prefix tests/web`;
// tools/setup.sh installs both. The server binary comes from SERVER=... or the first argument.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fs.realpathSync(fileURLToPath(import.meta.url)));
export const repoRoot = path.resolve(here, '../..');
export const serverPath = process.env.SERVER || process.argv[2];
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
export const WAIT_MS = 15000;

function fail(message) {
  console.error(`${path.basename(process.argv[1] || 'browser_test')}: ${message}`);
  process.exit(1);
}

if (!serverPath || !fs.existsSync(serverPath)) {
  fail(`no server binary: pass its path as SERVER=... or the first argument (got ${serverPath})`);
}
if (!fs.existsSync(chromiumPath)) {
  fail(`${chromiumPath} is missing: run tools/setup.sh (it installs Debian's chromium)`);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (error) {
  fail(`playwright-core is not installed in tests/web/node_modules: run tools/setup.sh ` +
       `(it runs npm ci --prefix tests/web)\n${error.message}`);
}

// Headless Chromium; `args` are added to the usual flags. Playwright gives every launch a fresh
// temporary profile (its own --user-data-dir).
export function launchBrowser(args = []) {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           ...args],
  });
}

// A self-signed certificate for 127.0.0.1 in `directory` (as tools/make_cert.sh makes them), and
// the base64 SHA-256 of its public key, which Chromium's --ignore-certificate-errors-spki-list
// takes to trust this one key and no other.
export function makeCert(directory) {
  fs.mkdirSync(directory, { recursive: true });
  const cert = path.join(directory, 'cert.pem');
  const key = path.join(directory, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-days', '2', '-keyout', key, '-out', cert, '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const spki = execFileSync('sh', ['-c', 'openssl x509 -pubkey -noout -in "$0" | ' +
    'openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64', cert]);
  return { cert, key, spki: spki.toString().trim() };
}

// ---- the server ----------------------------------------------------------------------------

// Starts chat_server with `flags` and reads its ports from the log: tcpPort, httpPort and, when
// it serves HTTPS (flags with --tls_cert), httpsPort. A restart on the same ports retries while
// the old ports are still being released.
export async function startServer({ tcpPort = 0, httpPort = 0, flags = [] } = {}) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      return await startServerOnce(tcpPort, httpPort, flags, deadline);
    } catch (error) {
      if (Date.now() > deadline || !error.retry) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));  // back off, then try the bind again
    }
  }
}

// One history store for the whole run, so that a restart keeps what was said.
const dataDir = fs.mkdtempSync(path.join(process.env.TEST_TMPDIR || os.tmpdir(), 'roomchat-data-'));

function startServerOnce(tcpPort, httpPort, flags, deadline) {
  const https = flags.some((flag) => flag.startsWith('--tls_cert='));
  return new Promise((resolve, reject) => {
    const child = spawn(serverPath, [`--port=${tcpPort}`, `--http_port=${httpPort}`,
                                     `--data_dir=${dataDir}`, '--history_on_join=3', ...flags],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const ports = {};
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not log its ports in time:\n${log}`));
    }, Math.max(0, deadline - Date.now()));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      if (process.env.VERBOSE) process.stderr.write(chunk);
      for (const [kind, pattern] of [['tcp', /listening on [^\s:]+:(\d+) \(/],
                                     ['http', /serving HTTP on [^\s:]+:(\d+)/],
                                     ['https', /serving HTTPS on [^\s:]+:(\d+)/]]) {
        const found = log.match(pattern);
        if (found) ports[kind] = Number(found[1]);
      }
      if (ports.tcp && ports.http && (ports.https || !https) && !ports.done) {
        ports.done = true;
        clearTimeout(timer);
        resolve({ child, tcpPort: ports.tcp, httpPort: ports.http, httpsPort: ports.https,
                  log: () => log });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (ports.done) return;
      const error = new Error(`server exited (${code}) before listening:\n${log}`);
      error.retry = /in use|EADDRINUSE|bind/i.test(log);
      reject(error);
    });
  });
}

export function stopServer(server) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) { resolve(); return; }
    server.child.once('exit', resolve);
    server.child.kill('SIGTERM');
  });
}

// ---- a plain TCP client ----------------------------------------------------------------------

export class TcpClient {
  static connect(port) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new TcpClient(socket)));
      socket.once('error', reject);
    });
  }
  constructor(socket) {
    this.socket = socket;
    this.lines = [];      // {text, taken}
    this.waiters = new Set();
    let partial = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop();
      for (const text of parts) this.lines.push({ text, taken: false });
      for (const waiter of this.waiters) waiter();
    });
    socket.on('error', () => {});
  }
  send(line) { this.socket.write(line + '\n'); }
  // The first line not yet taken that matches; lines before it stay for later waits.
  expect(pattern) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.lines.find((l) => !l.taken && pattern.test(l.text));
        if (!line) return;
        line.taken = true;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(line.text);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`TCP client: no line matching ${pattern} in time; got:\n` +
                         this.lines.map((l) => '  ' + l.text).join('\n')));
      }, WAIT_MS);
      this.waiters.add(check);
      check();
    });
  }
  close() { this.socket.destroy(); }
}


// ---- pages -----------------------------------------------------------------------------------

export async function openPage(browser, url, viewport) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (error) => { page.errors.push(error.message); });
  page.errors = [];
  await page.goto(url);
  await waitFor(page, 'connected', () => document.body.dataset.connection === 'connected');
  return page;
}

// Waits for a condition in the page; on timeout says what and shows the page's log.
export async function waitFor(page, what, predicate, arg) {
  try {
    await page.waitForFunction(predicate, arg, { timeout: WAIT_MS });
  } catch (error) {
    const log = await page.locator('#log').innerText().catch(() => '(no log)');
    const status = await page.locator('#status').innerText().catch(() => '?');
    throw new Error(`page: ${what} did not happen in time (status: ${status}); log:\n${log}`);
  }
}

export function waitLog(page, kind, text) {
  return waitFor(page, `a ${kind} entry with "${text}"`, ([k, t]) =>
    [...document.querySelectorAll(`#log .entry.${k}`)].some((e) => e.textContent.includes(t)),
  [kind, text]);
}

export function waitMembers(page, nicks) {
  return waitFor(page, `members ${nicks}`, (want) =>
    JSON.stringify([...document.querySelectorAll('#members li')].map((li) => li.dataset.nick)) ===
      JSON.stringify(want), nicks);
}

export function waitRoomCount(page, room, count) {
  return waitFor(page, `room ${room} listed with ${count}`, ([r, c]) =>
    [...document.querySelectorAll('#rooms li')].some((li) => li.dataset.room === r &&
      li.dataset.count === String(c)), [room, count]);
}

export function waitRoom(page, room) {
  return waitFor(page, `being in ${room}`, (r) =>
    document.getElementById('room-title').textContent === r, room);
}

export async function say(page, line) {
  await page.locator('#input').fill(line);
  await page.locator('#input').press('Enter');
}
