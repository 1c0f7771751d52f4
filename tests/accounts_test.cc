// End-to-end tests of accounts (docs/PROTOCOL.md, "Accounts and moderation"): /register, /login,
// /password and /logout over real sockets; a registered nick belongs to its account; a login moves
// the nick from whoever holds it; passwords only over TLS or loopback; failed logins slow down per
// connection and per address; hashing never stalls a room. Written from the contract, not from the
// implementation. The TLS side of "insecure" is in tests/tls/tls_test.py.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

constexpr char kAlicePassword[] = "alice-pass-1";
constexpr char kThrottled[] = "try again in";

class AccountsTest : public ServerFixture {
 protected:
  // A client that takes `nick` and registers it with `password`; null (and a failure) if not.
  std::unique_ptr<TestClient> Registered(absl::string_view nick, absl::string_view password,
                                         TestClientOptions options = {}) {
    auto client = Login(nick, options);
    if (client == nullptr) return nullptr;
    std::string reply = client->Ask(absl::StrCat("/register ", password));
    if (reply != absl::StrCat("OK REGISTER ", nick)) {
      ADD_FAILURE() << "expected OK REGISTER " << nick << ", got " << reply;
      return nullptr;
    }
    return client;
  }
};

// The creator makes `room` and the others join it; every JOIN event read.
void MeetIn(absl::string_view room, const std::vector<TestClient*>& members) {
  for (TestClient* member : members) ASSERT_NE(member, nullptr);
  ASSERT_EQ(members[0]->Ask(absl::StrCat("/create ", room)), absl::StrCat("OK CREATE ", room));
  for (size_t i = 1; i < members.size(); ++i) {
    ASSERT_EQ(members[i]->Ask(absl::StrCat("/join ", room)),
              absl::StrCat("OK JOIN ", room, " ", i + 1));
  }
  for (TestClient* member : members) Pending(*member);  // the JOIN events
}

// The next line that is not an event or a chat line of the client's room (others talk and come
// and go there).
std::string NextReply(TestClient& client) {
  while (true) {
    std::string line = client.Next();
    if (!absl::StartsWith(line, "JOIN ") && !absl::StartsWith(line, "LEAVE ") &&
        !absl::StartsWith(line, "NICK ") && !absl::StartsWith(line, "MSG ")) {
      return line;
    }
  }
}

// Quits and waits for the server to close: by then the nick is free.
void Quit(TestClient& client) {
  client.Send("/quit").IgnoreError();
  EXPECT_EQ(client.ReadUntilClosed().value_or(Lines{"<error>"}), Lines{"BYE quit"});
}

// The nick in a "RENAMED <old> <new> <reason>" line, or "" when `line` is not one for `old`.
std::string RenamedTo(const std::string& line, absl::string_view old) {
  std::vector<std::string> words = absl::StrSplit(line, absl::MaxSplits(' ', 3));
  if (words.size() < 4 || words[0] != "RENAMED" || words[1] != old) return "";
  return words[2];
}

// ---- 1. Register, the nick belongs to the account, logout, login moves the holder.

TEST_F(AccountsTest, RegisteredNickBelongsToItsAccountAndALoginMovesItsHolder) {
  StartServer();
  auto alice = Registered("alice", kAlicePassword);
  ASSERT_NE(alice, nullptr);
  ASSERT_EQ(alice->Ask("/whoami"), "OK WHOAMI alice -");

  // Nobody else may take it, even when no one holds it.
  auto bob = Login("bob");
  auto spare = Login();
  ASSERT_NE(spare, nullptr);
  // A registered nick stays registered when its holder leaves.
  Quit(*alice);
  EXPECT_TRUE(IsErr(bob->Ask("/nick alice"), "nick-registered"));
  EXPECT_TRUE(IsErr(bob->Ask("/nick ALICE"), "nick-registered")) << "case-insensitive";
  ASSERT_EQ(bob->Ask("/whoami"), "OK WHOAMI bob -");

  // The account logs in from another connection, then logs out and keeps the nick as a guest.
  auto holder = Login("holder");
  ASSERT_NE(holder, nullptr);
  ASSERT_EQ(holder->Ask(absl::StrCat("/login alice ", kAlicePassword)), "OK LOGIN alice");
  ASSERT_EQ(holder->Ask("/whoami"), "OK WHOAMI alice -");
  ASSERT_EQ(holder->Ask("/logout"), "OK LOGOUT alice");
  ASSERT_EQ(holder->Ask("/whoami"), "OK WHOAMI alice -") << "logout keeps the nick";
  EXPECT_TRUE(IsErr(holder->Ask("/logout"), "auth-failed")) << "not logged in any more";

  // holder (a logged-out guest holding "alice") sits in Lounge with carol; dave sits in Den with
  // erin and logs in to alice: the holder is renamed and each room hears its own side of it.
  auto carol = Login("carol");
  auto dave = Login("dave");
  auto erin = Login("erin");
  ASSERT_NE(erin, nullptr);
  MeetIn("Lounge", {holder.get(), carol.get()});
  MeetIn("Den", {dave.get(), erin.get()});
  ASSERT_EQ(dave->Ask(absl::StrCat("/login alice ", kAlicePassword)), "OK LOGIN alice");
  std::string renamed = holder->Next();
  std::string guest = RenamedTo(renamed, "alice");
  ASSERT_TRUE(absl::StartsWith(guest, "guest")) << renamed;
  EXPECT_EQ(carol->Next(), absl::StrCat("NICK alice ", guest));
  EXPECT_EQ(erin->Next(), "NICK dave alice");
  ASSERT_EQ(dave->Ask("/whoami"), "OK WHOAMI alice Den");
  ASSERT_EQ(holder->Ask("/whoami"), absl::StrCat("OK WHOAMI ", guest, " Lounge"));
  EXPECT_TRUE(IsErr(holder->Ask("/logout"), "auth-failed")) << "the holder is logged out";
  EXPECT_EQ(Pending(*dave), Lines{}) << "no NICK event to the one who logged in";
  EXPECT_EQ(Pending(*carol), Lines{});
  EXPECT_EQ(Pending(*erin), Lines{});

  // Another session of the same account loses it too.
  ASSERT_EQ(spare->Ask(absl::StrCat("/login alice ", kAlicePassword)), "OK LOGIN alice");
  renamed = dave->Next();
  std::string dave_now = RenamedTo(renamed, "alice");
  ASSERT_TRUE(absl::StartsWith(dave_now, "guest")) << renamed;
  EXPECT_EQ(erin->Next(), absl::StrCat("NICK alice ", dave_now));
  EXPECT_TRUE(IsErr(dave->Ask("/logout"), "auth-failed"));
}

// "/nick NAME where NAME is another account's nick gets ERR nick-registered": also while the
// account's session holds it (it is taken too; the contract names the account's code).
TEST_F(AccountsTest, AnAccountsNickIsRegisteredAlsoWhileItsSessionHoldsIt) {
  StartServer();
  auto alice = Registered("alice", kAlicePassword);
  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  ASSERT_NE(alice, nullptr);
  EXPECT_TRUE(IsErr(bob->Ask("/nick alice"), "nick-registered"));
}

// "The client's further lines wait for the answer (they are not lost)": sent in one write behind a
// /login, they are answered after it, in order, and the room hears them from the new nick.
TEST_F(AccountsTest, LinesSentBehindALoginWaitForItsAnswer) {
  StartServer();
  ASSERT_NE(Registered("alice", kAlicePassword), nullptr);
  auto mate = Login("mate");
  auto client = Login("client");
  ASSERT_NE(client, nullptr);
  MeetIn("Lounge", {mate.get(), client.get()});
  ASSERT_TRUE(client
                  ->SendRaw(absl::StrCat("/login alice ", kAlicePassword,
                                         "\n/whoami\nsaid right after the login\n/ping done\n"))
                  .ok());
  EXPECT_EQ(client->Next(), "OK LOGIN alice");
  EXPECT_EQ(client->Next(), "OK WHOAMI alice Lounge");
  EXPECT_EQ(client->Next(), "PONG done");
  EXPECT_EQ(mate->Next(), "NICK client alice");
  EXPECT_EQ(mate->Next(), "MSG Lounge alice said right after the login");
}

TEST_F(AccountsTest, WrongPasswordFailsAndPasswordChangesIt) {
  StartServer();
  auto alice = Registered("alice", kAlicePassword);
  ASSERT_NE(alice, nullptr);
  auto other = Login("other");
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(IsErr(other->Ask("/login alice wrong-password"), "auth-failed"));
  EXPECT_TRUE(IsErr(other->Ask("/login nobody-here some-password"), "auth-failed"));
  EXPECT_TRUE(IsErr(other->Ask("/password some-password other-password"), "auth-failed"))
      << "not logged in";
  EXPECT_EQ(Pending(*alice), Lines{}) << "failed logins move nothing";

  EXPECT_TRUE(IsErr(alice->Ask("/password wrong-password new-password-2"), "auth-failed"));
  EXPECT_TRUE(IsErr(alice->Ask(absl::StrCat("/password ", kAlicePassword, " short")), "bad-args"))
      << "8 bytes at least";
  EXPECT_EQ(alice->Ask(absl::StrCat("/password ", kAlicePassword, " new-password-2")),
            "OK PASSWORD");
  alice->Close();

  // A fresh connection (the other one has used its free failures).
  auto later = Login("later");
  ASSERT_NE(later, nullptr);
  EXPECT_TRUE(IsErr(later->Ask(absl::StrCat("/login alice ", kAlicePassword)), "auth-failed"))
      << "the old password no longer works";
  ASSERT_EQ(later->Ask("/login alice new-password-2"), "OK LOGIN alice");
  ASSERT_EQ(later->Ask("/whoami"), "OK WHOAMI alice -");
}

TEST_F(AccountsTest, RegisterErrors) {
  StartServer();
  auto guest = Login();
  ASSERT_NE(guest, nullptr);
  EXPECT_TRUE(IsErr(guest->Ask("/register guest-password"), "bad-name")) << "a guest nick";

  auto alice = Login("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_TRUE(IsErr(alice->Ask("/register"), "bad-args"));
  EXPECT_TRUE(IsErr(alice->Ask("/register short7"), "bad-args")) << "under 8 bytes";
  EXPECT_TRUE(IsErr(alice->Ask("/register " + std::string(129, 'p')), "bad-args"))
      << "over 128 bytes";
  EXPECT_TRUE(IsErr(alice->Ask("/register two words"), "bad-args"));
  ASSERT_EQ(alice->Ask(absl::StrCat("/register ", kAlicePassword)), "OK REGISTER alice");
  EXPECT_TRUE(IsErr(alice->Ask("/register another-password"), "bad-args")) << "logged in";
  ASSERT_EQ(alice->Ask("/logout"), "OK LOGOUT alice");
  EXPECT_TRUE(IsErr(alice->Ask("/register another-password"), "nick-registered"))
      << "registered twice";
  // Neither attempt changed the password.
  ASSERT_EQ(alice->Ask(absl::StrCat("/login alice ", kAlicePassword)), "OK LOGIN alice");
}

TEST_F(AccountsTest, AccountsSurviveARestart) {
  ServerOptions options;
  options.data_dir = NewDataDir();
  StartServer(options);
  ASSERT_NE(Registered("alice", kAlicePassword), nullptr);
  server_.reset();
  StartServer(options);

  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_TRUE(IsErr(bob->Ask("/nick alice"), "nick-registered"));
  EXPECT_TRUE(IsErr(bob->Ask("/login alice wrong-password"), "auth-failed"));
  ASSERT_EQ(bob->Ask(absl::StrCat("/login alice ", kAlicePassword)), "OK LOGIN alice");
}

TEST_F(AccountsTest, WithoutAccountsTheCommandsAreUnavailable) {
  ServerOptions options;
  options.accounts = false;
  StartServer(options);
  auto alice = Login("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_TRUE(IsErr(alice->Ask(absl::StrCat("/register ", kAlicePassword)), "unavailable"));
  EXPECT_TRUE(IsErr(alice->Ask(absl::StrCat("/login alice ", kAlicePassword)), "unavailable"));
}

// ---- 2. Passwords travel only over TLS or loopback.

TEST_F(AccountsTest, PlainLoopbackAuthIsRefusedWhenLoopbackIsNotTrusted) {
  ServerOptions options;
  options.plaintext_auth_from_loopback = false;
  StartServer(options);
  auto alice = Login("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_TRUE(IsErr(alice->Ask(absl::StrCat("/register ", kAlicePassword)), "insecure"));
  EXPECT_TRUE(IsErr(alice->Ask(absl::StrCat("/login alice ", kAlicePassword)), "insecure"));
  EXPECT_TRUE(IsErr(alice->Ask("/password old-password new-password"), "insecure"))
      << "not tried: not even whether the client is logged in";
  // Not tried: "alice" is no account, so another client may take the nick.
  Quit(*alice);
  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  ASSERT_EQ(bob->Ask("/nick alice"), "OK NICK alice");
}

TEST_F(AccountsTest, AllowPlaintextAuthLetsAPlainClientRegister) {
  ServerOptions options;
  options.plaintext_auth_from_loopback = false;
  options.allow_plaintext_auth = true;
  StartServer(options);
  auto alice = Registered("alice", kAlicePassword);
  ASSERT_NE(alice, nullptr);
}

// ---- 3. Failed logins slow down.

struct Attempts {
  int tried = 0;    // answered "ERR auth-failed" without a wait: the password was checked
  int refused = 0;  // "ERR auth-failed ... try again in N s": not checked
  absl::Duration elapsed;
};

// One wrong-password /login on `client`, counted in `attempts`; false on any other answer.
bool TryWrongPassword(TestClient& client, int n, Attempts& attempts) {
  std::string reply = client.Ask(absl::StrCat("/login alice wrong-password-", n));
  if (!IsErr(reply, "auth-failed")) {
    ADD_FAILURE() << "attempt " << n << ": " << reply;
    return false;
  }
  if (absl::StrContains(reply, kThrottled)) {
    ++attempts.refused;
  } else {
    ++attempts.tried;
  }
  return true;
}

void Report(const char* what, const Attempts& attempts) {
  double minutes = absl::ToDoubleSeconds(attempts.elapsed) / 60;
  double per_minute = attempts.tried / minutes;
  std::cout << what << ": " << attempts.tried << " passwords tried, " << attempts.refused
            << " refused in " << attempts.elapsed << " = " << per_minute << " tried/minute"
            << std::endl;
  ::testing::Test::RecordProperty(absl::StrCat(what, "_tried_per_minute"),
                                  static_cast<int>(per_minute));
}

// An attacker's pace: one attempt every 100 ms, for 12 s (this is the attacker's clock, not a
// wait for the server: every answer is read with its own deadline).
constexpr absl::Duration kAttackFor = absl::Seconds(12);
constexpr absl::Duration kAttackPace = absl::Milliseconds(100);
constexpr int kMaxAttempts = 200;

// Tried within `elapsed`: the free failures and the one that starts the waits, then one try after
// each wait of 1, 2, 4 ... s that has ended by then (within 12 s: after 1, 3 and 7 s; the next
// waits 8 s more). One more for a try that lands as a wait ends.
int MostTriedIn(int free_failures, absl::Duration elapsed) {
  int after_waits = 0;
  for (int64_t waited = 1; waited <= absl::ToInt64Seconds(elapsed); waited = waited * 2 + 1) {
    ++after_waits;
  }
  return free_failures + 1 + after_waits + 1;
}

TEST_F(AccountsTest, WrongPasswordsOnOneConnectionSlowDown) {
  StartServer();
  ASSERT_NE(Registered("alice", kAlicePassword), nullptr);
  auto attacker = Login("mallory");
  ASSERT_NE(attacker, nullptr);
  Attempts attempts;
  absl::Time start = absl::Now();
  for (int n = 0; n < kMaxAttempts && absl::Now() - start < kAttackFor; ++n) {
    if (!TryWrongPassword(*attacker, n, attempts)) break;
    if (n < 3) {
      EXPECT_EQ(attempts.tried, n + 1) << "the first 3 failures are free";
    }
    absl::SleepFor(kAttackPace);
  }
  attempts.elapsed = absl::Now() - start;
  Report("one_connection", attempts);
  EXPECT_GE(attempts.tried, 4) << "3 free, and a try again after the first wait";
  EXPECT_LE(attempts.tried, MostTriedIn(3, attempts.elapsed));
  EXPECT_GT(attempts.refused, 0);

  // The right password is refused without being tried while the connection must wait...
  std::string reply = attacker->Ask(absl::StrCat("/login alice ", kAlicePassword));
  EXPECT_TRUE(IsErr(reply, "auth-failed") && absl::StrContains(reply, kThrottled)) << reply;
  // ...but the account is not locked: another address logs in at once.
  auto owner = Login("", {.local_address = "127.0.0.2"});
  ASSERT_NE(owner, nullptr);
  ASSERT_EQ(owner->Ask(absl::StrCat("/login alice ", kAlicePassword)), "OK LOGIN alice");
}

TEST_F(AccountsTest, WrongPasswordsFromOneAddressOnManyConnectionsSlowDown) {
  StartServer();
  ASSERT_NE(Registered("alice", kAlicePassword), nullptr);
  // The attacker reconnects whenever its connection must wait; all from 127.0.0.3.
  TestClientOptions from_attacker{.local_address = "127.0.0.3"};
  Attempts attempts;
  int connections = 0;
  absl::Time start = absl::Now();
  std::unique_ptr<TestClient> attacker;
  // At least 12 attempts, however slow hashing is on this machine: 10 are free.
  for (int n = 0; n < kMaxAttempts && (absl::Now() - start < kAttackFor || n < 12); ++n) {
    if (attacker == nullptr) {
      attacker = Login("", from_attacker);
      ASSERT_NE(attacker, nullptr);
      ++connections;
    }
    int refused_before = attempts.refused;
    if (!TryWrongPassword(*attacker, n, attempts)) break;
    if (attempts.refused > refused_before) attacker.reset();  // a new connection, a new count
    absl::SleepFor(kAttackPace);
  }
  attempts.elapsed = absl::Now() - start;
  Report("one_address", attempts);
  std::cout << "over " << connections << " connections" << std::endl;
  EXPECT_GE(attempts.tried, 10);
  EXPECT_LE(attempts.tried, MostTriedIn(10, attempts.elapsed));
  EXPECT_GT(attempts.refused, 0);

  // Another address is not slowed by this one.
  auto owner = Login("", {.local_address = "127.0.0.2"});
  ASSERT_NE(owner, nullptr);
  EXPECT_TRUE(IsErr(owner->Ask("/login alice wrong-password"), "auth-failed"));
  ASSERT_EQ(owner->Ask(absl::StrCat("/login alice ", kAlicePassword)), "OK LOGIN alice");
}

// ---- 4. Hashing runs on the accounts thread: a room goes on while 20 clients log in.

// The p-th percentile (0-100) of `samples`, which must not be empty.
absl::Duration Percentile(std::vector<absl::Duration> samples, double p) {
  std::sort(samples.begin(), samples.end());
  size_t index = static_cast<size_t>(p / 100 * samples.size());
  return samples[std::min(index, samples.size() - 1)];
}

TEST_F(AccountsTest, LoginsDoNotStallARoomOrTheLobby) {
  constexpr int kLoginClients = 20;
  constexpr int kRoundsEach = 2;
  ServerOptions options;
  options.flood_lines_per_s = 0;  // the ping-pong goes as fast as it can
  StartServer(options);
  auto ping = Login("ping");
  auto pong = Login("pong");
  auto lobby = Login("lobbyist");
  ASSERT_NE(lobby, nullptr);
  MeetIn("Busy", {ping.get(), pong.get()});
  // Each from an address of its own: a /register counts against its address like a failed login.
  for (int k = 0; k < kLoginClients; ++k) {
    TestClientOptions from{.local_address = absl::StrCat("127.0.1.", k + 1)};
    ASSERT_NE(Registered(absl::StrCat("user", k), absl::StrCat("password-", k), from), nullptr);
  }

  // One login's time, alone: the median of 5.
  std::vector<absl::Duration> alone;
  for (int i = 0; i < 5; ++i) {
    auto client = Login();
    ASSERT_NE(client, nullptr);
    absl::Time sent = absl::Now();
    ASSERT_EQ(client->Ask("/login user0 password-0"), "OK LOGIN user0");
    alone.push_back(absl::Now() - sent);
  }
  absl::Duration one_login = Percentile(alone, 50);

  // 20 clients log in, twice each, on fresh connections; half of them do it in the room.
  std::atomic<int> finished{0};
  std::vector<std::thread> loginers;
  for (int k = 0; k < kLoginClients; ++k) {
    loginers.emplace_back([&, k] {
      for (int round = 0; round < kRoundsEach; ++round) {
        // From its own address: an address has at most 2 passwords checked at once.
        auto client = Login("", {.local_address = absl::StrCat("127.0.1.", k + 1)});
        if (client == nullptr) break;
        if (k % 2 == 0) {
          std::string joined = client->Ask("/join Busy");
          EXPECT_TRUE(absl::StartsWith(joined, "OK JOIN Busy ")) << joined;
        }
        ASSERT_TRUE(client->Send(absl::StrCat("/login user", k, " password-", k)).ok());
        EXPECT_EQ(NextReply(*client), absl::StrCat("OK LOGIN user", k));
      }
      ++finished;
    });
  }
  // Meanwhile: a chat round trip through the room, and a /ping in the lobby.
  std::vector<absl::Duration> room_trips;
  std::vector<absl::Duration> lobby_trips;
  absl::Time start = absl::Now();
  for (int i = 0; finished.load() < kLoginClients && absl::Now() - start < absl::Seconds(200);
       ++i) {
    absl::Time sent = absl::Now();
    ASSERT_TRUE(ping->Send(absl::StrCat("ping ", i)).ok());
    ASSERT_TRUE(pong->ReadUntil(absl::StrCat("MSG Busy ping ping ", i)).ok());
    ASSERT_TRUE(pong->Send(absl::StrCat("pong ", i)).ok());
    ASSERT_TRUE(ping->ReadUntil(absl::StrCat("MSG Busy pong pong ", i)).ok());
    room_trips.push_back(absl::Now() - sent);
    sent = absl::Now();
    ASSERT_TRUE(lobby->Send(absl::StrCat("/ping ", i)).ok());
    ASSERT_TRUE(lobby->ReadUntil(absl::StrCat("PONG ", i)).ok());
    lobby_trips.push_back(absl::Now() - sent);
  }
  for (std::thread& thread : loginers) thread.join();

  ASSERT_GE(room_trips.size(), 20u) << "the logins took longer than 20 round trips";
  absl::Duration room_p99 = Percentile(room_trips, 99);
  absl::Duration lobby_p99 = Percentile(lobby_trips, 99);
  std::cout << "one login alone: " << one_login << "; during " << kLoginClients * kRoundsEach
            << " logins: room round trip p99 " << room_p99 << " (" << room_trips.size()
            << " trips), lobby /ping p99 " << lobby_p99 << std::endl;
  EXPECT_LT(room_p99, one_login) << "a room waited for a password hash";
  EXPECT_LT(lobby_p99, one_login) << "the lobby waited for a password hash";
}

}  // namespace
}  // namespace roomchat
