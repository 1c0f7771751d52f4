// End-to-end test of the web client: the real chat_server, two pages in headless Chromium (two
// browser contexts) and one plain TCP client in one room; then a server restart on the same ports.
//
//   SERVER=bazel-bin/chat/chat_server node tests/web/browser_test.mjs
//   node tests/web/browser_test.mjs bazel-bin/chat/chat_server      # the same
//   UPDATE_SCREENSHOTS=1 ...                                          # rewrites docs/web/*.png
//
// Needs Debian's chromium (CHROMIUM overrides /usr/bin/chromium) and `npm ci --prefix tests/web`;
// tools/setup.sh installs both. Every wait has a deadline; nothing sleeps for a fixed time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  launchBrowser, openPage, repoRoot, say, startServer, stopServer, TcpClient, waitFor, waitLog,
  waitMembers, waitRoom, waitRoomCount,
} from './browser_support.mjs';

const screenshotDir = process.env.UPDATE_SCREENSHOTS === '1'
  ? path.join(repoRoot, 'docs/web')
  : (process.env.TEST_UNDECLARED_OUTPUTS_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'roomchat-shots-')));

// ---- accessibility -----------------------------------------------------------------------------

async function checkAccessibility(page) {
  for (const role of ['banner', 'main', 'complementary', 'log', 'status']) {
    assert.ok(await page.getByRole(role).count() >= 1, `no ${role} landmark/role`);
  }
  // Every control has an accessible name: the ARIA snapshot prints `- button "name"`.
  const snapshot = await page.locator('body').ariaSnapshot();
  const unnamed = snapshot.split('\n').filter((line) =>
    /^\s*- (button|textbox|combobox|checkbox|link)\b/.test(line) && !/^\s*- \w+ "[^"]+"/.test(line));
  assert.deepEqual(unnamed, [], `controls without an accessible name:\n${snapshot}`);

  // Contrast of the main text against what it sits on (the first opaque background up the tree).
  const ratios = await page.evaluate(() => {
    const rgb = (css) => (css.match(/[\d.]+/g) || []).map(Number);
    const background = (element) => {
      for (let e = element; e; e = e.parentElement) {
        const [r, g, b, a = 1] = rgb(getComputedStyle(e).backgroundColor);
        if (a > 0.99) return [r, g, b];
      }
      return [255, 255, 255];
    };
    const luminance = (c) => {
      const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const selectors = ['h1', '#status', '#room-title', '#log .entry.msg .text', '#log .entry.note',
      '#log .entry.join', '#log time', '#log button.nick', '#log .entry.priv .text',
      '#log .entry.error .text', '#error', '#members button.nick', '#rooms button', '.count',
      'button[type=submit]', '#input', 'summary', '#room-topic', '#log .entry.topic',
      '#log .entry.op', '#log .entry.kick', '#log .entry.kicked .text'];
    const out = [];
    for (const selector of selectors) {
      for (const element of document.querySelectorAll(selector)) {
        if (!element.textContent.trim() && element.tagName !== 'INPUT') continue;
        const fg = rgb(getComputedStyle(element).color).slice(0, 3);
        out.push({ selector, text: element.textContent.slice(0, 30), ratio: ratio(fg, background(element)) });
      }
    }
    return out;
  });
  assert.ok(ratios.length > 10, 'contrast check found too few elements');
  const low = ratios.filter((r) => r.ratio < 4.5);
  assert.deepEqual(low, [], 'text below WCAG AA 4.5:1');

  // Visible focus: the focused input draws an outline of at least 2px.
  await page.locator('#input').focus();
  const outline = await page.locator('#input').evaluate((e) => {
    const style = getComputedStyle(e);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  assert.ok(outline.style !== 'none' && outline.width >= 2, `no visible focus: ${JSON.stringify(outline)}`);
}

// ---- the test ----------------------------------------------------------------------------------

test('web client: two pages and a TCP client in one room, then a server restart', async (t) => {
  let server = await startServer();
  const browser = await launchBrowser();
  const tcp = await TcpClient.connect(server.tcpPort);
  t.after(async () => {
    tcp.close();
    await browser.close();
    await stopServer(server);
  });
  const url = `http://127.0.0.1:${server.httpPort}/`;
  const desktop = { width: 1280, height: 800 };

  // Page A: nick through the form, creates lounge through the Create button.
  const a = await openPage(browser, url, desktop);
  await a.getByLabel('Nick', { exact: true }).fill('alice');
  await a.getByRole('button', { name: 'Set' }).click();
  await waitLog(a, 'note', 'You are now alice');
  await a.getByLabel('Room', { exact: true }).fill('lounge');
  await a.getByRole('button', { name: 'Create' }).click();
  await waitRoom(a, 'lounge');
  await waitMembers(a, ['alice']);

  // Page B: nick typed as a command; joins by clicking lounge in the room list.
  const b = await openPage(browser, url, desktop);
  await say(b, '/nick bob');
  await waitLog(b, 'note', 'You are now bob');
  await waitRoomCount(b, 'lounge', 1);
  await b.locator('#rooms li[data-room="lounge"] button').click();
  await waitRoom(b, 'lounge');
  await waitLog(a, 'join', 'bob joined lounge');

  // The TCP client joins the same room.
  await tcp.expect(/^WELCOME guest\d+ /);
  tcp.send('/nick carol');
  await tcp.expect(/^OK NICK carol$/);
  tcp.send('/join lounge');
  await tcp.expect(/^OK JOIN lounge 3$/);
  for (const page of [a, b]) {
    await waitLog(page, 'join', 'carol joined lounge');
    await waitMembers(page, ['alice', 'bob', 'carol']);
    await waitRoomCount(page, 'lounge', 3);
  }

  // Chat in every direction, including the // escape and text that looks like HTML.
  await say(a, 'hello from alice');
  await waitLog(b, 'msg', 'hello from alice');
  await tcp.expect(/^MSG lounge alice hello from alice$/);
  await say(b, '//slash from bob');
  await waitLog(a, 'msg', '/slash from bob');
  await tcp.expect(/^MSG lounge bob \/slash from bob$/);
  const html = '<img src=x onerror="window.pwned=1"> <b>bold</b> & co';
  tcp.send('hi from carol');
  tcp.send(html);
  for (const page of [a, b]) {
    await waitLog(page, 'msg', 'hi from carol');
    await waitLog(page, 'msg', html);
    assert.equal(await page.locator('#log img, #log b').count(), 0, 'server text became HTML');
    assert.equal(await page.evaluate(() => window.pwned), undefined);
  }

  // Private messages: page A -> TCP client, TCP client -> page B.
  await say(a, '/msg carol psst from alice');
  await tcp.expect(/^PRIV alice psst from alice$/);
  tcp.send('/msg bob secret for bob');
  await tcp.expect(/^OK MSG bob$/);
  await waitLog(b, 'priv', 'secret for bob');
  // Clicking a nick starts a private message.
  await b.locator('#members li[data-nick="alice"] button').click();
  assert.equal(await b.locator('#input').inputValue(), '/msg alice ');

  // A nick change shows in the log and the member lists.
  tcp.send('/nick dave');
  await tcp.expect(/^OK NICK dave$/);
  for (const page of [a, b]) {
    await waitLog(page, 'nick', 'carol is now dave');
    await waitMembers(page, ['alice', 'bob', 'dave']);
  }

  // /help shows the server's HELP lines; an error shows by the input; Up/Down recall lines.
  await say(a, '/help');
  await waitFor(a, 'HELP lines', () => document.querySelectorAll('#log .entry.help').length >= 3);
  await say(a, '/join nosuchroom');
  await waitFor(a, 'the error by the input', () =>
    document.getElementById('error').textContent.includes('no-such-room'));
  await a.locator('#input').press('ArrowUp');
  assert.equal(await a.locator('#input').inputValue(), '/join nosuchroom');
  await a.locator('#input').press('ArrowUp');
  assert.equal(await a.locator('#input').inputValue(), '/help');
  await a.locator('#input').press('ArrowDown');
  assert.equal(await a.locator('#input').inputValue(), '/join nosuchroom');
  await a.locator('#input').fill('');

  // LEAVE: the TCP client goes back to the lobby.
  tcp.send('/leave');
  await tcp.expect(/^OK LEAVE lounge$/);
  for (const page of [a, b]) {
    await waitLog(page, 'leave', 'dave left lounge');
    await waitMembers(page, ['alice', 'bob']);
    await waitRoomCount(page, 'lounge', 2);
  }

  await checkAccessibility(a);
  await checkAccessibility(b);
  await say(a, 'the web client and the terminal client share rooms');
  await waitLog(b, 'msg', 'share rooms');
  await a.screenshot({ path: path.join(screenshotDir, 'desktop.png') });

  // A phone-width page: one column, lists folded, messages visible.
  const phone = await openPage(browser, url, { width: 390, height: 844 });
  await say(phone, '/nick erin');
  await waitLog(phone, 'note', 'You are now erin');
  await say(phone, '/join lounge');
  await waitRoom(phone, 'lounge');
  await say(a, 'welcome erin');
  await say(b, 'hi erin, this is bob');
  await waitLog(phone, 'msg', 'hi erin, this is bob');
  // History: joining, erin was shown the last 3 lines said before (dimmed, with their time);
  // Earlier lines puts the ones before them above, in order.
  await waitLog(phone, 'history', 'share rooms');
  assert.equal(await phone.locator('#log .entry.history').count(), 3, 'the replay on join');
  await phone.getByRole('button', { name: 'Earlier lines' }).click();
  await waitLog(phone, 'note', 'earlier lines of lounge');
  const shown = await phone.locator('#log .entry.history .text').allInnerTexts();
  const earlierAt = shown.findIndex((text) => text.includes('hello from alice'));
  const replayAt = shown.findIndex((text) => text.includes('share rooms'));
  assert.ok(earlierAt >= 0 && earlierAt < replayAt, `earlier lines go above: ${shown.join(' | ')}`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the phone layout scrolls sideways by ${overflow}px`);
  await checkAccessibility(phone);
  await phone.screenshot({ path: path.join(screenshotDir, 'phone.png') });
  await phone.context().close();

  // Restart: the pages show reconnecting, then connect again, take their nicks and rejoin.
  const { tcpPort, httpPort } = server;
  await stopServer(server);
  for (const page of [a, b]) {
    await waitFor(page, 'reconnecting', () => document.body.dataset.connection === 'reconnecting' &&
      /reconnecting/i.test(document.getElementById('status').textContent));
  }
  server = await startServer({ tcpPort, httpPort });
  // Said while the pages may still be away: each shows it once (live, or from since=).
  const tcp2 = await TcpClient.connect(server.tcpPort);
  t.after(() => tcp2.close());
  await tcp2.expect(/^WELCOME guest\d+ /);
  tcp2.send('/create lounge');
  const made = await tcp2.expect(/^(OK CREATE lounge|ERR room-exists)/);
  if (made.startsWith('ERR')) {
    tcp2.send('/join lounge');
    await tcp2.expect(/^OK JOIN lounge/);
  }
  tcp2.send('said during the restart');
  for (const [page, nick] of [[a, 'alice'], [b, 'bob']]) {
    await waitFor(page, 'connected again', () => document.body.dataset.connection === 'connected');
    await waitFor(page, `status shows ${nick}`, (n) =>
      document.getElementById('status').textContent.includes(n), nick);
    await waitRoom(page, 'lounge');
  }
  for (const page of [a, b]) {
    await waitLog(page, 'msg', 'said during the restart');
    const times = await page.locator('#log .entry.msg .text', { hasText: 'said during the restart' }).count();
    assert.equal(times, 1, 'the line said during the restart is shown once');
    const before = await page.locator('#log .entry.msg .text', { hasText: 'hello from alice' }).count();
    assert.equal(before, 1, 'nothing shown before the restart is shown again');
  }
  tcp2.send('/leave');
  await tcp2.expect(/^OK LEAVE/);
  for (const page of [a, b]) await waitMembers(page, ['alice', 'bob']);
  await say(b, 'back after the restart');
  await waitLog(a, 'msg', 'back after the restart');

  assert.deepEqual([...a.errors, ...b.errors], [], 'errors in the page');
  console.log(`screenshots in ${screenshotDir}`);
});

// ---- accounts and moderation -------------------------------------------------------------------

// Fails if the password or key shows anywhere in the page: its text, its inputs, its title.
async function assertHidden(page, secrets) {
  const shown = await page.evaluate(() => [document.body.innerText, document.title,
    ...[...document.querySelectorAll('input')].map((input) => input.value)].join('\n'));
  for (const secret of secrets) assert.ok(!shown.includes(secret), `"${secret}" shows in the page`);
}

test('web client: register, a topic, not-op, op/deop, kicked to the lobby, renamed, bans', async (t) => {
  const server = await startServer();
  const browser = await launchBrowser();
  const op = await TcpClient.connect(server.tcpPort);
  t.after(async () => {
    op.close();
    await browser.close();
    await stopServer(server);
  });
  const url = `http://127.0.0.1:${server.httpPort}/`;
  const desktop = { width: 1280, height: 800 };
  const password = 'correct-horse-42';

  // The page registers its nick over ws:// from loopback (allowed there); the password never
  // shows and the /register line is not kept for Up.
  const page = await openPage(browser, url, desktop);
  await say(page, '/nick frank');
  await waitLog(page, 'note', 'You are now frank');
  await say(page, `/register ${password}`);
  await waitLog(page, 'note', 'Registered frank; you are logged in to it');
  await waitFor(page, 'status shows logged in', () =>
    document.getElementById('status').textContent.includes('frank (logged in)'));
  await page.locator('#input').press('ArrowUp');
  assert.equal(await page.locator('#input').inputValue(), '/nick frank', 'the /register line is not recalled');
  await page.locator('#input').fill('');
  // With spaces before it the server would say it to the room: not sent.
  await say(page, `  /login frank ${password}`);
  await waitFor(page, 'not sent', () => document.getElementById('error').textContent.includes('Not sent'));
  await assertHidden(page, [password]);

  // The TCP client creates the room (its operator); the page joins; the operator sets the topic.
  await op.expect(/^WELCOME guest\d+ /);
  op.send('/nick oscar');
  await op.expect(/^OK NICK oscar$/);
  op.send('/create modroom');
  await op.expect(/^OK CREATE modroom$/);
  await say(page, '/join modroom');
  await waitRoom(page, 'modroom');
  await waitMembers(page, ['frank', 'oscar']);
  op.send('/topic Be kind <b>here</b>');
  await op.expect(/^OK TOPIC modroom$/);
  await waitFor(page, 'the topic under the room name', () => {
    const topic = document.getElementById('room-topic');
    return !topic.hidden && topic.textContent === 'Topic: Be kind <b>here</b>';
  });
  await waitLog(page, 'topic', 'Topic of modroom (set by oscar): Be kind <b>here</b>');
  assert.equal(await page.locator('#room-topic b').count(), 0, 'the topic became HTML');

  // A second page joins after: it is shown the topic on joining.
  const watcher = await openPage(browser, url, desktop);
  await say(watcher, '/nick wendy');
  await waitLog(watcher, 'note', 'You are now wendy');
  await say(watcher, '/join modroom');
  await waitRoom(watcher, 'modroom');
  await waitLog(watcher, 'topic', 'Topic of modroom (set by oscar): Be kind');
  await waitFor(watcher, 'the topic on join', () =>
    document.getElementById('room-topic').textContent.includes('Be kind'));

  // Not an operator: /kick is refused, by the input and in the log.
  await say(page, '/kick oscar');
  await waitFor(page, 'ERR not-op by the input', () =>
    document.getElementById('error').textContent.includes('not-op'));
  await waitLog(page, 'error', 'not-op');
  // /topic with no text asks for it.
  await say(page, '/topic');
  await waitFor(page, 'the topic asked for', () =>
    document.querySelectorAll('#log .entry.topic').length === 2);

  // OP and DEOP notes (wendy, a guest: a logged-in member made operator would own the room).
  op.send('/op wendy');
  await op.expect(/^OK OP wendy$/);
  await waitLog(watcher, 'op', 'oscar made you an operator of modroom');
  await waitLog(page, 'op', 'oscar made wendy an operator of modroom');
  op.send('/deop wendy');
  await op.expect(/^OK DEOP wendy$/);
  await waitLog(page, 'op', 'oscar took operator away from wendy in modroom');
  await waitLog(watcher, 'op', 'oscar took operator away from you in modroom');
  await checkAccessibility(watcher);

  // Kicked: the page is in the lobby and says why; the other page gets a note.
  op.send('/kick frank calm down');
  await op.expect(/^OK KICK frank$/);
  await waitLog(page, 'kicked', 'You were kicked from modroom by oscar: calm down; you are in the lobby');
  await waitRoom(page, 'Lobby');
  await waitFor(page, 'the lobby: no members, no topic', () =>
    document.querySelectorAll('#members li').length === 0 &&
    document.getElementById('room-topic').hidden &&
    document.getElementById('members-empty').textContent === 'You are in the lobby.');
  await waitLog(watcher, 'kick', 'frank was kicked from modroom by oscar: calm down');
  await waitMembers(watcher, ['oscar', 'wendy']);
  await checkAccessibility(watcher);
  await checkAccessibility(page);
  await assertHidden(page, [password]);

  // A third page logs in to frank: the first page loses the nick (RENAMED) and says so.
  const third = await openPage(browser, url, desktop);
  await say(third, `/login frank ${password}`);
  await waitLog(third, 'note', 'Logged in as frank');
  await waitLog(page, 'renamed', 'You lost the nick frank (');
  await waitFor(page, 'status shows the guest nick', () =>
    /^Connected as guest\d+$/.test(document.getElementById('status').textContent));
  // It makes a room with a key and bans wendy: the bans are listed; the key shows nowhere.
  const key = 'door-key-7';
  await say(third, `/create keyroom ${key}`);
  await waitRoom(third, 'keyroom');
  await say(third, '/ban wendy');
  await waitLog(third, 'note', 'You banned wendy');
  await say(third, '/bans');
  await waitLog(third, 'note', '1 ban in keyroom');
  await waitLog(third, 'list', 'nick wendy (banned by frank)');
  await say(third, `/key ${key}`);
  await waitLog(third, 'note', 'Key set for keyroom');
  for (const expected of ['/bans', '/ban wendy', '/ban wendy']) {
    await third.locator('#input').press('ArrowUp');
    assert.equal(await third.locator('#input').inputValue(), expected, 'no line with a password or key is recalled');
  }
  await third.locator('#input').fill('');
  await say(watcher, `/join keyroom ${key}`);
  await waitFor(watcher, 'ERR banned', () => document.getElementById('error').textContent.includes('banned'));
  await assertHidden(third, [password, key]);
  await assertHidden(watcher, [key]);
  assert.deepEqual([...page.errors, ...watcher.errors, ...third.errors], [], 'errors in the page');
});

test('web client: a password over plain ws:// where the server refuses it says to use https://', async (t) => {
  const server = await startServer({ flags: ['--plaintext_auth_from_loopback=false'] });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await stopServer(server);
  });
  const page = await openPage(browser, `http://127.0.0.1:${server.httpPort}/`, { width: 1280, height: 800 });
  await say(page, '/nick grace');
  await waitLog(page, 'note', 'You are now grace');
  await say(page, '/login grace not-sent-anywhere');
  await waitFor(page, 'ERR insecure by the input, saying https://', () => {
    const text = document.getElementById('error').textContent;
    return text.includes('(insecure)') && text.includes('https://');
  });
  await assertHidden(page, ['not-sent-anywhere']);
  assert.deepEqual(page.errors, [], 'errors in the page');
});
