// End-to-end tests of history (docs/PROTOCOL.md "Capabilities and history", docs/HISTORY.md)
// against the in-process server on an ephemeral port, each server with a fresh data dir: v1
// clients see nothing new, /cap, tags and ACKs, replay on join and on create, replay meeting live
// lines from concurrent senders, /history and its paging, and private messages kept out of it.
// Reconnects, retention, restarts, kill -9 and a slow disk are in history_durability_test.cc.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/history_lines.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

class HistoryTest : public ServerFixture {
 protected:
  // alice creates `room` and bob joins it; alice has read the JOIN.
  void MeetIn(absl::string_view room, TestClient& alice, TestClient& bob) {
    ASSERT_EQ(alice.Ask(absl::StrCat("/create ", room)), absl::StrCat("OK CREATE ", room));
    ASSERT_EQ(bob.Ask(absl::StrCat("/join ", room)), absl::StrCat("OK JOIN ", room, " 2"));
    ASSERT_EQ(alice.Next(), absl::StrCat("JOIN ", room, " bob"));
  }

  // A server without flood control; alice and bob (tags) in "Lounge", where alice has said
  // `count` lines of about 1000 bytes (said_), which bob saw with the ids ids_.
  void StartWithLongLines(int count) {
    ServerOptions options;
    options.flood_lines_per_s = 0;
    StartServer(options);
    alice_ = Login("alice");
    bob_ = Login("bob");
    ASSERT_NE(bob_, nullptr);
    RequestCaps(*bob_, "tags");
    MeetIn("Lounge", *alice_, *bob_);
    for (int i = 0; i < count; ++i) said_.push_back(LongText(i));
    ids_ = SayThrough(*alice_, *bob_, "Lounge", "alice", said_);
    ASSERT_EQ(ids_.size(), said_.size());
  }

  std::unique_ptr<TestClient> alice_;
  std::unique_ptr<TestClient> bob_;
  std::vector<std::string> said_;
  std::vector<uint64_t> ids_;
};

// ---- 1. A client that asks for nothing sees protocol v1.

TEST_F(HistoryTest, ClientsThatAskForNothingSeeProtocolV1) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  ASSERT_NE(carol, nullptr);
  MeetIn("Lounge", *alice, *bob);
  ASSERT_TRUE(alice->SendRaw("one\ntwo\n").ok());
  EXPECT_EQ(bob->Next(), "MSG Lounge alice one");
  EXPECT_EQ(bob->Next(), "MSG Lounge alice two");
  EXPECT_EQ(Pending(*alice), Lines{}) << "no ACK, no echo";

  // The room has history now; a join without replay gets none of it.
  EXPECT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_EQ(Pending(*carol), Lines{});
  ASSERT_TRUE(carol->Send("three").ok());
  EXPECT_EQ(alice->Next(), "JOIN Lounge carol");
  EXPECT_EQ(alice->Next(), "MSG Lounge carol three");
  EXPECT_EQ(bob->Next(), "JOIN Lounge carol");
  EXPECT_EQ(bob->Next(), "MSG Lounge carol three");
  EXPECT_EQ(Pending(*carol), Lines{});

  // Closed and created again: the room loads its history, and the creator is shown none of it.
  EveryoneLeaves("Lounge", {alice.get(), bob.get(), carol.get()});
  EXPECT_EQ(carol->Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(Pending(*carol), Lines{});
  EXPECT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  ASSERT_TRUE(bob->Send("four").ok());
  EXPECT_EQ(carol->Next(), "JOIN Lounge bob");
  EXPECT_EQ(carol->Next(), "MSG Lounge bob four");
  EXPECT_EQ(Pending(*bob), Lines{});
  // The room's load waited for the commit of alice's lines: an ACK would have come by now.
  EXPECT_EQ(Pending(*alice), Lines{}) << "no ACK without ack";
}

// ---- 2. /cap lists what the server offers and turns on all of a request or none of it.

TEST_F(HistoryTest, CapListsTheCapabilitiesAndARequestWithAnUnknownNameTurnsOnNothing) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(alice->Ask("/cap"), "OK CAP ack replay tags");
  EXPECT_EQ(alice->Ask("/CAP REQ tags bogus"),
            "ERR bad-args no capability bogus on this server; /cap lists them");
  EXPECT_EQ(bob->Ask("/cap req ack nope"),
            "ERR bad-args no capability nope on this server; /cap lists them");
  MeetIn("Lounge", *alice, *bob);
  EXPECT_EQ(bob->Ask("/cap"), "OK CAP ack replay tags") << "in a room too";
  ASSERT_TRUE(bob->Send("untagged").ok());
  EXPECT_EQ(alice->Next(), "MSG Lounge bob untagged") << "tags was not turned on";
  EXPECT_EQ(Pending(*bob), Lines{}) << "ack was not turned on";

  EXPECT_EQ(alice->Ask("/cap req tags"), "OK CAP REQ tags");
  ASSERT_TRUE(bob->Send("tagged").ok());
  std::string line = alice->Next();
  std::optional<TaggedLine> tagged = ParseTagged(line);
  ASSERT_TRUE(tagged.has_value()) << line;
  EXPECT_EQ(tagged->line, "MSG Lounge bob tagged");
  EXPECT_FALSE(tagged->history);
}

TEST_F(HistoryTest, WithHistoryOffOnlyTagsIsOfferedAndHistoryIsUnavailable) {
  ServerOptions options;
  options.history = false;
  StartServer(options);
  ASSERT_EQ(server_->TEST_history(), nullptr);
  auto alice = Login("alice");
  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(alice->Ask("/cap"), "OK CAP tags");
  EXPECT_EQ(alice->Ask("/cap req ack"),
            "ERR bad-args no capability ack on this server; /cap lists them");
  EXPECT_EQ(alice->Ask("/cap req tags replay"),
            "ERR bad-args no capability replay on this server; /cap lists them");
  EXPECT_EQ(bob->Ask("/cap req tags"), "OK CAP REQ tags");
  MeetIn("Lounge", *alice, *bob);
  EXPECT_EQ(alice->Ask("/history"), "ERR unavailable history is off on this server");
  auto carol = Login("carol");
  ASSERT_NE(carol, nullptr);
  EXPECT_EQ(carol->Ask("/join Lounge since=1"), "OK JOIN Lounge 3");
  EXPECT_EQ(Pending(*carol), Lines{}) << "nothing to catch up on";
  EXPECT_EQ(alice->Next(), "JOIN Lounge carol");
  EXPECT_EQ(bob->Next(), "JOIN Lounge carol");

  ASSERT_TRUE(alice->SendRaw("first\nsecond\n").ok());
  std::optional<TaggedLine> first = ParseTagged(bob->Next());
  std::optional<TaggedLine> second = ParseTagged(bob->Next());
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->line, "MSG Lounge alice first");
  EXPECT_EQ(second->line, "MSG Lounge alice second");
  EXPECT_LT(first->id, second->id);
  EXPECT_EQ(carol->Next(), "MSG Lounge alice first") << "live lines, not held for a catch-up";
  EXPECT_EQ(carol->Next(), "MSG Lounge alice second");
  EXPECT_EQ(Pending(*alice), Lines{}) << "no ACK without a store";
}

// ---- 3. tags and ack agree: each ACK names the id the others see.

TEST_F(HistoryTest, AckIdsAreTheTaggedIdsTheOthersSeeInOrder) {
  constexpr int kLines = 100;
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  RequestCaps(*alice, "ack");
  RequestCaps(*bob, "tags");
  MeetIn("Lounge", *alice, *bob);
  std::string bytes;
  for (int i = 0; i < kLines; ++i) absl::StrAppend(&bytes, "line ", i, "\n");
  ASSERT_TRUE(alice->SendRaw(bytes).ok());

  std::vector<uint64_t> seen;
  for (int i = 0; i < kLines; ++i) {
    std::string line = bob->Next();
    std::optional<TaggedLine> tagged = ParseTagged(line);
    ASSERT_TRUE(tagged.has_value()) << line;
    EXPECT_EQ(tagged->line, absl::StrCat("MSG Lounge alice line ", i));
    EXPECT_FALSE(tagged->history) << line;
    EXPECT_TRUE(IsUtcMillisTime(tagged->time)) << line;
    if (!seen.empty()) {
      EXPECT_GT(tagged->id, seen.back()) << line;
    }
    seen.push_back(tagged->id);
  }
  std::vector<uint64_t> acked;
  for (int i = 0; i < kLines; ++i) acked.push_back(AckedId(alice->Next(), "Lounge"));
  EXPECT_EQ(acked, seen);
  EXPECT_EQ(Pending(*alice), Lines{}) << "one ACK per line, no echo";

  // bob did not ask for ack: his lines are not acknowledged; alice did not ask for tags.
  ASSERT_TRUE(bob->Send("no ack for me").ok());
  EXPECT_EQ(alice->Next(), "MSG Lounge bob no ack for me");
  EXPECT_EQ(Pending(*bob), Lines{});
}

// ---- 4. Replay on join, and on create after the room closed.

TEST_F(HistoryTest, ReplayOnJoinAndOnCreateAfterTheRoomClosed) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  ASSERT_NE(carol, nullptr);
  RequestCaps(*bob, "tags");
  MeetIn("Lounge", *alice, *bob);
  std::vector<std::string> said = Numbered("line ", 30);
  std::vector<uint64_t> ids = SayThrough(*alice, *bob, "Lounge", "alice", said);
  ASSERT_EQ(ids.size(), 30u);

  RequestCaps(*carol, "replay tags");
  EXPECT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 3");
  std::vector<std::string> last20(said.begin() + 10, said.end());
  EXPECT_EQ(ReadTagged(*carol, "Lounge", "alice", last20, /*history=*/true),
            std::vector<uint64_t>(ids.begin() + 10, ids.end()));
  ASSERT_EQ(alice->Next(), "JOIN Lounge carol");
  ASSERT_TRUE(alice->Send("live").ok());
  std::optional<TaggedLine> live = ParseTagged(carol->Next());
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->line, "MSG Lounge alice live");
  EXPECT_FALSE(live->history);
  EXPECT_GT(live->id, ids.back());
  ids.push_back(live->id);
  EXPECT_EQ(Pending(*carol), Lines{});
  EXPECT_EQ(bob->Next(), "JOIN Lounge carol");
  std::optional<TaggedLine> bob_live = ParseTagged(bob->Next());
  EXPECT_TRUE(bob_live && bob_live->id == live->id && !bob_live->history);

  // Everyone leaves: the room closes. carol creates it again and is shown its last 20 lines.
  EveryoneLeaves("Lounge", {alice.get(), bob.get(), carol.get()});
  EXPECT_EQ(alice->Ask("/rooms"), "OK ROOMS 0");
  EXPECT_EQ(carol->Ask("/create lounge"), "OK CREATE lounge");
  std::vector<std::string> newest(last20.begin() + 1, last20.end());
  newest.push_back("live");
  EXPECT_EQ(ReadTagged(*carol, "lounge", "alice", newest, /*history=*/true),
            std::vector<uint64_t>(ids.begin() + 11, ids.end()))
      << "the same lines, under the room's new display name";
  EXPECT_EQ(Pending(*carol), Lines{});
  EXPECT_EQ(bob->Ask("/join lounge"), "OK JOIN lounge 2");
  ASSERT_TRUE(carol->Send("again").ok());
  std::optional<TaggedLine> again = ParseTagged(bob->Next());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->line, "MSG lounge carol again");
  EXPECT_GT(again->id, *std::max_element(ids.begin(), ids.end()))
      << "ids go on above every id the room gave before it closed";
}

// ---- 5. Replay meets live lines from concurrent senders: nothing missing, nothing twice.

constexpr int kSenders = 3;
constexpr int kLinesPerSender = 300;

// The points at which the senders wait: half-way until the newcomer's /join is sent (so that
// their next lines race with it), and at three quarters until it is answered (so that every
// sender has live lines after it).
struct JoinSteps {
  absl::Notification sent;
  absl::Notification answered;
};

// Sender `index` says "s<index> <i>" for i below kLinesPerSender, one write each, waiting at the
// `steps`.
void SendNumbered(TestClient& sender, int index, JoinSteps& steps) {
  for (int i = 0; i < kLinesPerSender; ++i) {
    if (i == kLinesPerSender / 2) steps.sent.WaitForNotification();
    if (i == kLinesPerSender * 3 / 4) steps.answered.WaitForNotification();
    if (!sender.Send(absl::StrCat("s", index, " ", i)).ok()) {
      ADD_FAILURE() << "sender " << index << " cannot send line " << i;
      return;
    }
  }
}

// The next `count` chat lines `reader` (with tags) receives, skipping JOIN events; fails the test
// on anything else.
std::vector<TaggedLine> ReadChat(TestClient& reader, int count) {
  std::vector<TaggedLine> lines;
  for (int read = 0; static_cast<int>(lines.size()) < count && read < count + 8; ++read) {
    std::string line = reader.Next();
    if (absl::StartsWith(line, "JOIN ")) continue;
    std::optional<TaggedLine> tagged = ParseTagged(line);
    if (!tagged) {
      ADD_FAILURE() << "after " << lines.size() << " chat lines: " << line;
      return lines;
    }
    lines.push_back(*std::move(tagged));
  }
  return lines;
}

// Per sender, the numbers of its lines among `lines`, in the order received.
std::map<std::string, std::vector<int>> NumbersBySender(const std::vector<TaggedLine>& lines) {
  std::map<std::string, std::vector<int>> numbers;
  for (const TaggedLine& line : lines) {
    // "MSG busy s<k> s<k> <i>"
    std::vector<std::string> words = absl::StrSplit(line.line, ' ');
    int number = -1;
    if (words.size() != 5 || words[2] != words[3] || !absl::SimpleAtoi(words[4], &number)) {
      ADD_FAILURE() << "not a numbered line: " << line.line;
      continue;
    }
    numbers[words[2]].push_back(number);
  }
  return numbers;
}

// Of every sender, `lines` hold a run of its numbers without a gap or a repeat, up to its last.
void ExpectEverySenderContiguousToItsLastLine(const std::vector<TaggedLine>& lines) {
  std::map<std::string, std::vector<int>> by_sender = NumbersBySender(lines);
  EXPECT_EQ(by_sender.size(), static_cast<size_t>(kSenders));
  for (const auto& [sender, numbers] : by_sender) {
    SCOPED_TRACE(sender);
    EXPECT_EQ(numbers.back(), kLinesPerSender - 1) << "up to its last line";
    for (size_t i = 1; i < numbers.size(); ++i) ASSERT_EQ(numbers[i], numbers[i - 1] + 1);
  }
}

TEST_F(HistoryTest, ReplayThenLiveWithConcurrentSendersMissesAndRepeatsNothing) {
  ServerOptions options;
  options.flood_lines_per_s = 0;
  StartServer(options);
  std::vector<std::unique_ptr<TestClient>> senders;
  for (int k = 0; k < kSenders; ++k) senders.push_back(Login(absl::StrCat("s", k)));
  auto watcher = Login("watcher");
  auto newcomer = Login("newcomer");
  ASSERT_NE(newcomer, nullptr);
  ASSERT_EQ(senders[0]->Ask("/create busy"), "OK CREATE busy");
  for (int k = 1; k < kSenders; ++k) {
    ASSERT_EQ(senders[k]->Ask("/join busy"), absl::StrCat("OK JOIN busy ", k + 1));
  }
  RequestCaps(*watcher, "tags");
  ASSERT_EQ(watcher->Ask("/join busy"), absl::StrCat("OK JOIN busy ", kSenders + 1));
  RequestCaps(*newcomer, "replay tags");

  JoinSteps steps;
  std::vector<std::thread> threads;
  for (int k = 0; k < kSenders; ++k) {
    threads.emplace_back([&, k] { SendNumbered(*senders[k], k, steps); });
  }
  // Well past the 20 lines a join replays, the newcomer joins while the senders go on.
  std::vector<TaggedLine> watched = ReadChat(*watcher, 100);
  ASSERT_TRUE(newcomer->Send("/join busy").ok());
  steps.sent.Notify();
  EXPECT_EQ(newcomer->Next(), absl::StrCat("OK JOIN busy ", kSenders + 2));
  steps.answered.Notify();
  std::vector<TaggedLine> rest = ReadChat(*watcher, kSenders * kLinesPerSender - 100);
  watched.insert(watched.end(), rest.begin(), rest.end());
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(watched.size(), static_cast<size_t>(kSenders * kLinesPerSender));

  // The newcomer gets every line from its first one on, as the watcher saw them.
  std::vector<TaggedLine> got = ReadChat(*newcomer, 1);
  ASSERT_EQ(got.size(), 1u);
  auto first = std::find_if(watched.begin(), watched.end(),
                            [&](const TaggedLine& line) { return line.id == got[0].id; });
  ASSERT_NE(first, watched.end()) << "the first replayed id was never said: " << got[0].line;
  const size_t expected = watched.end() - first;
  ASSERT_GT(expected, 20u);
  std::vector<TaggedLine> more = ReadChat(*newcomer, static_cast<int>(expected) - 1);
  got.insert(got.end(), more.begin(), more.end());
  ASSERT_EQ(got.size(), expected);
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("line ", i, " of the newcomer's: ", got[i].line));
    EXPECT_EQ(got[i].history, i < 20) << "20 replayed lines, then live ones";
    EXPECT_EQ(got[i].id, first[i].id);
    EXPECT_EQ(got[i].line, first[i].line);
    if (i > 0) {
      EXPECT_GT(got[i].id, got[i - 1].id);
    }
  }
  ExpectEverySenderContiguousToItsLastLine(got);
  EXPECT_EQ(Pending(*newcomer), Lines{});
}

// ---- 7. /history: counts, before=, the byte budget, and paging back beyond memory.

// The ids of `answer`'s lines, which must be tagged history and say `texts` (from `alice`) in order.
std::vector<uint64_t> IdsOf(const HistoryAnswer& answer, absl::string_view room,
                            const std::vector<std::string>& texts) {
  std::vector<uint64_t> ids;
  EXPECT_EQ(answer.lines.size(), texts.size()) << answer.end;
  for (size_t i = 0; i < answer.lines.size() && i < texts.size(); ++i) {
    std::optional<TaggedLine> tagged = ParseTagged(answer.lines[i]);
    EXPECT_TRUE(tagged && tagged->history &&
                tagged->line == absl::StrCat("MSG ", room, " alice ", texts[i]))
        << "expected " << texts[i].substr(0, 20) << ", got " << answer.lines[i].substr(0, 80);
    ids.push_back(tagged ? tagged->id : 0);
  }
  return ids;
}

TEST_F(HistoryTest, HistoryCountsDefaultsBeforeAndTheLobby) {
  ServerOptions options;
  options.flood_lines_per_s = 0;
  StartServer(options);
  auto alice = Login("alice");
  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_TRUE(absl::StartsWith(alice->Ask("/history"), "ERR not-in-room ")) << "in the lobby";
  RequestCaps(*bob, "tags");
  MeetIn("Lounge", *alice, *bob);
  EXPECT_EQ(bob->Ask("/history"), "OK HISTORY Lounge 0") << "nothing said yet";
  std::vector<std::string> said = Numbered("line ", 520);
  std::vector<uint64_t> ids = SayThrough(*alice, *bob, "Lounge", "alice", said);
  ASSERT_EQ(ids.size(), said.size());
  auto last = [&](size_t count, size_t end) {
    return std::vector<std::string>(said.begin() + (end - count), said.begin() + end);
  };
  auto last_ids = [&](size_t count, size_t end) {
    return std::vector<uint64_t>(ids.begin() + (end - count), ids.begin() + end);
  };

  HistoryAnswer answer = AskHistory(*bob, "/history");
  EXPECT_EQ(answer.end, "OK HISTORY Lounge 50");
  EXPECT_EQ(IdsOf(answer, "Lounge", last(50, 520)), last_ids(50, 520)) << "default 50";
  answer = AskHistory(*bob, "/history 5");
  EXPECT_EQ(answer.end, "OK HISTORY Lounge 5");
  EXPECT_EQ(IdsOf(answer, "Lounge", last(5, 520)), last_ids(5, 520));
  answer = AskHistory(*bob, "/history 999");
  EXPECT_EQ(answer.end, "OK HISTORY Lounge 500") << "at most 500";
  EXPECT_EQ(IdsOf(answer, "Lounge", last(500, 520)), last_ids(500, 520));
  answer = AskHistory(*bob, absl::StrCat("/history 3 before=", ids[100]));
  EXPECT_EQ(answer.end, "OK HISTORY Lounge 3");
  EXPECT_EQ(IdsOf(answer, "Lounge", last(3, 100)), last_ids(3, 100));
  answer = AskHistory(*bob, absl::StrCat("/history before=", ids[0]));
  EXPECT_EQ(answer.end, "OK HISTORY Lounge 0") << "nothing before the first line";
  EXPECT_TRUE(answer.lines.empty());

  // Without tags, plain MSG lines.
  answer = AskHistory(*alice, "/history 2");
  EXPECT_EQ(answer.lines, (Lines{"MSG Lounge alice line 518", "MSG Lounge alice line 519"}));
  EXPECT_EQ(answer.end, "OK HISTORY Lounge 2");
  for (const char* bad : {"/history 0", "/history -3", "/history before=x", "/history 5 6"}) {
    EXPECT_TRUE(absl::StartsWith(bob->Ask(bad), "ERR bad-args ")) << bad;
  }
  EXPECT_EQ(Pending(*bob), Lines{});
  EXPECT_EQ(Pending(*alice), Lines{});
}

TEST_F(HistoryTest, HistoryPagesBackFromTheNewestToTheFirstLineBeyondMemory) {
  constexpr size_t kBudget = 131072;  // 128 KiB of lines per answer at the default outbuf cap
  ASSERT_NO_FATAL_FAILURE(StartWithLongLines(600));  // about 600 KB: most only in the store

  // 500 lines are asked for; the newest that fit in the budget come.
  HistoryAnswer newest = AskHistory(*bob_, "/history 500");
  size_t count = newest.lines.size();
  ASSERT_GT(count, 100u);
  ASSERT_LT(count, 500u);
  EXPECT_EQ(newest.end, absl::StrCat("OK HISTORY Lounge ", count));
  EXPECT_EQ(IdsOf(newest, "Lounge", std::vector<std::string>(said_.end() - count, said_.end())),
            std::vector<uint64_t>(ids_.end() - count, ids_.end()));
  size_t bytes = 0;
  for (const std::string& line : newest.lines) bytes += line.size() + 1;
  EXPECT_LE(bytes, kBudget);
  EXPECT_GT(bytes + newest.lines.front().size() + 1, kBudget) << "one more line would fit";

  std::vector<TaggedLine> all = PageBackToTheStart(*bob_, "Lounge", /*max_pages=*/50);
  ASSERT_EQ(all.size(), said_.size());
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].id, ids_[i]) << "line " << i;
    ASSERT_EQ(all[i].line, absl::StrCat("MSG Lounge alice ", said_[i])) << "line " << i;
    ASSERT_TRUE(IsUtcMillisTime(all[i].time)) << all[i].time;
  }
  EXPECT_EQ(Pending(*bob_), Lines{});
}

// A /history the store answers (what memory no longer holds) is answered in turn, before the
// replies to the commands after it, like every other command.
TEST_F(HistoryTest, HistoryFromTheStoreComesBeforeTheRepliesToLaterCommands) {
  ASSERT_NO_FATAL_FAILURE(StartWithLongLines(300));  // memory holds the newest 128 KiB
  ASSERT_TRUE(bob_->SendRaw(absl::StrCat("/history 3 before=", ids_[5], "\n/ping next\n")).ok());
  absl::StatusOr<Lines> before = bob_->ReadUntil("PONG next");
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->size(), 4u) << "the PONG of the next command overtook the /history answer";
  EXPECT_EQ((*before)[3], "OK HISTORY Lounge 3");
}

}  // namespace
}  // namespace roomchat
