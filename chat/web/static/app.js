// roomchat web client: protocol v1 (docs/PROTOCOL.md) over a WebSocket at /ws, one line per text
// frame in each direction. No framework, no build step. Everything the server sends is shown with
// textContent: a nick or a line is text, never HTML.
//
// History (docs/PROTOCOL.md, "Capabilities and history"): the page asks for tags and replay, shows
// lines said before it came dimmed with their own time, offers "Earlier lines" (/history before
// the oldest shown), and after a lost connection rejoins its room with since= the last id it saw,
// so nothing said meanwhile is missed and nothing is shown twice.
'use strict';

const POLL_ROOMS_MS = 5000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10000;
const MAX_LOG_ENTRIES = 500;
const NICK_BACKGROUND = [0xf1, 0xf5, 0xfd];  // the darkest a nick sits on (.entry.mine)

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), reconnect: $('reconnect'), log: $('log'), error: $('error'),
  input: $('input'), sendForm: $('send-form'), nickForm: $('nick-form'), nickInput: $('nick-input'),
  roomForm: $('room-form'), roomInput: $('room-input'), rooms: $('rooms'),
  roomsEmpty: $('rooms-empty'), roomsSummary: $('rooms-summary'), members: $('members'),
  membersEmpty: $('members-empty'), membersSummary: $('members-summary'), roomTitle: $('room-title'),
  earlier: $('earlier'), topic: $('room-topic'),
};

// What the user chose (kept across reconnects) and what the server says now.
const state = {
  socket: null, attempt: 0, retryTimer: 0, countdownTimer: 0, pollTimer: 0, stopped: false,
  nick: '', wantedNick: '', room: '', wantedRoom: '',
  restore: null,                      // {step: 'nick'|'join'|'create', tries} while re-taking
  pendingRooms: [], pendingWho: [],   // FIFO of {silent} per /rooms and /who sent
  roomLines: [], memberLines: [],     // ROOM / MEMBER lines until their OK
  history: [], historyIndex: 0, draft: '',
  lastId: 0, lastIdRoom: '',          // the newest line id seen, and its room (for since=)
  seenUpTo: 0,                        // after a reconnect: lines up to here were shown already
  oldestId: 0,                        // the oldest line id seen in the room (for Earlier lines)
  earlier: null,                      // while an Earlier lines answer comes: where it goes
};

// ---- connection ----------------------------------------------------------------------------

function socketUrl() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
}

function connect() {
  clearTimeout(state.retryTimer);
  clearInterval(state.countdownTimer);
  state.stopped = false;
  ui.reconnect.hidden = true;
  if (state.attempt === 0) setStatus('connecting', 'Connecting…');
  else setStatus('reconnecting', `Reconnecting (attempt ${state.attempt})…`);
  let socket;
  try {
    socket = new WebSocket(socketUrl());
  } catch (error) {
    scheduleReconnect();
    return;
  }
  state.socket = socket;
  socket.onmessage = (event) => {
    if (typeof event.data !== 'string') return;
    for (const line of event.data.split('\n')) {
      if (line !== '') handleLine(line.replace(/\r$/, ''));
    }
  };
  socket.onclose = () => {
    if (state.socket !== socket) return;
    state.socket = null;
    clearInterval(state.pollTimer);
    state.pendingRooms = [];
    state.pendingWho = [];
    if (state.stopped) {
      setStatus('closed', 'Disconnected.');
      ui.reconnect.hidden = false;
    } else {
      scheduleReconnect();
    }
  };
}

// Exponential backoff with jitter: 0.5 s doubling to 10 s, each wait between half and all of it.
function scheduleReconnect() {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** state.attempt);
  const delay = ceiling / 2 + Math.random() * ceiling / 2;
  state.attempt += 1;
  const due = Date.now() + delay;
  const tick = () => {
    const seconds = Math.max(1, Math.ceil((due - Date.now()) / 1000));
    setStatus('reconnecting', `Disconnected; reconnecting in ${seconds} s…`);
  };
  tick();
  state.countdownTimer = setInterval(tick, 250);
  state.retryTimer = setTimeout(connect, delay);
}

function setStatus(name, text) {
  ui.status.dataset.state = name;
  ui.status.textContent = text;
  document.body.dataset.connection = name;
}

function send(line) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) {
    showError('Not connected; wait for the connection to come back.');
    return false;
  }
  state.socket.send(line);
  const word = commandWord(line);
  if (word === '/rooms') state.pendingRooms.push({ silent: false });
  if (word === '/who') state.pendingWho.push({ silent: false });
  if (word === '/quit') state.stopped = true;
  return true;
}

// Queries the page makes by itself: their answers update the panels but not the log.
function sendQuiet(line) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return;
  state.socket.send(line);
  (line.startsWith('/rooms') ? state.pendingRooms : state.pendingWho).push({ silent: true });
}

// Events come in bursts; one query per burst is enough.
const refreshTimers = {};
function soon(key, action) {
  if (refreshTimers[key]) return;
  refreshTimers[key] = setTimeout(() => { refreshTimers[key] = 0; action(); }, 100);
}
function refreshRooms() { soon('rooms', () => sendQuiet('/rooms')); }
function refreshMembers() { soon('who', () => { if (state.room) sendQuiet('/who ' + state.room); }); }

function commandWord(line) {
  if (!line.startsWith('/') || line.startsWith('//')) return '';
  return line.split(/[ \t]/, 1)[0].toLowerCase();
}

// ---- server lines --------------------------------------------------------------------------

function handleLine(taggedLine) {
  const [tags, line] = takeTags(taggedLine);
  const [tag] = line.split(' ', 1);
  const rest = line.slice(tag.length + 1);
  const field = (n) => splitFields(rest, n);
  switch (tag) {
    case 'WELCOME': return onWelcome(...field(2));
    case 'OK': return onOk(line.split(' ').slice(1));
    case 'ERR': return onErr(...field(2));
    case 'MSG': { const [room, nick, text] = field(3); return onMessage(room, nick, text, tags); }
    case 'PRIV': { const [nick, text] = field(2); return addPrivate(nick, text, false); }
    case 'JOIN': return onRoomEvent('join', field(2));
    case 'LEAVE': return onRoomEvent('leave', field(2));
    case 'NICK': return onNickEvent(...field(2));
    case 'ROOM': { const [name, count] = field(2); state.roomLines.push({ name, count }); return; }
    case 'MEMBER': state.memberLines.push(rest); return;
    case 'PONG': return addNote(rest ? `pong ${rest}` : 'pong');
    case 'HELP': return addEntry('help', [rest]);
    case 'BYE': return onBye(rest);
    default: if (!onModerationLine(tag, rest)) addNote(line);
  }
}

// Splits into n fields; the last keeps its spaces (free text).
function splitFields(text, n) {
  const parts = text.split(' ');
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(' ')];
}

function onWelcome(nick, text) {
  state.attempt = 0;
  state.nick = nick;
  setStatus('connected', `Connected as ${nick}`);
  addNote(`Connected as ${nick}. ${text}`);
  state.room = '';
  showRoom();
  clearInterval(state.pollTimer);
  state.pollTimer = setInterval(refreshRooms, POLL_ROOMS_MS);
  refreshRooms();
  state.seenUpTo = state.lastId;
  const account = moderationReset();
  if (account) {  // its nick is the account's: /nick cannot take it back, only /login can
    addEntry('error', [`You were logged in as ${account}; /login ${account} again to take it back.`]);
    if (state.wantedNick.toLowerCase() === account.toLowerCase()) state.wantedNick = '';
  }
  // First the capabilities (quietly: '/cap', then '/cap req' what is offered of tags and replay).
  state.restore = { step: 'cap', tries: 0 };
  state.socket.send('/cap');
}

// After the capabilities, and after a reconnect: best effort to be who and where we were.
function restoreNick() {
  state.restore = null;
  const nick = state.nick;
  if (state.wantedNick && state.wantedNick.toLowerCase() !== nick.toLowerCase()) {
    state.restore = { step: 'nick', tries: 0 };
    state.socket.send('/nick ' + state.wantedNick);
  } else {
    restoreRoom();
  }
}

function restoreRoom() {
  state.restore = null;
  if (!state.wantedRoom) return;
  state.restore = { step: 'join', tries: 0 };
  const since = state.lastId && state.lastIdRoom.toLowerCase() === state.wantedRoom.toLowerCase()
    ? ` since=${state.lastId}` : '';
  state.socket.send('/join ' + state.wantedRoom + rejoinKey() + since);
}

function onOk(fields) {
  const [word, a, b] = fields;
  switch (word) {
    case 'NICK':
      state.nick = state.wantedNick = a;
      setStatus('connected', `Connected as ${a}`);
      addNote(`You are now ${a}`);
      if (state.restore && state.restore.step === 'nick') restoreRoom();
      return;
    case 'CAP': return onCap(fields);
    case 'HISTORY': return finishEarlier(a, b);
    case 'CREATE': case 'JOIN':
      state.restore = null;
      enteredRoom(a);
      if (a.toLowerCase() !== state.lastIdRoom.toLowerCase()) state.lastId = 0;
      state.oldestId = 0;
      state.room = state.wantedRoom = a;
      addNote(word === 'CREATE' ? `You created ${a} and are in it` : `You joined ${a} (${b} here)`);
      showRoom();
      refreshMembers();
      refreshRooms();
      return;
    case 'LEAVE':
      leftRoom();
      addNote(`You left ${a} and are back in the lobby`);
      showRoom();
      refreshRooms();
      return;
    case 'ROOMS': return finishRooms();
    case 'WHO': return finishWho(a, b);
    case 'WHOAMI': return addNote(`You are ${a} ${b === '-' ? 'in the lobby' : 'in ' + b}`);
    case 'MSG': case 'HELP': return;
    default: if (!onModerationOk(word, a, b)) addNote(fields.join(' '));
  }
}

function onErr(code, text) {
  const restore = state.restore;
  if (restore && restore.step === 'cap') return restoreNick();  // an older server: no history
  if (restore && restore.step === 'nick' && ['nick-taken', 'bad-name', 'nick-registered'].includes(code)) {
    addEntry('error', [`Could not take back the nick ${state.wantedNick} (${code}); you are ${state.nick}.`]);
    state.wantedNick = '';
    restoreRoom();
    return;
  }
  if (restore && restore.step === 'join' && code === 'no-such-room' && restore.tries < 3) {
    // The server restarted and the room is gone: make it again (someone else may beat us to it).
    restore.step = 'create';
    state.socket.send('/create ' + state.wantedRoom + rejoinKey());
    return;
  }
  if (restore && restore.step === 'create' && code === 'room-exists' && restore.tries < 3) {
    restore.step = 'join';
    restore.tries += 1;
    state.socket.send('/join ' + state.wantedRoom + rejoinKey());
    return;
  }
  if (restore) {
    addEntry('error', [`Could not rejoin ${state.wantedRoom}: ${text} (${code})`]);
    state.restore = null;
    state.wantedRoom = '';
    return;
  }
  showError(moderationError(code, text));
}

function onRoomEvent(kind, [room, nick]) {
  addEntry(kind, [kind === 'join' ? `${nick} joined ${room}` : `${nick} left ${room}`]);
  refreshMembers();
  refreshRooms();
}

function onNickEvent(oldNick, newNick) {
  addEntry('nick', [`${oldNick} is now ${newNick}`]);
  refreshMembers();
}

function onBye(reason) {
  if (reason === 'quit') {
    state.stopped = true;
    addNote('Bye.');
  } else {
    addEntry('error', [`The server closed the connection (${reason})`]);
  }
}

function finishRooms() {
  const request = state.pendingRooms.shift() || { silent: false };
  const rooms = state.roomLines;
  state.roomLines = [];
  renderRooms(rooms);
  if (!request.silent) {
    addNote(rooms.length === 1 ? '1 room' : `${rooms.length} rooms`);
    for (const { name, count } of rooms) addEntry('list', [`  ${name} (${count})`]);
  }
}

function finishWho(room, count) {
  const request = state.pendingWho.shift() || { silent: false };
  const members = state.memberLines;
  state.memberLines = [];
  if (room.toLowerCase() === state.room.toLowerCase()) renderMembers(members);
  if (!request.silent) {
    addNote(`${count} in ${room}`);
    for (const nick of members) addEntry('list', ['  ', nickButton(nick)]);
  }
}

// ---- rendering -----------------------------------------------------------------------------

function renderRooms(rooms) {
  ui.rooms.replaceChildren(...rooms.map(({ name, count }) => {
    const item = document.createElement('li');
    item.dataset.room = name;
    item.dataset.count = count;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = name;
    const badge = document.createElement('span');
    badge.className = 'count';
    badge.textContent = count;
    badge.setAttribute('aria-label', `${count} ${count === '1' ? 'member' : 'members'}`);
    button.append(' ', badge);
    const here = name.toLowerCase() === state.room.toLowerCase();
    if (here) button.setAttribute('aria-current', 'true');
    button.addEventListener('click', () => { if (!here) send('/join ' + name); });
    item.append(button);
    return item;
  }));
  ui.roomsEmpty.hidden = rooms.length > 0;
  ui.roomsSummary.textContent = `Rooms (${rooms.length})`;
}

function renderMembers(members) {
  ui.members.replaceChildren(...members.map((nick) => {
    const item = document.createElement('li');
    item.dataset.nick = nick;
    item.append(nickButton(nick));
    if (nick.toLowerCase() === state.nick.toLowerCase()) item.append(' (you)');
    return item;
  }));
  ui.membersEmpty.hidden = members.length > 0;
  ui.membersSummary.textContent = state.room ? `Members (${members.length})` : 'Members';
}

function showRoom() {
  ui.roomTitle.textContent = state.room || 'Lobby';
  ui.earlier.hidden = !state.room;
  document.title = state.room ? `${state.room} · roomchat` : 'roomchat';
  renderTopic();
  if (!state.room) {
    renderMembers([]);
    ui.membersEmpty.textContent = 'You are in the lobby.';
  }
}

// A nick in its colour; clicking it starts a private message.
function nickButton(nick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'nick';
  button.textContent = nick;
  button.style.color = nickColour(nick);
  button.title = `Send a private message to ${nick}`;
  button.addEventListener('click', () => {
    ui.input.value = `/msg ${nick} `;
    ui.input.focus();
  });
  return button;
}

function addMessage(room, nick, text) {
  addEntry('msg', [nickButton(nick), ': ', text], room);
}

function addPrivate(nick, text, outgoing) {
  const who = outgoing ? ['(private) to ', nickButton(nick)] : ['(private) ', nickButton(nick)];
  addEntry('priv', [...who, ': ', text]);
}

function addNote(text) { addEntry('note', [text]); }

// One log line; parts are strings (set as text) or elements built here. `options.time`: when it
// was said (default now); `options.before`: an entry to put it above (default: at the end).
function addEntry(kind, parts, room, options = {}) {
  const nearBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
  const item = document.createElement('li');
  item.className = `entry ${kind}`;
  item.dataset.kind = kind.split(' ')[0];
  if (room) item.dataset.room = room;
  const time = document.createElement('time');
  const when = options.time && !Number.isNaN(options.time.getTime()) ? options.time : new Date();
  time.dateTime = when.toISOString();
  time.textContent = when.toTimeString().slice(0, 5);
  const body = document.createElement('span');
  body.className = 'text';
  body.append(...parts);
  item.append(time, ' ', body);
  if (options.before && options.before.parentNode === ui.log) {
    ui.log.insertBefore(item, options.before);
  } else {
    ui.log.append(item);
    while (ui.log.childElementCount > MAX_LOG_ENTRIES) ui.log.firstElementChild.remove();
    if (nearBottom) ui.log.scrollTop = ui.log.scrollHeight;
  }
  return item;
}

function showError(text) {
  ui.error.textContent = text;
  addEntry('error', [text]);
}

// Hash -> hue, then darkened until it reads at 4.5:1 on any log background.
function nickColour(nick) {
  let hash = 0;
  for (const char of nick.toLowerCase()) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  const hue = hash % 360;
  for (let lightness = 42; lightness > 0; lightness -= 3) {
    const rgb = hslToRgb(hue, 0.75, lightness / 100);
    if (contrast(rgb, NICK_BACKGROUND) >= 4.5) return `rgb(${rgb.join(', ')})`;
  }
  return 'rgb(0, 0, 0)';
}

function hslToRgb(hue, saturation, lightness) {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const f = (n) => {
    const k = (n + hue / 30) % 12;
    return lightness - chroma / 2 * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return [f(0), f(8), f(4)].map((v) => Math.round(v * 255));
}

function contrast(a, b) {
  const luminance = (rgb) => {
    const [r, g, bl] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// ---- input ---------------------------------------------------------------------------------

// Sends exactly what was typed, like the terminal client: '/...' is a command, '//...' is chat
// that starts with '/' (the server drops one slash), anything else is chat for the room.
// A line holding a password or a key is never kept for Up/Down, nor sent with spaces before it
// (the server would say it to the room as chat).
function submitLine(line) {
  if (line.trim() === '') return;
  const secret = holdsSecret(line);
  if (secret && !line.startsWith('/')) {
    showError('Not sent: a command starts with / (no space before it).');
    return;
  }
  if (!send(line)) return;
  ui.error.textContent = '';
  if (commandWord(line)) noteTypedCommand(line);
  if (!secret) state.history.push(line);
  state.historyIndex = state.history.length;
  state.draft = '';
  const word = commandWord(line);
  if (word === '/msg') {
    const [, nick, text] = splitFields(line, 3);
    if (nick && text) addPrivate(nick, text, true);
  } else if (!word && state.room) {
    addEntry('msg mine', [nickButton(state.nick), ': ', line.startsWith('//') ? line.slice(1) : line],
      state.room);
  }
}

ui.sendForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const line = ui.input.value;
  ui.input.value = '';
  submitLine(line);
});

// Up recalls the lines sent before, Down comes back towards what was being typed.
ui.input.addEventListener('keydown', (event) => {
  if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
  if (state.history.length === 0) return;
  if (state.historyIndex === state.history.length) state.draft = ui.input.value;
  const step = event.key === 'ArrowUp' ? -1 : 1;
  const index = Math.max(0, Math.min(state.history.length, state.historyIndex + step));
  if (index === state.historyIndex) return;
  event.preventDefault();
  state.historyIndex = index;
  ui.input.value = index === state.history.length ? state.draft : state.history[index];
  const end = ui.input.value.length;
  ui.input.setSelectionRange(end, end);
});

ui.nickForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const nick = ui.nickInput.value.trim();
  if (nick && send('/nick ' + nick)) ui.nickInput.value = '';
});

ui.roomForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const room = ui.roomInput.value.trim();
  const verb = event.submitter && event.submitter.value === 'create' ? '/create ' : '/join ';
  if (room && send(verb + room)) ui.roomInput.value = '';
});

ui.reconnect.addEventListener('click', () => { state.attempt = 0; connect(); });
ui.earlier.addEventListener('click', askEarlier);

// Phones: the lists start folded so the messages come first.
if (window.matchMedia('(max-width: 700px)').matches) {
  $('rooms-panel').open = false;
  $('members-panel').open = false;
}

connect();
ui.input.focus();
