// End-to-end tests: the real server, started in this process on an ephemeral port, driven by real
// TCP clients. Every command, reply and error of protocol v1 (docs/PROTOCOL.md), fan-out, moves
// between rooms, room lifetime, private messages, limits, slow readers and many clients at once.
#include "chat/server.h"

#include <sys/resource.h>

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
#include "gtest/gtest.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

class ServerTest : public ServerFixture {
 protected:
  void SetUp() override { StartServer(); }

  // Lines received before a round trip: what arrived unasked.
};

TEST_F(ServerTest, WelcomesWithAGuestNickInTheLobby) {
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok());
  std::string welcome = (*client)->Next();
  ASSERT_TRUE(absl::StartsWith(welcome, "WELCOME guest")) << welcome;
  std::vector<std::string> words = absl::StrSplit(welcome, ' ');
  std::string nick = words[1];
  (*client)->Send("/whoami").IgnoreError();
  EXPECT_EQ((*client)->Next(), absl::StrCat("OK WHOAMI ", nick, " -"));
}

TEST_F(ServerTest, PingHelpAndQuit) {
  auto client = Login();
  EXPECT_EQ(client->Ask("/ping"), "PONG");
  EXPECT_EQ(client->Ask("/PING token 42"), "PONG token 42");
  client->Send("/help").IgnoreError();
  absl::StatusOr<Lines> help = client->ReadUntil("OK HELP");
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_GE(help->size(), 10u);
  for (const std::string& line : *help) EXPECT_TRUE(absl::StartsWith(line, "HELP ")) << line;
  client->Send("/quit").IgnoreError();
  absl::StatusOr<Lines> last = client->ReadUntilClosed();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, Lines{"BYE quit"});
}

TEST_F(ServerTest, NickRules) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  EXPECT_TRUE(absl::StartsWith(bob->Ask("/nick ALICE"), "ERR nick-taken ")) << "case-insensitive";
  EXPECT_TRUE(absl::StartsWith(bob->Ask("/nick _bob"), "ERR bad-name "));
  EXPECT_TRUE(absl::StartsWith(bob->Ask("/nick " + std::string(33, 'b')), "ERR bad-name "));
  EXPECT_TRUE(absl::StartsWith(bob->Ask("/nick"), "ERR bad-args "));
  EXPECT_EQ(bob->Ask("/nick Bob.2"), "OK NICK Bob.2");
  EXPECT_EQ(bob->Ask("/whoami"), "OK WHOAMI Bob.2 -");
  // Renaming inside a room tells the others.
  EXPECT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(bob->Ask("/join lounge"), "OK JOIN Lounge 2");
  EXPECT_EQ(alice->Next(), "JOIN Lounge Bob.2");
  EXPECT_EQ(bob->Ask("/nick robert"), "OK NICK robert");
  EXPECT_EQ(alice->Next(), "NICK Bob.2 robert");
}

TEST_F(ServerTest, CreateJoinLeaveWithEvents) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  EXPECT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(alice->Ask("/whoami"), "OK WHOAMI alice Lounge");
  EXPECT_EQ(bob->Ask("/JOIN LOUNGE"), "OK JOIN Lounge 2") << "names show as first given";
  EXPECT_EQ(alice->Next(), "JOIN Lounge bob");
  EXPECT_EQ(Pending(*bob), Lines{}) << "no JOIN event to the joiner";
  EXPECT_EQ(bob->Ask("/leave"), "OK LEAVE Lounge");
  EXPECT_EQ(alice->Next(), "LEAVE Lounge bob");
  EXPECT_TRUE(absl::StartsWith(bob->Ask("/leave"), "ERR not-in-room "));
  EXPECT_EQ(bob->Ask("/whoami"), "OK WHOAMI bob -");
}

TEST_F(ServerTest, ErrorsKeepTheConnection) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  EXPECT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  const std::pair<std::string, std::string> cases[] = {
      {"/create lounge", "ERR room-exists "}, {"/create bad/name", "ERR bad-name "},
      {"/join nowhere", "ERR no-such-room "}, {"/msg nobody hello", "ERR no-such-nick "},
      {"/msg alice", "ERR bad-args "},        {"hello from the lobby", "ERR not-in-room "},
      {"/who", "ERR not-in-room "},           {"/who nowhere", "ERR no-such-room "},
      {"/leave", "ERR not-in-room "},         {"/frobnicate", "ERR unknown-command "},
      {"/rooms please", "ERR bad-args "},
  };
  for (const auto& [line, want] : cases) {
    bob->Send(line).IgnoreError();
    std::string reply = bob->Next();
    EXPECT_TRUE(absl::StartsWith(reply, want)) << line << " -> " << reply;
  }
  EXPECT_EQ(Pending(*bob), Lines{});
}

TEST_F(ServerTest, FramingErrors) {
  auto client = Login("alice");
  client->SendRaw(std::string(5000, 'x') + "\n").IgnoreError();
  EXPECT_TRUE(absl::StartsWith(client->Next(), "ERR line-too-long "));
  client->SendRaw("bad \xff\xfe utf8\n").IgnoreError();
  EXPECT_TRUE(absl::StartsWith(client->Next(), "ERR bad-encoding "));
  client->SendRaw(std::string("nul\0byte\n", 9)).IgnoreError();
  EXPECT_TRUE(absl::StartsWith(client->Next(), "ERR bad-encoding "));
  // Empty lines are ignored; CRLF works; a line split across writes is one line.
  client->SendRaw("\n\r\n/who").IgnoreError();
  client->SendRaw("ami\r\n").IgnoreError();
  EXPECT_EQ(client->Next(), "OK WHOAMI alice -");
  EXPECT_EQ(Pending(*client), Lines{});
}

TEST_F(ServerTest, ChatFansOutToTheOtherMembersOnly) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  auto dave = Login("dave");
  EXPECT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  EXPECT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_EQ(dave->Ask("/create Den"), "OK CREATE Den");
  ASSERT_EQ(Pending(*alice), (Lines{"JOIN Lounge bob", "JOIN Lounge carol"}));
  ASSERT_EQ(Pending(*bob), (Lines{"JOIN Lounge carol"}));

  alice->Send("hello,  world\t!").IgnoreError();
  alice->Send("//help is not a command here").IgnoreError();
  EXPECT_EQ(bob->Next(), "MSG Lounge alice hello,  world\t!");
  EXPECT_EQ(bob->Next(), "MSG Lounge alice /help is not a command here");
  EXPECT_EQ(carol->Next(), "MSG Lounge alice hello,  world\t!");
  EXPECT_EQ(carol->Next(), "MSG Lounge alice /help is not a command here");
  EXPECT_EQ(Pending(*alice), Lines{}) << "never echoed to the sender";
  EXPECT_EQ(Pending(*dave), Lines{}) << "never to another room";
}

TEST_F(ServerTest, RoomsAndWho) {
  auto alice = Login("alice");
  auto bob = Login("Bob");
  auto carol = Login("carol");
  EXPECT_EQ(alice->Ask("/create zoo"), "OK CREATE zoo");
  EXPECT_EQ(bob->Ask("/create Attic"), "OK CREATE Attic");
  EXPECT_EQ(carol->Ask("/join ZOO"), "OK JOIN zoo 2");
  EXPECT_EQ(carol->Ask("/rooms"), "ROOM Attic 1");
  EXPECT_EQ(carol->Next(), "ROOM zoo 2");
  EXPECT_EQ(carol->Next(), "OK ROOMS 2");
  EXPECT_EQ(carol->Ask("/who"), "MEMBER alice");
  EXPECT_EQ(carol->Next(), "MEMBER carol");
  EXPECT_EQ(carol->Next(), "OK WHO zoo 2");
  EXPECT_EQ(alice->Ask("/who attic"), "JOIN zoo carol");
  EXPECT_EQ(alice->Next(), "MEMBER Bob");
  EXPECT_EQ(alice->Next(), "OK WHO Attic 1");
}

TEST_F(ServerTest, RoomClosesWhenItsLastMemberLeaves) {
  auto alice = Login("alice");
  EXPECT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(alice->Ask("/leave"), "OK LEAVE Lounge");
  EXPECT_EQ(alice->Ask("/rooms"), "OK ROOMS 0");
  EXPECT_TRUE(absl::StartsWith(alice->Ask("/join Lounge"), "ERR no-such-room "));
  EXPECT_EQ(alice->Ask("/create lounge"), "OK CREATE lounge") << "the name is free again";
}

TEST_F(ServerTest, MovingBetweenRoomsTellsBothRooms) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  EXPECT_EQ(alice->Ask("/create A"), "OK CREATE A");
  EXPECT_EQ(bob->Ask("/join A"), "OK JOIN A 2");
  EXPECT_EQ(carol->Ask("/create B"), "OK CREATE B");
  EXPECT_EQ(alice->Next(), "JOIN A bob");

  EXPECT_EQ(alice->Ask("/join B"), "OK JOIN B 2");
  EXPECT_EQ(bob->Next(), "LEAVE A alice");
  EXPECT_EQ(carol->Next(), "JOIN B alice");
  EXPECT_EQ(alice->Ask("/join b"), "OK JOIN B 2") << "joining one's own room changes nothing";
  EXPECT_EQ(Pending(*carol), Lines{});

  // /create from inside a room leaves it too.
  EXPECT_EQ(carol->Ask("/create C"), "OK CREATE C");
  EXPECT_EQ(alice->Next(), "LEAVE B carol");
  EXPECT_EQ(alice->Ask("/who"), "MEMBER alice");
  EXPECT_EQ(alice->Next(), "OK WHO B 1");
}

TEST_F(ServerTest, LinesAfterAMoveInTheSameWriteFollowTheClient) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  EXPECT_EQ(alice->Ask("/create A"), "OK CREATE A");
  bob->SendRaw("/join A\nsaid in A\n/leave\n/whoami\n").IgnoreError();
  EXPECT_EQ(bob->Next(), "OK JOIN A 2");
  EXPECT_EQ(bob->Next(), "OK LEAVE A");
  EXPECT_EQ(bob->Next(), "OK WHOAMI bob -");
  EXPECT_EQ(alice->Next(), "JOIN A bob");
  EXPECT_EQ(alice->Next(), "MSG A bob said in A");
  EXPECT_EQ(alice->Next(), "LEAVE A bob");
}

TEST_F(ServerTest, PrivateMessagesReachTheLobbyAndOtherRooms) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  EXPECT_EQ(carol->Ask("/create Den"), "OK CREATE Den");
  EXPECT_EQ(alice->Ask("/msg BOB hi bob, you are in the lobby"), "OK MSG BOB");
  EXPECT_EQ(bob->Next(), "PRIV alice hi bob, you are in the lobby");
  EXPECT_EQ(alice->Ask("/msg carol  spaced   out"), "OK MSG carol");
  EXPECT_EQ(carol->Next(), "PRIV alice spaced   out");
  EXPECT_EQ(carol->Ask("/msg alice back at you"), "OK MSG alice");
  EXPECT_EQ(alice->Next(), "PRIV carol back at you");
}

TEST_F(ServerTest, AbruptDisconnectIsSeenAsLeaveAndFreesTheNick) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  EXPECT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  EXPECT_EQ(alice->Next(), "JOIN Lounge bob");
  bob->Reset();
  EXPECT_EQ(alice->Next(), "LEAVE Lounge bob");
  auto bob2 = Login("bob");  // Login() fails the test unless the nick is free again.
  ASSERT_NE(bob2, nullptr);
  // A plain close (FIN) counts the same.
  EXPECT_EQ(bob2->Ask("/join Lounge"), "OK JOIN Lounge 2");
  EXPECT_EQ(alice->Next(), "JOIN Lounge bob");
  bob2->Close();
  EXPECT_EQ(alice->Next(), "LEAVE Lounge bob");
}

TEST_F(ServerTest, SixRoomsOfEightAllChattingDeliverEveryLineOnceInOrder) {
  constexpr int kRooms = 6;
  constexpr int kMembers = 8;
  constexpr int kLinesEach = 40;
  std::vector<std::vector<std::unique_ptr<TestClient>>> rooms(kRooms);
  for (int r = 0; r < kRooms; ++r) {
    for (int m = 0; m < kMembers; ++m) {
      auto client = Login(absl::StrCat("r", r, "m", m));
      ASSERT_NE(client, nullptr);
      client->Send(m == 0 ? absl::StrCat("/create room", r) : absl::StrCat("/join room", r))
          .IgnoreError();
      std::string reply = client->Next();
      ASSERT_TRUE(absl::StartsWith(reply, "OK ")) << reply;
      rooms[r].push_back(std::move(client));
    }
  }
  // Everyone settles: JOIN events drained, so what follows is only chat.
  for (auto& room : rooms) {
    for (auto& client : room) ASSERT_TRUE(client->Sync().ok());
  }
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kRooms * kMembers);
  for (int r = 0; r < kRooms; ++r) {
    for (int m = 0; m < kMembers; ++m) {
      threads.emplace_back([&, r, m] {
        TestClient& me = *rooms[r][m];
        std::string& failure = failures[r * kMembers + m];
        for (int i = 0; i < kLinesEach; ++i) me.Send(absl::StrCat("line ", i)).IgnoreError();
        std::map<std::string, int> next_from;  // sender -> next sequence number expected
        for (int got = 0; got < (kMembers - 1) * kLinesEach; ++got) {
          absl::StatusOr<std::string> line = me.ReadLine();
          if (!line.ok()) {
            failure = absl::StrCat("after ", got, " lines: ", line.status().ToString());
            return;
          }
          std::vector<std::string> parts = absl::StrSplit(*line, ' ');
          int seq = -1;
          if (parts.size() != 5 || parts[0] != "MSG" || parts[1] != absl::StrCat("room", r) ||
              !absl::SimpleAtoi(parts[4], &seq) || parts[2] == absl::StrCat("r", r, "m", m)) {
            failure = "unexpected line: " + *line;
            return;
          }
          int& expected = next_from[parts[2]];
          if (seq != expected) {
            failure = absl::StrCat("from ", parts[2], " got ", seq, ", expected ", expected);
            return;
          }
          ++expected;
        }
        if (next_from.size() != kMembers - 1) failure = "heard from the wrong number of members";
      });
    }
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t i = 0; i < failures.size(); ++i) EXPECT_EQ(failures[i], "") << "client " << i;
  for (auto& room : rooms) {
    for (auto& client : room) EXPECT_EQ(Pending(*client), Lines{}) << "nothing extra";
  }
}

TEST_F(ServerTest, QuitSaysByeAndTheOthersSeeLeave) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  EXPECT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  bob->Send("/quit").IgnoreError();
  absl::StatusOr<Lines> last = bob->ReadUntilClosed();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, Lines{"BYE quit"});
  EXPECT_EQ(alice->Next(), "JOIN Lounge bob");
  EXPECT_EQ(alice->Next(), "LEAVE Lounge bob");
}

TEST_F(ServerTest, ShutdownSaysByeToEveryoneEverywhere) {
  auto alice = Login("alice");
  auto bob = Login("bob");
  EXPECT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  server_->Shutdown();
  for (TestClient* client : {alice.get(), bob.get()}) {
    absl::StatusOr<Lines> last = client->ReadUntilClosed();
    ASSERT_TRUE(last.ok()) << last.status();
    EXPECT_EQ(*last, Lines{"BYE server-shutdown"});
  }
  EXPECT_FALSE(TestClient::Connect(server_->port()).ok()) << "no longer listening";
}

class LimitsTest : public ServerTest {
 protected:
  void SetUp() override {}
};

TEST_F(LimitsTest, MaxClientsGetsServerFull) {
  ServerOptions options;
  options.max_clients = 2;
  StartServer(options);
  auto a = Login();
  auto b = Login();
  ASSERT_NE(b, nullptr);
  auto refused = TestClient::Connect(server_->port());
  ASSERT_TRUE(refused.ok());
  absl::StatusOr<Lines> lines = (*refused)->ReadUntilClosed();
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ(*lines, Lines{"BYE server-full"});
  // A freed slot is usable again.
  a->Send("/quit").IgnoreError();
  ASSERT_TRUE(a->ReadUntilClosed().ok());
  // The registry forgets a client on its own thread, just after BYE; retry until it has.
  std::unique_ptr<TestClient> c;
  for (int attempt = 0; attempt < 200 && c == nullptr; ++attempt) {
    auto next = TestClient::Connect(server_->port());
    ASSERT_TRUE(next.ok());
    std::string first = (*next)->Next();
    if (absl::StartsWith(first, "WELCOME ")) c = *std::move(next);
  }
  EXPECT_NE(c, nullptr);
}

TEST_F(LimitsTest, MaxRoomsAndMaxRoomMembers) {
  ServerOptions options;
  options.max_rooms = 1;
  options.max_room_members = 2;
  StartServer(options);
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  EXPECT_EQ(alice->Ask("/create one"), "OK CREATE one");
  EXPECT_TRUE(absl::StartsWith(bob->Ask("/create two"), "ERR limit "));
  EXPECT_EQ(bob->Ask("/join one"), "OK JOIN one 2");
  EXPECT_TRUE(absl::StartsWith(carol->Ask("/join one"), "ERR room-full "));
}

TEST_F(LimitsTest, ConfiguredLineLimit) {
  ServerOptions options;
  options.max_line_bytes = 64;
  StartServer(options);
  auto alice = Login("alice");
  EXPECT_TRUE(absl::StartsWith(alice->Ask(std::string(64, 'a')), "ERR not-in-room "))
      << "64 bytes is allowed";
  EXPECT_TRUE(absl::StartsWith(alice->Ask(std::string(65, 'a')), "ERR line-too-long "));
}

TEST_F(LimitsTest, IdleClientsAreDisconnected) {
  ServerOptions options;
  options.idle_timeout_s = 1;
  StartServer(options);
  auto alice = Login("alice");
  absl::StatusOr<Lines> lines = alice->ReadUntilClosed();
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ(*lines, Lines{"BYE idle-timeout"});
}

TEST_F(LimitsTest, AReaderThatStopsReadingIsCutOffWhileTheOthersKeepReceiving) {
  ServerOptions options;
  options.max_outbuf_bytes = 256 * 1024;
  options.flood_lines_per_s = 0;  // The sender floods on purpose: this is about readers.
  StartServer(options);
  SlowReaderRoom room = JoinSlowReaderRoom(server_->port());
  ASSERT_FALSE(HasFailure());
  TestClient* sender = room.sender.get();
  TestClient* reader = room.reader.get();
  TestClient* stuck = room.stuck.get();

  // 4 MB in batches of 64 KB; the sender waits for `reader` to have each batch, as a chat client
  // that keeps up would, while `stuck` reads nothing at all.
  constexpr int kBatches = 64;
  bool saw_cut = SendBatchesThroughReader(room, kBatches);
  ASSERT_FALSE(HasFailure());

  if (!saw_cut) {
    EXPECT_EQ(reader->Next(), "LEAVE busy stuck");
  }
  EXPECT_EQ(Pending(*reader), Lines{});
  EXPECT_EQ(Pending(*sender), Lines{"LEAVE busy stuck"});
  // The stuck client's connection was closed: draining it ends at EOF, short of the 4 MB sent.
  absl::StatusOr<Lines> got = stuck->ReadUntilClosed();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_LT(got->size(), static_cast<size_t>(kBatches * 64));  // 64 lines a batch
}

TEST_F(LimitsTest, FiveHundredConcurrentConnections) {
  constexpr int kClients = 500;
  constexpr int kPerRoom = 10;
  // Both ends of every connection live in this process.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = std::max<rlim_t>(files.rlim_cur, std::min<rlim_t>(files.rlim_max, 4096));
  setrlimit(RLIMIT_NOFILE, &files);
  StartServer();
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    auto client = TestClient::Connect(server_->port());
    ASSERT_TRUE(client.ok()) << i << ": " << client.status();
    clients.push_back(*std::move(client));
  }
  for (auto& client : clients) {
    ASSERT_TRUE(absl::StartsWith(client->Next(), "WELCOME ")) << "every client is welcomed";
  }
  for (int i = 0; i < kClients; ++i) {
    int room = i / kPerRoom;
    clients[i]
        ->Send(i % kPerRoom == 0 ? absl::StrCat("/create r", room) : absl::StrCat("/join r", room))
        .IgnoreError();
    ASSERT_TRUE(absl::StartsWith(clients[i]->Next(), "OK ")) << i;
  }
  for (int i = 0; i < kClients; i += kPerRoom) {
    clients[i]->Send(absl::StrCat("hello r", i / kPerRoom)).IgnoreError();
  }
  for (int i = 0; i < kClients; ++i) {
    if (i % kPerRoom == 0) continue;
    // Client i is guest<i + 1>: ids count from 1 in a fresh server.
    int room = i / kPerRoom;
    absl::StatusOr<Lines> before = clients[i]->ReadUntil(
        absl::StrCat("MSG r", room, " guest", room * kPerRoom + 1, " hello r", room));
    ASSERT_TRUE(before.ok()) << i << ": " << before.status();
  }
  EXPECT_EQ(server_->registry().client_count(), static_cast<size_t>(kClients));
  EXPECT_EQ(server_->registry().room_count(), static_cast<size_t>(kClients / kPerRoom));
}

}  // namespace
}  // namespace roomchat
