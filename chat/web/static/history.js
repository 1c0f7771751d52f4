// roomchat web client, history (docs/PROTOCOL.md, "Capabilities and history"; docs/WEB.md): the
// line tags, the capabilities asked for after WELCOME, lines said before shown dimmed with their
// time, Earlier lines, and the ids a reconnect rejoins with (since=). Loaded before app.js, whose
// state, ui and log functions these use when called.
'use strict';

// "@id=1;time=...;history MSG ..." -> {id, time, history} and the line without its tags.
function takeTags(line) {
  const tags = { id: 0, time: '', history: false };
  if (!line.startsWith('@')) return [tags, line];
  const space = line.indexOf(' ');
  if (space < 0) return [tags, line];
  for (const item of line.slice(1, space).split(';')) {
    const [key, value = ''] = item.split('=', 2);
    if (key === 'id') tags.id = Number(value) || 0;
    else if (key === 'time') tags.time = value;
    else if (key === 'history') tags.history = true;
  }
  return [tags, line.slice(space + 1)];
}

function onMessage(room, nick, text, tags) {
  if (tags.id) {
    if (room.toLowerCase() === state.room.toLowerCase()) {
      if (tags.id > state.lastId) state.lastId = tags.id;
      state.lastIdRoom = room;
      if (!state.oldestId || tags.id < state.oldestId) state.oldestId = tags.id;
    }
    if (tags.history && tags.id <= state.seenUpTo) return;  // shown before the reconnect
  }
  if (tags.history) return addHistory(room, nick, text, tags.time);
  addMessage(room, nick, text);
}

function onCap(fields) {
  if (!state.restore || state.restore.step !== 'cap') return addNote('OK ' + fields.join(' '));
  if (fields[1] === 'REQ') return restoreNick();
  const wanted = fields.slice(1).filter((name) => name === 'tags' || name === 'replay');
  if (wanted.length === 0) return restoreNick();
  state.socket.send('/cap req ' + wanted.join(' '));
}

// A line said before: dimmed, with the time it was said. Lines asked for with Earlier lines go
// above what is shown, in their order.
function addHistory(room, nick, text, time) {
  const when = time ? new Date(time) : new Date();
  const parts = [nickButton(nick), ': ', text];
  if (state.earlier) {
    const item = addEntry('msg history', parts, room, { time: when, before: state.earlier.anchor });
    state.earlier.count += 1;
    return item;
  }
  return addEntry('msg history', parts, room, { time: when });
}

// The Earlier lines button: the lines before the oldest shown, put above it.
function askEarlier() {
  if (!state.room || !state.socket || state.socket.readyState !== WebSocket.OPEN) return;
  state.earlier = { anchor: ui.log.firstElementChild, count: 0 };
  state.socket.send(state.oldestId ? `/history 50 before=${state.oldestId}` : '/history 50');
}

function finishEarlier(room, count) {
  const asked = state.earlier;
  state.earlier = null;
  const n = Number(count);
  const text = n === 0 ? `No earlier lines in ${room}.` : `${n} earlier ${n === 1 ? 'line' : 'lines'} of ${room}`;
  if (asked && asked.anchor) addEntry('note', [text], undefined, { before: asked.anchor });
  else addNote(text);
}
