#include "chat/protocol/server_event.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "chat/protocol/words.h"

namespace roomchat {
namespace {

using Kind = ServerEvent::Kind;

// Splits `rest` into `words` space-separated fields, the last taking whatever remains (which may
// hold spaces). Fails when there are fewer.
absl::Status SplitFields(absl::string_view tag, absl::string_view rest, size_t words,
                         bool last_may_be_empty, std::vector<std::string>* fields) {
  for (size_t i = 0; i + 1 < words; ++i) {
    size_t space = rest.find(' ');
    if (space == absl::string_view::npos || space == 0) {
      return absl::InvalidArgumentError(absl::StrCat(tag, " needs ", words, " fields"));
    }
    fields->emplace_back(rest.substr(0, space));
    rest.remove_prefix(space + 1);
  }
  if (rest.empty() && !last_may_be_empty) {
    return absl::InvalidArgumentError(absl::StrCat(tag, " needs ", words, " fields"));
  }
  fields->emplace_back(rest);
  return absl::OkStatus();
}

// How the kinds that are only space-separated fields lay them out: `count` fields (the last may be
// empty text when `last_may_be_empty`), stored in order into `into`.
struct Layout {
  size_t count;
  bool last_may_be_empty;
  std::string ServerEvent::*into[4];
};

std::optional<Layout> LayoutOf(Kind kind) {
  using E = ServerEvent;
  switch (kind) {
    case Kind::kWelcome: return Layout{2, true, {&E::nick, &E::text}};
    case Kind::kErr: return Layout{2, true, {&E::code, &E::text}};
    case Kind::kMsg: return Layout{3, true, {&E::room, &E::nick, &E::text}};
    case Kind::kPriv: return Layout{2, true, {&E::nick, &E::text}};
    case Kind::kJoin:
    case Kind::kLeave: return Layout{2, false, {&E::room, &E::nick}};
    case Kind::kNick: return Layout{2, false, {&E::nick, &E::new_nick}};
    case Kind::kRenamed: return Layout{3, false, {&E::nick, &E::new_nick, &E::text}};
    case Kind::kOp:
    case Kind::kDeop: return Layout{3, false, {&E::room, &E::nick, &E::by}};
    case Kind::kKicked: return Layout{3, false, {&E::room, &E::by, &E::text}};
    case Kind::kKick: return Layout{4, false, {&E::room, &E::nick, &E::by, &E::text}};
    case Kind::kBan: return Layout{4, false, {&E::room, &E::code, &E::nick, &E::by}};
    default: return std::nullopt;
  }
}

absl::Status ParseFields(absl::string_view tag, absl::string_view rest, ServerEvent* event) {
  std::vector<std::string> f;
  if (std::optional<Layout> layout = LayoutOf(event->kind)) {
    absl::Status split = SplitFields(tag, rest, layout->count, layout->last_may_be_empty, &f);
    if (!split.ok()) return split;
    for (size_t i = 0; i < layout->count; ++i) event->*(layout->into[i]) = std::move(f[i]);
    return absl::OkStatus();
  }
  switch (event->kind) {
    case Kind::kRoom:
      if (absl::Status split = SplitFields(tag, rest, 2, false, &f); !split.ok()) return split;
      event->room = f[0];
      if (!absl::SimpleAtoi(f[1], &event->count) || event->count < 0) {
        return absl::InvalidArgumentError(absl::StrCat(tag, " count is not a number"));
      }
      return absl::OkStatus();
    case Kind::kMember:
      if (rest.empty()) return absl::InvalidArgumentError(absl::StrCat(tag, " needs a nick"));
      event->nick = std::string(rest);
      return absl::OkStatus();
    case Kind::kOk:
      if (rest.empty()) return absl::InvalidArgumentError(absl::StrCat(tag, " needs a command"));
      for (absl::string_view word : absl::StrSplit(rest, ' ')) {
        if (event->command.empty()) {
          event->command = std::string(word);
        } else {
          event->args.emplace_back(word);
        }
      }
      return absl::OkStatus();
    case Kind::kTopic: {  // "TOPIC room by [text]": no text when the topic was cleared
      std::pair<absl::string_view, absl::string_view> room_rest =
          absl::StrSplit(rest, absl::MaxSplits(' ', 1));
      std::pair<absl::string_view, absl::string_view> by_text =
          absl::StrSplit(room_rest.second, absl::MaxSplits(' ', 1));
      if (room_rest.first.empty() || by_text.first.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(tag, " needs a room and a nick"));
      }
      event->room = std::string(room_rest.first);
      event->by = std::string(by_text.first);
      event->text = std::string(by_text.second);
      return absl::OkStatus();
    }
    case Kind::kAck:
      if (absl::Status split = SplitFields(tag, rest, 2, false, &f); !split.ok()) return split;
      event->room = f[0];
      if (!absl::SimpleAtoi(f[1], &event->id) || event->id == 0) {
        return absl::InvalidArgumentError(absl::StrCat(tag, " id is not a number"));
      }
      return absl::OkStatus();
    default:  // kPong, kHelp, kBye: the rest is the text
      event->text = std::string(rest);
      return absl::OkStatus();
  }
}

// Reads "@k=v;k=v;flag" (without the '@') into `event`.
absl::Status ParseTags(absl::string_view tags, ServerEvent* event) {
  for (absl::string_view tag : absl::StrSplit(tags, ';')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(tag, absl::MaxSplits('=', 1));
    if (kv.first == words::kTagId) {
      if (!absl::SimpleAtoi(kv.second, &event->id) || event->id == 0) {
        return absl::InvalidArgumentError("the id tag is not a number");
      }
    } else if (kv.first == words::kTagTime) {
      event->time = std::string(kv.second);
    } else if (kv.first == words::kTagHistory) {
      event->history = true;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerEvent> ParseServerLine(absl::string_view line) {
  ServerEvent event;
  if (absl::ConsumePrefix(&line, "@")) {
    size_t end = line.find(' ');
    if (end == absl::string_view::npos) return absl::InvalidArgumentError("tags without a line");
    if (absl::Status tags = ParseTags(line.substr(0, end), &event); !tags.ok()) return tags;
    line.remove_prefix(end + 1);
  }
  static constexpr std::pair<absl::string_view, Kind> kTags[] = {
      {words::kWelcome, Kind::kWelcome}, {words::kOk, Kind::kOk},     {words::kErr, Kind::kErr},
      {words::kMsg, Kind::kMsg},         {words::kPriv, Kind::kPriv}, {words::kJoin, Kind::kJoin},
      {words::kLeave, Kind::kLeave},     {words::kNick, Kind::kNick}, {words::kRoom, Kind::kRoom},
      {words::kMember, Kind::kMember},   {words::kPong, Kind::kPong}, {words::kHelp, Kind::kHelp},
      {words::kBye, Kind::kBye},         {words::kAck, Kind::kAck},
      {words::kRenamed, Kind::kRenamed}, {words::kOp, Kind::kOp},     {words::kDeop, Kind::kDeop},
      {words::kKicked, Kind::kKicked},   {words::kKick, Kind::kKick}, {words::kTopic, Kind::kTopic},
      {words::kBan, Kind::kBan},
  };
  size_t space = line.find(' ');
  absl::string_view tag = line.substr(0, space);
  absl::string_view rest = space == absl::string_view::npos ? "" : line.substr(space + 1);
  for (const auto& [name, kind] : kTags) {
    if (tag != name) continue;
    event.kind = kind;
    if (absl::Status parsed = ParseFields(tag, rest, &event); !parsed.ok()) return parsed;
    return event;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown server line: '", line.substr(0, 40), "'"));
}

}  // namespace roomchat
