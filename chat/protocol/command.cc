#include "chat/protocol/command.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {
namespace {

using Kind = Command::Kind;

// What a command word takes after it.
enum class Shape {
  kNothing,       // no arguments
  kName,          // exactly one name
  kOptionalName,  // zero or one name
  kNameAndText,   // a name, then free text
  kNameAndOptionalText,  // a name, then optionally free text
  kAnyText,       // optional free text
  kJoin,          // a room name, then optionally since=ID
  kCap,           // nothing, or "req" and one or more names
  kHistory,       // optionally a count, then optionally before=ID
  kCreate,        // a room name, then optionally a key
  kPasswords,     // `secrets` passwords (the first after a nick for kLogin)
  kKey,           // one key, or "-"
  kWord,          // one word, not a name (/unban takes nicks and addresses)
};

struct Spec {
  absl::string_view word;     // as typed after '/', matched case-insensitively
  absl::string_view ok_word;  // the command field of the OK reply; empty when answered otherwise
  Kind kind;
  Shape shape;
  absl::string_view name_kind;  // "nick" or "room", for name errors
  absl::string_view usage;
};

constexpr Spec kSpecs[] = {
    {"nick", "NICK", Kind::kNick, Shape::kName, "nick", "/nick NAME"},
    {"create", "CREATE", Kind::kCreate, Shape::kCreate, "room", "/create ROOM"},
    {"join", "JOIN", Kind::kJoin, Shape::kJoin, "room", "/join ROOM"},
    {"leave", "LEAVE", Kind::kLeave, Shape::kNothing, "", "/leave"},
    {"rooms", "ROOMS", Kind::kRooms, Shape::kNothing, "", "/rooms"},
    {"who", "WHO", Kind::kWho, Shape::kOptionalName, "room", "/who [ROOM]"},
    {"whoami", "WHOAMI", Kind::kWhoami, Shape::kNothing, "", "/whoami"},
    {"msg", "MSG", Kind::kMsg, Shape::kNameAndText, "nick", "/msg NICK TEXT"},
    {"ping", "", Kind::kPing, Shape::kAnyText, "", "/ping [TOKEN]"},
    {"help", "HELP", Kind::kHelp, Shape::kNothing, "", "/help"},
    {"quit", "", Kind::kQuit, Shape::kAnyText, "", "/quit"},
    {"cap", "CAP", Kind::kCap, Shape::kCap, "", "/cap [req NAME...]"},
    {"history", "HISTORY", Kind::kHistory, Shape::kHistory, "", "/history [N] [before=ID]"},
    {"register", "REGISTER", Kind::kRegister, Shape::kPasswords, "", "/register PASSWORD"},
    {"login", "LOGIN", Kind::kLogin, Shape::kPasswords, "nick", "/login NICK PASSWORD"},
    {"password", "PASSWORD", Kind::kPassword, Shape::kPasswords, "", "/password OLD NEW"},
    {"logout", "LOGOUT", Kind::kLogout, Shape::kNothing, "", "/logout"},
    {"op", "OP", Kind::kOp, Shape::kName, "nick", "/op NICK"},
    {"deop", "DEOP", Kind::kDeop, Shape::kName, "nick", "/deop NICK"},
    {"kick", "KICK", Kind::kKick, Shape::kNameAndOptionalText, "nick", "/kick NICK [REASON]"},
    {"ban", "BAN", Kind::kBan, Shape::kName, "nick", "/ban NICK"},
    {"unban", "UNBAN", Kind::kUnban, Shape::kWord, "", "/unban NICK-OR-ADDRESS"},
    {"bans", "BANS", Kind::kBans, Shape::kNothing, "", "/bans"},
    {"topic", "TOPIC", Kind::kTopic, Shape::kAnyText, "", "/topic [TEXT]"},
    {"key", "KEY", Kind::kKey, Shape::kKey, "", "/key SECRET|-"},
};

const Spec* FindSpec(Kind kind) {
  for (const Spec& spec : kSpecs) {
    if (spec.kind == kind) return &spec;
  }
  return nullptr;
}

absl::Status BadArgs(const Spec& spec) {
  return ProtocolError(ErrorCode::kBadArgs, absl::StrCat("usage: ", spec.usage));
}

// Splits off the first space-separated word of `*rest`, leaving the remainder without leading
// spaces.
absl::string_view TakeWord(absl::string_view* rest) {
  size_t end = rest->find(' ');
  absl::string_view word = rest->substr(0, end);
  rest->remove_prefix(end == absl::string_view::npos ? rest->size() : end);
  while (!rest->empty() && rest->front() == ' ') rest->remove_prefix(1);
  return word;
}

// "KEY=ID" with a positive id (below 2^63).
bool ParseIdOption(absl::string_view word, absl::string_view key, uint64_t* id) {
  if (!absl::ConsumePrefix(&word, key) || !absl::ConsumePrefix(&word, "=")) return false;
  return !word.empty() && word.size() <= 18 && absl::c_all_of(word, absl::ascii_isdigit) &&
         absl::SimpleAtoi(word, id) && *id > 0;
}

absl::StatusOr<Command> ParseCap(const Spec& spec, absl::string_view args, Command command) {
  if (args.empty()) return command;
  if (!absl::EqualsIgnoreCase(TakeWord(&args), "req") || args.empty()) return BadArgs(spec);
  command.cap_request = true;
  while (!args.empty()) command.caps.emplace_back(TakeWord(&args));
  return command;
}

absl::StatusOr<Command> ParseHistory(const Spec& spec, absl::string_view args, Command command) {
  absl::string_view word = TakeWord(&args);
  if (!word.empty() && absl::c_all_of(word, absl::ascii_isdigit)) {
    if (word.size() > 9 || !absl::SimpleAtoi(word, &command.count) || command.count == 0) {
      return BadArgs(spec);
    }
    word = TakeWord(&args);
  }
  if (!word.empty() && !ParseIdOption(word, "before", &command.before_id)) return BadArgs(spec);
  if (!args.empty()) return BadArgs(spec);
  return command;
}

// A key: 1 to kMaxKeyBytes bytes (a word, so no spaces), not "-" and not "since=...", which
// would read as something else.
bool IsKey(absl::string_view word) {
  return !word.empty() && word.size() <= kMaxKeyBytes && word != "-" &&
         !absl::StartsWith(word, "since=");
}

bool IsPassword(absl::string_view word) {
  return word.size() >= kMinPasswordBytes && word.size() <= kMaxPasswordBytes;
}

// After the room of /join: [KEY] [since=ID].
absl::Status ParseJoinOptions(const Spec& spec, absl::string_view args, Command& command) {
  absl::string_view word = TakeWord(&args);
  if (!word.empty() && !ParseIdOption(word, "since", &command.since_id)) {
    if (!IsKey(word)) return BadArgs(spec);
    command.key = std::string(word);
    word = TakeWord(&args);
    if (!word.empty() && !ParseIdOption(word, "since", &command.since_id)) return BadArgs(spec);
  }
  if (!args.empty()) return BadArgs(spec);
  return absl::OkStatus();
}

// /register PASSWORD, /login NICK PASSWORD, /password OLD NEW. The usage never shows what was
// typed, so no error echoes a password.
absl::StatusOr<Command> ParsePasswords(const Spec& spec, absl::string_view args, Command command) {
  if (spec.kind == Kind::kLogin) {
    absl::string_view nick = TakeWord(&args);
    if (nick.empty()) return BadArgs(spec);
    if (absl::Status valid = ValidateName(spec.name_kind, nick); !valid.ok()) return valid;
    command.name = std::string(nick);
  }
  command.password = std::string(TakeWord(&args));
  if (spec.kind == Kind::kPassword) command.new_password = std::string(TakeWord(&args));
  if (!args.empty() || !IsPassword(command.password) ||
      (spec.kind == Kind::kPassword && !IsPassword(command.new_password))) {
    return ProtocolError(ErrorCode::kBadArgs,
                         absl::StrCat("usage: ", spec.usage, " (a password is ", kMinPasswordBytes,
                                      "-", kMaxPasswordBytes, " bytes without spaces)"));
  }
  return command;
}

absl::StatusOr<Command> ParseOneWord(const Spec& spec, absl::string_view args, Command command) {
  absl::string_view word = TakeWord(&args);
  if (word.empty() || !args.empty()) return BadArgs(spec);
  if (spec.shape == Shape::kKey) {
    if (word != "-" && !IsKey(word)) {
      return ProtocolError(ErrorCode::kBadArgs,
                           absl::StrCat("usage: ", spec.usage, " (a key is 1-", kMaxKeyBytes,
                                        " bytes without spaces, not starting with since=)"));
    }
    command.key = std::string(word);
  } else {
    command.text = std::string(word);
  }
  return command;
}

absl::StatusOr<Command> ParseText(const Spec& spec, absl::string_view args, Command command) {
  command.text = std::string(absl::StripTrailingAsciiWhitespace(args));
  if (spec.kind == Kind::kTopic && command.text.size() > kMaxTopicBytes) {
    return ProtocolError(ErrorCode::kBadArgs,
                         absl::StrCat("a topic is at most ", kMaxTopicBytes, " bytes"));
  }
  return command;
}

// The shapes that start with a name: the name, then what follows it.
absl::StatusOr<Command> ParseNamed(const Spec& spec, absl::string_view args, Command command) {
  absl::string_view name = TakeWord(&args);
  if (name.empty() && spec.shape == Shape::kOptionalName) return command;
  if (name.empty()) return BadArgs(spec);
  if (spec.shape == Shape::kNameAndText || spec.shape == Shape::kNameAndOptionalText) {
    if (args.empty() && spec.shape == Shape::kNameAndText) return BadArgs(spec);
    command.text = std::string(args);
  } else if (spec.shape == Shape::kJoin) {
    if (absl::Status options = ParseJoinOptions(spec, args, command); !options.ok()) {
      return options;
    }
  } else if (spec.shape == Shape::kCreate && !args.empty()) {
    absl::string_view key = TakeWord(&args);
    if (!IsKey(key) || !args.empty()) return BadArgs(spec);
    command.key = std::string(key);
  } else if (!args.empty()) {
    return BadArgs(spec);
  }
  absl::Status valid = ValidateName(spec.name_kind, name);
  if (!valid.ok()) return valid;
  command.name = std::string(name);
  return command;
}

absl::StatusOr<Command> ParseArguments(const Spec& spec, absl::string_view args) {
  Command command{spec.kind, "", ""};
  switch (spec.shape) {
    case Shape::kCap: return ParseCap(spec, args, std::move(command));
    case Shape::kHistory: return ParseHistory(spec, args, std::move(command));
    case Shape::kPasswords: return ParsePasswords(spec, args, std::move(command));
    case Shape::kKey:
    case Shape::kWord: return ParseOneWord(spec, args, std::move(command));
    case Shape::kAnyText: return ParseText(spec, args, std::move(command));
    case Shape::kNothing:
      if (!args.empty()) return BadArgs(spec);
      return command;
    case Shape::kName:
    case Shape::kJoin:
    case Shape::kCreate:
    case Shape::kOptionalName:
    case Shape::kNameAndText:
    case Shape::kNameAndOptionalText: break;
  }
  return ParseNamed(spec, args, std::move(command));
}

}  // namespace

absl::StatusOr<Command> ParseCommand(absl::string_view line) {
  if (!absl::StartsWith(line, "/")) return Command{Kind::kChat, "", std::string(line)};
  if (absl::StartsWith(line, "//")) return Command{Kind::kChat, "", std::string(line.substr(1))};

  // The command word ends at a space or a TAB; only spaces separate arguments.
  absl::string_view rest = line.substr(1);
  size_t end = std::min(rest.find_first_of(" \t"), rest.size());
  absl::string_view word = rest.substr(0, end);
  bool tab_after_word = end < rest.size() && rest[end] == '\t';
  rest.remove_prefix(end);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  for (const Spec& spec : kSpecs) {
    if (!absl::EqualsIgnoreCase(word, spec.word)) continue;
    if (tab_after_word) return BadArgs(spec);
    return ParseArguments(spec, rest);
  }
  return ProtocolError(ErrorCode::kUnknownCommand,
                       absl::StrCat("no command /", word, "; /help lists them"));
}

absl::string_view CommandWord(Command::Kind kind) {
  const Spec* spec = FindSpec(kind);
  return spec == nullptr ? absl::string_view() : spec->word;
}

absl::string_view OkWord(Command::Kind kind) {
  const Spec* spec = FindSpec(kind);
  return spec == nullptr ? absl::string_view() : spec->ok_word;
}

absl::string_view CommandUsage(Command::Kind kind) {
  const Spec* spec = FindSpec(kind);
  return spec == nullptr ? absl::string_view() : spec->usage;
}

std::string FormatCommand(Command::Kind kind, absl::Span<const absl::string_view> args) {
  const Spec* spec = FindSpec(kind);
  if (spec == nullptr) return FormatChatLine(absl::StrJoin(args, " "));
  if (args.empty()) return absl::StrCat("/", spec->word, "\n");
  return absl::StrCat("/", spec->word, " ", absl::StrJoin(args, " "), "\n");
}

std::string FormatChatLine(absl::string_view text) {
  if (absl::StartsWith(text, "/")) return absl::StrCat("/", text, "\n");
  return absl::StrCat(text, "\n");
}

}  // namespace roomchat
