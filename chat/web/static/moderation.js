// roomchat web client, accounts and moderation (docs/PROTOCOL.md, "Accounts and moderation";
// docs/WEB.md): the OK replies of /register /login /password /logout /op /deop /kick /ban /unban
// /bans /topic /key, the lines RENAMED OP DEOP KICKED KICK TOPIC BAN, the room's topic by its name,
// and keeping passwords and keys out of sight: a line that holds one is never shown, never kept in
// the Up/Down history, and a room key is kept in memory only, to rejoin after a reconnect. Wording
// follows the terminal client (tools/render.cc). Loaded before app.js, whose state, ui and log
// functions these use when called.
'use strict';

const moderation = {
  account: '',           // the account logged in to, or ''
  topic: null,           // {room, by, text} of the current room, or null
  topicsTyped: [],       // FIFO of {text, shown} per typed /topic, until its OK TOPIC (or ERR)
  banLines: [],          // BAN lines until their OK BANS
  typedKey: null,        // {room, key} of the last typed /join or /create with a key, or /key
  roomKey: '', keyRoom: '',  // the key of the room we are in (and that room), for a rejoin
};

// ---- what is typed ---------------------------------------------------------------------------

// The words of a command line: ['/join', 'room', 'KEY'].
function commandWords(line) {
  return line.trim().split(/[ \t]+/);
}

// Whether a typed line holds a password or a room key (as tools/chat_app.cc HoldsSecret): such a
// line stays out of the Up/Down history, and with spaces before its '/' it is not sent at all
// (the server would take it for chat text and say it to the room).
function holdsSecret(line) {
  const typed = line.trim();
  if (!typed.startsWith('/') || typed.startsWith('//')) return false;
  const [word, ...args] = commandWords(typed);
  switch (word.toLowerCase()) {
    case '/register': case '/login': case '/password': return true;
    case '/key': return args.length > 0 && args[0] !== '-';
    case '/join': case '/create':
      // A room, or a room and since=ID, holds no key; any other word may be one.
      return args.slice(1).some((arg) => !arg.startsWith('since='));
    default: return false;
  }
}

// Called for each line sent as typed: remembers what later answers need (never shown).
function noteTypedCommand(line) {
  const [word, ...args] = commandWords(line);
  switch (word.toLowerCase()) {
    case '/join': case '/create': {
      const key = args.slice(1).find((arg) => !arg.startsWith('since='));
      moderation.typedKey = args[0] ? { room: args[0], key: key || '' } : null;
      return;
    }
    case '/key':
      if (state.room && args[0]) {
        moderation.typedKey = { room: state.room, key: args[0] === '-' ? '' : args[0] };
      }
      return;
    case '/topic':
      moderation.topicsTyped.push({ text: line.trim().replace(/^\/topic[ \t]*/i, ''), shown: false });
      return;
    default:
  }
}

// What a rejoin puts after the room's name: its key, if we know one.
function rejoinKey() {
  const ours = moderation.roomKey && sameName(moderation.keyRoom, state.wantedRoom);
  return ours ? ' ' + moderation.roomKey : '';
}

function sameName(a, b) { return a.toLowerCase() === b.toLowerCase(); }

function setRoomKey(room, key) {
  moderation.roomKey = key;
  moderation.keyRoom = key ? room : '';
}

// ---- the room we are in ------------------------------------------------------------------------

// OK JOIN / OK CREATE of `room`: which key it took, and no topic until its TOPIC line comes.
// (A rejoin after a reconnect keeps the key it used.)
function enteredRoom(room) {
  const typed = moderation.typedKey;
  if (typed && typed.key && sameName(typed.room, room)) setRoomKey(room, typed.key);
  else if (!sameName(moderation.keyRoom, room)) setRoomKey('', '');
  moderation.typedKey = null;
  if (!moderation.topic || !sameName(moderation.topic.room, room)) moderation.topic = null;
}

// OK LEAVE or KICKED: in the lobby, nothing of the room kept.
function leftRoom() {
  setRoomKey('', '');
  moderation.topic = null;
  state.room = state.wantedRoom = '';
}

// The topic under the room's name (textContent only); hidden in the lobby or without one.
function renderTopic() {
  const topic = moderation.topic;
  const shown = topic && state.room && topic.room.toLowerCase() === state.room.toLowerCase();
  ui.topic.hidden = !shown;
  const label = document.createElement('span');
  label.className = 'visually-hidden';
  label.textContent = 'Topic: ';
  ui.topic.replaceChildren(...(shown ? [label, topic.text] : []));
  ui.topic.title = shown ? `Topic set by ${topic.by}` : '';
}

function setTopic(room, by, text) {
  if (state.room && room.toLowerCase() === state.room.toLowerCase()) {
    moderation.topic = text ? { room, by, text } : null;
  }
  renderTopic();
}

// ---- server lines ------------------------------------------------------------------------------

// RENAMED OP DEOP KICKED KICK TOPIC BAN; false for any other tag.
function onModerationLine(tag, rest) {
  const field = (n) => splitFields(rest, n);
  const you = (nick) => (nick.toLowerCase() === state.nick.toLowerCase() ? 'you' : nick);
  switch (tag) {
    case 'RENAMED': {
      const [oldNick, newNick, reason] = field(3);
      state.nick = newNick;
      state.wantedNick = '';  // a guest nick: a reconnect gets a new one, no need to take it back
      moderation.account = '';
      setStatus('connected', `Connected as ${newNick}`);
      addEntry('error renamed', [`You lost the nick ${oldNick} (${reason}); you are ${newNick} now`]);
      refreshMembers();
      return true;
    }
    case 'OP': {
      const [room, nick, by] = field(3);
      addEntry('op', [`${by} made ${you(nick)} an operator of ${room}`]);
      return true;
    }
    case 'DEOP': {
      const [room, nick, by] = field(3);
      addEntry('op', [`${by} took operator away from ${you(nick)} in ${room}`]);
      return true;
    }
    case 'KICKED': {
      const [room, by, reason] = field(3);
      leftRoom();
      addEntry('error kicked', [`You were kicked from ${room} by ${by}: ${reason}; you are in the lobby`]);
      showRoom();
      refreshRooms();
      return true;
    }
    case 'KICK': {
      const [room, nick, by, reason] = field(4);
      addEntry('kick', [`${nick} was kicked from ${room} by ${by}: ${reason}`]);
      refreshMembers();
      refreshRooms();
      return true;
    }
    case 'TOPIC': {
      const [room, by, text] = field(3);
      const typed = moderation.topicsTyped[0];
      if (typed && typed.text === '') typed.shown = true;  // the answer to a typed /topic
      setTopic(room, by, text);
      addEntry('topic', text ? [`Topic of ${room} (set by ${by}): ${text}`]
        : [`${by} cleared the topic of ${room}`]);
      return true;
    }
    case 'BAN': {
      const [room, kind, value, by] = field(4);
      moderation.banLines.push({ room, kind, value, by });
      return true;
    }
    default: return false;
  }
}

// "1 ban", "2 bans".
function counted(count, one, many) {
  return `${count} ${count === '1' ? one : many}`;
}

// The OK replies of accounts and moderation; false for any other.
function onModerationOk(word, a, b) {
  switch (word) {
    case 'REGISTER': case 'LOGIN':
      state.nick = state.wantedNick = moderation.account = a;
      setStatus('connected', `Connected as ${a} (logged in)`);
      addNote(word === 'REGISTER' ? `Registered ${a}; you are logged in to it` : `Logged in as ${a}`);
      refreshMembers();
      return true;
    case 'PASSWORD': addNote('Password changed'); return true;
    case 'LOGOUT':
      moderation.account = '';
      setStatus('connected', `Connected as ${a}`);
      addNote(`Logged out; you keep the nick ${a} as a guest until someone logs in to it`);
      return true;
    case 'OP': addNote(`You made ${a} an operator`); return true;
    case 'DEOP': addNote(`${a} is no longer an operator`); return true;
    case 'KICK': addNote(`You kicked ${a}`); return true;
    case 'BAN': addNote(`You banned ${a}`); return true;
    case 'UNBAN': addNote(`Removed ${counted(b, 'ban', 'bans')} on ${a}`); return true;
    case 'BANS': {
      const bans = moderation.banLines;
      moderation.banLines = [];
      addNote(`${counted(b, 'ban', 'bans')} in ${a}`);
      for (const ban of bans) addEntry('list', [`  ${ban.kind} ${ban.value} (banned by ${ban.by})`]);
      return true;
    }
    case 'TOPIC': topicDone(a); return true;
    case 'KEY': {
      const removed = b === '-';
      if (state.room && sameName(a, state.room)) {
        const typed = moderation.typedKey;
        setRoomKey(a, !removed && typed && sameName(typed.room, a) ? typed.key : '');
        moderation.typedKey = null;
      }
      addNote(removed ? `${a} needs no key any more` : `Key set for ${a}`);
      return true;
    }
    default: return false;
  }
}

// OK TOPIC answers the oldest typed /topic: says what it did.
function topicDone(room) {
  const typed = moderation.topicsTyped.shift();
  if (!typed) return addNote(`Topic of ${room}: done`);
  if (typed.text === '') {
    if (!typed.shown) addNote(`${room} has no topic`);
  } else if (typed.text === '-') {
    setTopic(room, state.nick, '');
    addNote(`You cleared the topic of ${room}`);
  } else {
    setTopic(room, state.nick, typed.text);
    addNote(`You set the topic of ${room}: ${typed.text}`);
  }
}

// An error: a typed /topic's refusal takes it off the queue (if several wait, maybe another
// command's error: then less is said). ERR insecure says how to send a password safely. Returns
// the text to show.
function moderationError(code, text) {
  if (moderation.topicsTyped.length > 0 &&
      (code === 'not-op' || code === 'not-in-room' || code === 'bad-args')) {
    moderation.topicsTyped.shift();
  }
  if (code === 'insecure') {
    return `${text} (insecure). This page talks to the server unencrypted (ws://), so it sends ` +
      'no password: open the page over https:// to register or log in.';
  }
  return `${text} (${code})`;
}

// A new connection: nothing is pending, and we are logged in to nothing. Returns the account we
// were logged in to, if any (its nick cannot be taken back without the password).
function moderationReset() {
  moderation.topicsTyped = [];
  moderation.banLines = [];
  const account = moderation.account;
  moderation.account = '';
  return account;
}
