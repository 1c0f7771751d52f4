#include "chat/protocol/command.h"

#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

using Kind = Command::Kind;

Command Parse(absl::string_view line) {
  absl::StatusOr<Command> command = ParseCommand(line);
  EXPECT_TRUE(command.ok()) << line << ": " << command.status();
  return command.ok() ? *command : Command{Kind::kQuit, "<error>", "<error>"};
}

std::string ErrorOf(absl::string_view line) {
  absl::StatusOr<Command> command = ParseCommand(line);
  if (command.ok()) return "<ok>";
  std::string err = ErrLine(command.status());
  return err.substr(0, err.find(' ', 4));  // "ERR <code>"
}

TEST(CommandTest, PlainTextIsChat) {
  Command command = Parse("hello there");
  EXPECT_EQ(command.kind, Kind::kChat);
  EXPECT_EQ(command.text, "hello there");
}

TEST(CommandTest, DoubleSlashIsChatWithOneSlashRemoved) {
  Command command = Parse("//nick is a command");
  EXPECT_EQ(command.kind, Kind::kChat);
  EXPECT_EQ(command.text, "/nick is a command");
}

TEST(CommandTest, CommandWordsAreCaseInsensitive) {
  EXPECT_EQ(Parse("/NICK alice").kind, Kind::kNick);
  EXPECT_EQ(Parse("/Create Lounge").name, "Lounge");
  EXPECT_EQ(Parse("/rOoMs").kind, Kind::kRooms);
}

TEST(CommandTest, ParsesEveryCommand) {
  EXPECT_EQ(Parse("/join lounge").kind, Kind::kJoin);
  EXPECT_EQ(Parse("/leave").kind, Kind::kLeave);
  EXPECT_EQ(Parse("/who").name, "");
  EXPECT_EQ(Parse("/who lounge").name, "lounge");
  EXPECT_EQ(Parse("/whoami").kind, Kind::kWhoami);
  EXPECT_EQ(Parse("/help").kind, Kind::kHelp);
  EXPECT_EQ(Parse("/quit").kind, Kind::kQuit);
  EXPECT_EQ(Parse("/quit see you").kind, Kind::kQuit);
  EXPECT_EQ(Parse("/ping").text, "");
  EXPECT_EQ(Parse("/ping abc 123").text, "abc 123");
}

TEST(CommandTest, MsgKeepsTheTextAsTyped) {
  Command command = Parse("/msg bob   hi  there ");
  EXPECT_EQ(command.kind, Kind::kMsg);
  EXPECT_EQ(command.name, "bob");
  EXPECT_EQ(command.text, "hi  there ");
}

TEST(CommandTest, ToleratesExtraSpacesBetweenWords) {
  EXPECT_EQ(Parse("/nick   alice").name, "alice");
  EXPECT_EQ(Parse("/join lounge  ").name, "lounge");
}

TEST(CommandTest, ReportsUnknownCommands) {
  EXPECT_EQ(ErrorOf("/frobnicate"), "ERR unknown-command");
  EXPECT_EQ(ErrorOf("/"), "ERR unknown-command");
}

TEST(CommandTest, ReportsWrongArguments) {
  EXPECT_EQ(ErrorOf("/nick"), "ERR bad-args");
  EXPECT_EQ(ErrorOf("/nick a b"), "ERR bad-args");
  EXPECT_EQ(ErrorOf("/create"), "ERR bad-args");
  EXPECT_EQ(ErrorOf("/join"), "ERR bad-args");
  EXPECT_EQ(ErrorOf("/leave now"), "ERR bad-args");
  EXPECT_EQ(ErrorOf("/rooms all"), "ERR bad-args");
  EXPECT_EQ(ErrorOf("/who a b"), "ERR bad-args");
  EXPECT_EQ(ErrorOf("/msg bob"), "ERR bad-args");
  EXPECT_EQ(ErrorOf("/msg"), "ERR bad-args");
  EXPECT_EQ(ErrorOf("/help me"), "ERR bad-args");
}

TEST(CommandTest, ReportsBadNames) {
  EXPECT_EQ(ErrorOf("/nick _alice"), "ERR bad-name");
  EXPECT_EQ(ErrorOf("/create caf\xc3\xa9"), "ERR bad-name");
  EXPECT_EQ(ErrorOf("/join a/b"), "ERR bad-name");
  EXPECT_EQ(ErrorOf("/msg bad!nick hi"), "ERR bad-name");
  EXPECT_EQ(ErrorOf("/who " + std::string(33, 'r')), "ERR bad-name");
}

// The whole ERR line for `line`, without its LF.
std::string ErrLineOf(absl::string_view line) {
  absl::StatusOr<Command> command = ParseCommand(line);
  if (command.ok()) return "<ok>";
  std::string err = ErrLine(command.status());
  return err.substr(0, err.size() - 1);
}

TEST(CommandTest, ATabEndsTheCommandWordButDoesNotSeparateArguments) {
  EXPECT_EQ(ErrLineOf("/join\tlounge"), "ERR bad-args usage: /join ROOM");
  EXPECT_EQ(ErrLineOf("/MSG\tbob hi"), "ERR bad-args usage: /msg NICK TEXT");
  EXPECT_EQ(ErrLineOf("/leave\t"), "ERR bad-args usage: /leave");
  EXPECT_EQ(ErrLineOf("/frob\tnicate x"), "ERR unknown-command no command /frob; /help lists them");
  EXPECT_EQ(ErrLineOf("/join lounge\tx"), "ERR bad-name room may only use A-Z a-z 0-9 _ - .");
  EXPECT_EQ(Parse("/msg bob a\tb").text, "a\tb");
}

TEST(CommandTest, NameErrorsSayTheRulesAreAscii) {
  EXPECT_EQ(ErrLineOf("/nick \xc3\x89mile"),
            "ERR bad-name nick must start with an ASCII letter or digit");
  EXPECT_EQ(ErrLineOf("/create caf\xc3\xa9"), "ERR bad-name room may only use A-Z a-z 0-9 _ - .");
}

TEST(FormatCommandTest, BuildsLinesFromTheCommandWords) {
  EXPECT_EQ(FormatCommand(Kind::kJoin, {"lounge"}), "/join lounge\n");
  EXPECT_EQ(FormatCommand(Kind::kMsg, {"bob", "hi there"}), "/msg bob hi there\n");
  EXPECT_EQ(FormatCommand(Kind::kQuit), "/quit\n");
  EXPECT_EQ(CommandWord(Kind::kWhoami), "whoami");
  EXPECT_EQ(OkWord(Kind::kWhoami), "WHOAMI");
  EXPECT_EQ(OkWord(Kind::kPing), "");
  EXPECT_EQ(CommandWord(Kind::kChat), "");
}

TEST(FormatCommandTest, EscapesChatThatLooksLikeACommand) {
  EXPECT_EQ(FormatChatLine("hello"), "hello\n");
  EXPECT_EQ(FormatChatLine("/shrug"), "//shrug\n");
  EXPECT_EQ(FormatCommand(Kind::kChat, {"/me", "waves"}), "//me waves\n");
}

}  // namespace
}  // namespace roomchat
