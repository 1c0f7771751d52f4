// Keeps the two directions of protocol v1 in step: every line the reply builders make parses, with
// ParseServerLine(), into the event a client expects; every command FormatCommand() makes parses,
// with ParseCommand(), back into the same command.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "chat/protocol/command.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "chat/protocol/server_event.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

using EventKind = ServerEvent::Kind;
using CommandKind = Command::Kind;

// The one event in `line`, which must be a single line ending in LF.
ServerEvent ParseOne(const std::string& line) {
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  absl::StatusOr<ServerEvent> event =
      ParseServerLine(absl::string_view(line).substr(0, line.size() - 1));
  EXPECT_TRUE(event.ok()) << line << ": " << event.status();
  return event.ok() ? *event : ServerEvent{EventKind::kBye};
}

TEST(RoundTripTest, Welcome) {
  ServerEvent event = ParseOne(replies::Welcome("guest7"));
  EXPECT_EQ(event.kind, EventKind::kWelcome);
  EXPECT_EQ(event.nick, "guest7");
  EXPECT_FALSE(event.text.empty());
}

TEST(RoundTripTest, OkWithNoneOneAndTwoFields) {
  ServerEvent none = ParseOne(replies::Ok(CommandKind::kLeave));
  EXPECT_EQ(none.kind, EventKind::kOk);
  EXPECT_EQ(none.command, OkWord(CommandKind::kLeave));
  EXPECT_TRUE(none.args.empty());

  ServerEvent one = ParseOne(replies::Ok(CommandKind::kNick, "alice"));
  EXPECT_EQ(one.command, OkWord(CommandKind::kNick));
  EXPECT_EQ(one.args, std::vector<std::string>{"alice"});

  ServerEvent two = ParseOne(replies::Ok(CommandKind::kJoin, "Lounge", "2"));
  EXPECT_EQ(two.command, OkWord(CommandKind::kJoin));
  EXPECT_EQ(two.args, (std::vector<std::string>{"Lounge", "2"}));
}

TEST(RoundTripTest, EveryCommandWithAnOkReply) {
  for (CommandKind kind : {CommandKind::kNick, CommandKind::kCreate, CommandKind::kJoin,
                           CommandKind::kLeave, CommandKind::kRooms, CommandKind::kWho,
                           CommandKind::kWhoami, CommandKind::kMsg, CommandKind::kHelp,
                           CommandKind::kCap, CommandKind::kHistory, CommandKind::kRegister,
                           CommandKind::kLogin, CommandKind::kPassword, CommandKind::kLogout,
                           CommandKind::kOp, CommandKind::kDeop, CommandKind::kKick,
                           CommandKind::kBan, CommandKind::kUnban, CommandKind::kBans,
                           CommandKind::kTopic, CommandKind::kKey}) {
    ASSERT_FALSE(OkWord(kind).empty()) << CommandWord(kind);
    ServerEvent event = ParseOne(replies::Ok(kind, "x"));
    EXPECT_EQ(event.kind, EventKind::kOk);
    EXPECT_EQ(event.command, OkWord(kind));
  }
}

TEST(RoundTripTest, ChatAndMembershipEvents) {
  ServerEvent msg = ParseOne(replies::Msg("Lounge", "alice", "hello  there, you"));
  EXPECT_EQ(msg.kind, EventKind::kMsg);
  EXPECT_EQ(msg.room, "Lounge");
  EXPECT_EQ(msg.nick, "alice");
  EXPECT_EQ(msg.text, "hello  there, you");

  ServerEvent priv = ParseOne(replies::Priv("bob", "psst, a secret"));
  EXPECT_EQ(priv.kind, EventKind::kPriv);
  EXPECT_EQ(priv.nick, "bob");
  EXPECT_EQ(priv.text, "psst, a secret");

  ServerEvent join = ParseOne(replies::Join("Lounge", "carol"));
  EXPECT_EQ(join.kind, EventKind::kJoin);
  EXPECT_EQ(join.room, "Lounge");
  EXPECT_EQ(join.nick, "carol");

  ServerEvent leave = ParseOne(replies::Leave("Lounge", "carol"));
  EXPECT_EQ(leave.kind, EventKind::kLeave);
  EXPECT_EQ(leave.room, "Lounge");
  EXPECT_EQ(leave.nick, "carol");

  ServerEvent nick = ParseOne(replies::Nick("bob", "robert"));
  EXPECT_EQ(nick.kind, EventKind::kNick);
  EXPECT_EQ(nick.nick, "bob");
  EXPECT_EQ(nick.new_nick, "robert");
}

TEST(RoundTripTest, ListingsPongAndBye) {
  ServerEvent room = ParseOne(replies::Room("Lounge", 12));
  EXPECT_EQ(room.kind, EventKind::kRoom);
  EXPECT_EQ(room.room, "Lounge");
  EXPECT_EQ(room.count, 12);

  ServerEvent member = ParseOne(replies::Member("alice"));
  EXPECT_EQ(member.kind, EventKind::kMember);
  EXPECT_EQ(member.nick, "alice");

  ServerEvent pong = ParseOne(replies::Pong(""));
  EXPECT_EQ(pong.kind, EventKind::kPong);
  EXPECT_EQ(pong.text, "");
  ServerEvent token = ParseOne(replies::Pong("sync 7"));
  EXPECT_EQ(token.kind, EventKind::kPong);
  EXPECT_EQ(token.text, "sync 7");

  ServerEvent bye = ParseOne(replies::Bye("idle-timeout"));
  EXPECT_EQ(bye.kind, EventKind::kBye);
  EXPECT_EQ(bye.text, "idle-timeout");
}

TEST(RoundTripTest, EveryHelpLineThenOkHelp) {
  std::vector<std::string> lines = absl::StrSplit(replies::Help(), absl::ByChar('\n'));
  ASSERT_GE(lines.size(), 3u);
  ASSERT_EQ(lines.back(), "") << "Help() ends in LF";
  lines.pop_back();
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    ServerEvent help = ParseOne(lines[i] + "\n");
    EXPECT_EQ(help.kind, EventKind::kHelp) << lines[i];
    EXPECT_FALSE(help.text.empty()) << lines[i];
  }
  ServerEvent ok = ParseOne(lines.back() + "\n");
  EXPECT_EQ(ok.kind, EventKind::kOk);
  EXPECT_EQ(ok.command, OkWord(CommandKind::kHelp));
  // Help() builds its lines from the command table; these are protocol v1's bytes.
  EXPECT_EQ(lines[0], "HELP /nick NAME       change your nickname");
  EXPECT_EQ(lines[7], "HELP /msg NICK TEXT   send a private message");
  EXPECT_EQ(lines[8], "HELP /ping [TOKEN]    the server answers PONG [TOKEN]");
  EXPECT_EQ(lines[10], "HELP /quit            disconnect");
}

TEST(RoundTripTest, ErrLineOfEveryErrorCode) {
  for (ErrorCode code : kAllErrorCodes) {
    ServerEvent err = ParseOne(ErrLine(ProtocolError(code, "what went wrong")));
    EXPECT_EQ(err.kind, EventKind::kErr);
    EXPECT_EQ(err.code, ErrorCodeName(code));
    EXPECT_EQ(err.text, "what went wrong");
  }
}

// What ParseCommand() makes of the line FormatCommand() made, without its LF.
Command Reparse(const std::string& line) {
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  absl::StatusOr<Command> command =
      ParseCommand(absl::string_view(line).substr(0, line.size() - 1));
  EXPECT_TRUE(command.ok()) << line << ": " << command.status();
  return command.ok() ? *command : Command{CommandKind::kChat, "<error>", "<error>"};
}

TEST(RoundTripTest, EveryFormattedCommandParsesBack) {
  struct Case {
    CommandKind kind;
    std::vector<absl::string_view> args;
    std::string name;
    std::string text;
  };
  const Case cases[] = {
      {CommandKind::kNick, {"alice"}, "alice", ""},
      {CommandKind::kCreate, {"Lounge"}, "Lounge", ""},
      {CommandKind::kJoin, {"lounge"}, "lounge", ""},
      {CommandKind::kLeave, {}, "", ""},
      {CommandKind::kRooms, {}, "", ""},
      {CommandKind::kWho, {}, "", ""},
      {CommandKind::kWho, {"Lounge"}, "Lounge", ""},
      {CommandKind::kWhoami, {}, "", ""},
      {CommandKind::kMsg, {"bob", "hi there"}, "bob", "hi there"},
      {CommandKind::kPing, {}, "", ""},
      {CommandKind::kPing, {"keepalive"}, "", "keepalive"},
      {CommandKind::kHelp, {}, "", ""},
      {CommandKind::kQuit, {}, "", ""},
      {CommandKind::kChat, {"hello", "room"}, "", "hello room"},
      {CommandKind::kChat, {"/shrug"}, "", "/shrug"},
  };
  for (const Case& c : cases) {
    std::string line = FormatCommand(c.kind, c.args);
    Command command = Reparse(line);
    EXPECT_EQ(command.kind, c.kind) << line;
    EXPECT_EQ(command.name, c.name) << line;
    EXPECT_EQ(command.text, c.text) << line;
  }
  EXPECT_EQ(Reparse(FormatChatLine("//x")).text, "//x");
}

TEST(RoundTripTest, TaggedLinesAndAcks) {
  const std::string msg = replies::Msg("Lounge", "alice", "hi there");
  ServerEvent live = ParseOne(replies::Tags(1764629244123456, 1764629244123, false) + msg);
  EXPECT_EQ(live.kind, EventKind::kMsg);
  EXPECT_EQ(live.id, 1764629244123456u);
  EXPECT_EQ(live.time, replies::Rfc3339Millis(1764629244123));
  EXPECT_EQ(live.time, "2025-12-01T22:47:24.123Z");
  EXPECT_FALSE(live.history);
  EXPECT_EQ(live.text, "hi there");
  ServerEvent replayed = ParseOne(replies::Tags(7, 0, true) + msg);
  EXPECT_TRUE(replayed.history);
  EXPECT_EQ(replayed.time, "1970-01-01T00:00:00.000Z");
  ServerEvent ack = ParseOne(replies::Ack("Lounge", 42));
  EXPECT_EQ(ack.kind, EventKind::kAck);
  EXPECT_EQ(ack.room, "Lounge");
  EXPECT_EQ(ack.id, 42u);
}

TEST(RoundTripTest, HistoryCommandsParseBack) {
  const std::string join_line = FormatCommand(CommandKind::kJoin, {"Lounge", "since=99"});
  absl::StatusOr<Command> join =
      ParseCommand(absl::string_view(join_line).substr(0, join_line.size() - 1));
  ASSERT_TRUE(join.ok()) << join.status();
  EXPECT_EQ(join->since_id, 99u);
  absl::StatusOr<Command> history = ParseCommand("/history 5 before=12");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->count, 5u);
  EXPECT_EQ(history->before_id, 12u);
  absl::StatusOr<Command> cap = ParseCommand("/cap req tags ack");
  ASSERT_TRUE(cap.ok());
  EXPECT_TRUE(cap->cap_request);
  EXPECT_EQ(cap->caps, (std::vector<std::string>{"tags", "ack"}));
  for (absl::string_view bad : {"/history 0", "/history x", "/history 5 before=", "/history 5 6",
                                "/join Lounge since=0", "/join Lounge since=-1", "/cap req",
                                "/cap list", "/join Lounge since=12 more"}) {
    EXPECT_TRUE(HasErrorCode(ParseCommand(bad).status(), ErrorCode::kBadArgs)) << bad;
  }
}

TEST(RoundTripTest, ModerationLinesParseBack) {
  ServerEvent renamed = ParseOne(replies::Renamed("alice", "guest9", "alice logged in elsewhere"));
  EXPECT_EQ(renamed.kind, EventKind::kRenamed);
  EXPECT_EQ(renamed.nick, "alice");
  EXPECT_EQ(renamed.new_nick, "guest9");
  EXPECT_EQ(renamed.text, "alice logged in elsewhere");
  for (bool op : {true, false}) {
    ServerEvent event = ParseOne(op ? replies::Op("Lounge", "bob", "alice")
                                    : replies::Deop("Lounge", "bob", "alice"));
    EXPECT_EQ(event.kind, op ? EventKind::kOp : EventKind::kDeop);
    EXPECT_EQ(event.room, "Lounge");
    EXPECT_EQ(event.nick, "bob");
    EXPECT_EQ(event.by, "alice");
  }
  ServerEvent kicked = ParseOne(replies::Kicked("Lounge", "alice", "be nice"));
  EXPECT_EQ(kicked.kind, EventKind::kKicked);
  EXPECT_EQ(kicked.by, "alice");
  EXPECT_EQ(kicked.text, "be nice");
  ServerEvent kick = ParseOne(replies::Kick("Lounge", "bob", "alice", "be nice"));
  EXPECT_EQ(kick.kind, EventKind::kKick);
  EXPECT_EQ(kick.nick, "bob");
  EXPECT_EQ(kick.by, "alice");
  EXPECT_EQ(kick.text, "be nice");
  ServerEvent topic = ParseOne(replies::Topic("Lounge", "alice", "welcome all"));
  EXPECT_EQ(topic.kind, EventKind::kTopic);
  EXPECT_EQ(topic.by, "alice");
  EXPECT_EQ(topic.text, "welcome all");
  ServerEvent cleared = ParseOne(replies::Topic("Lounge", "alice", ""));
  EXPECT_EQ(cleared.kind, EventKind::kTopic);
  EXPECT_EQ(cleared.by, "alice");
  EXPECT_EQ(cleared.text, "");
  ServerEvent ban = ParseOne(replies::Ban("Lounge", "address", "127.0.0.2", "alice"));
  EXPECT_EQ(ban.kind, EventKind::kBan);
  EXPECT_EQ(ban.code, "address");
  EXPECT_EQ(ban.nick, "127.0.0.2");
  EXPECT_EQ(ban.by, "alice");
}

TEST(RoundTripTest, AccountAndModerationCommandsParseBack) {
  absl::StatusOr<Command> login = ParseCommand("/login alice hunter2hunter2");
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->name, "alice");
  EXPECT_EQ(login->password, "hunter2hunter2");
  absl::StatusOr<Command> password = ParseCommand("/password oldpassword newpassword");
  ASSERT_TRUE(password.ok());
  EXPECT_EQ(password->password, "oldpassword");
  EXPECT_EQ(password->new_password, "newpassword");
  absl::StatusOr<Command> join = ParseCommand("/join Lounge s3cret since=5");
  ASSERT_TRUE(join.ok());
  EXPECT_EQ(join->key, "s3cret");
  EXPECT_EQ(join->since_id, 5u);
  absl::StatusOr<Command> create = ParseCommand("/create Lounge s3cret");
  ASSERT_TRUE(create.ok());
  EXPECT_EQ(create->key, "s3cret");
  absl::StatusOr<Command> kick = ParseCommand("/kick bob  stop  that");
  ASSERT_TRUE(kick.ok());
  EXPECT_EQ(kick->name, "bob");
  EXPECT_EQ(kick->text, "stop  that");
  EXPECT_EQ(ParseCommand("/kick bob")->text, "");
  EXPECT_EQ(ParseCommand("/key -")->key, "-");
  EXPECT_EQ(ParseCommand("/unban ::1")->text, "::1");
  EXPECT_EQ(ParseCommand("/topic  hello world ")->text, "hello world");
  for (absl::string_view bad :
       {"/register short", "/register two words here", "/login alice", "/login alice short",
        "/password onlyoneword", "/key since=5", "/key two words", "/join Lounge - ",
        "/join Lounge k1 k2", "/create Lounge since=3", "/unban", "/bans now", "/logout me"}) {
    EXPECT_TRUE(HasErrorCode(ParseCommand(bad).status(), ErrorCode::kBadArgs)) << bad;
  }
  // No error message repeats a password.
  absl::Status short_password = ParseCommand("/login alice pw7char").status();
  EXPECT_EQ(ErrLine(short_password).find("pw7char"), std::string::npos);
  std::string long_topic = "/topic " + std::string(kMaxTopicBytes + 1, 'x');
  EXPECT_TRUE(HasErrorCode(ParseCommand(long_topic).status(), ErrorCode::kBadArgs));
}

}  // namespace
}  // namespace roomchat
