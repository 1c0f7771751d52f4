// Helpers of the history end-to-end tests (history_test.cc, history_durability_test.cc): reading
// the tags of chat lines (capability "tags", docs/PROTOCOL.md "Capabilities and history") as the
// wire spells them, saying many lines through a reader that keeps up, and collecting the answers of
// /history, page by page.
//
// The tags are parsed here, not with the server's own parser (//chat/protocol:server_event): these
// tests check the bytes the protocol documents, so they must not share a bug with the server.
//
// Thread contract: functions of one TestClient, for the thread that uses it.
#ifndef ROOMCHAT_TESTS_HISTORY_LINES_H_
#define ROOMCHAT_TESTS_HISTORY_LINES_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tests/test_client.h"

namespace roomchat {

// A line received with tags: "@id=<id>;time=<time>[;history] <line>".
struct TaggedLine {
  uint64_t id = 0;
  std::string time;
  bool history = false;
  std::string line;  // what follows the tags, e.g. "MSG Lounge alice hello"
};

// The tags and the rest of `line`; nullopt unless it has exactly the documented tags, in order.
std::optional<TaggedLine> ParseTagged(absl::string_view line);

// True for an RFC 3339 UTC time with milliseconds, "YYYY-MM-DDTHH:MM:SS.mmmZ", that is a real time.
bool IsUtcMillisTime(absl::string_view time);

// `count` texts "<prefix><i>", i from 0.
std::vector<std::string> Numbered(absl::string_view prefix, int count);

// A chat line of about 1000 bytes that starts with `index`: 600 of them no longer fit in a room's
// memory (128 KiB), so reading them back needs the store.
std::string LongText(int index);

// The id of an "ACK <room> <id>" line; 0 for any other line.
uint64_t AckedId(absl::string_view line, absl::string_view room);

// Reads `texts.size()` lines from `client` (with tags): each tagged with a valid time, history as
// `history` says, saying "MSG <room> <nick> <text>" in order, ids increasing; returns their ids.
// Fails the test (and returns early) on anything else.
std::vector<uint64_t> ReadTagged(TestClient& client, absl::string_view room,
                                 absl::string_view nick, const std::vector<std::string>& texts,
                                 bool history);

// Each of `members` leaves `room`, in turn; the LEAVE events of the others that come before its
// OK are skipped. Fails the test on anything else.
void EveryoneLeaves(absl::string_view room, std::initializer_list<TestClient*> members);

// "/cap req <caps>"; fails the test unless the answer is "OK CAP REQ <caps>".
void RequestCaps(TestClient& client, absl::string_view caps);

// `sender` (nick `nick`, in `room`) says each of `texts`, 32 lines per write; each write's lines
// are read by `reader` (with tags) before the next is sent, as a client that keeps up reads them.
// Returns the ids the reader saw, in order; fails the test (and returns early) on any other line.
std::vector<uint64_t> SayThrough(TestClient& sender, TestClient& reader, absl::string_view room,
                                 absl::string_view nick, const std::vector<std::string>& texts);

// The answer to one /history command: the lines before its last line, and that last line
// ("OK HISTORY <room> <count>", an ERR line, or "<...>" when none came).
struct HistoryAnswer {
  std::vector<std::string> lines;
  std::string end;
};
HistoryAnswer AskHistory(TestClient& client, absl::string_view command);

// Every line /history gives in `room`, oldest first, read from the newest back with
// "/history 500 before=<first id of the previous page>" until a page is empty (at most
// `max_pages` pages). `client` must have tags. Fails the test when a page is not in order, not
// tagged history, below the previous one, or does not end in "OK HISTORY <room> <its count>".
std::vector<TaggedLine> PageBackToTheStart(TestClient& client, absl::string_view room,
                                           int max_pages);

}  // namespace roomchat

#endif  // ROOMCHAT_TESTS_HISTORY_LINES_H_
