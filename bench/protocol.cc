#include "bench/protocol.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/websocket_framing.h"
#include "chat/client/session.h"
#include "chat/protocol/server_event.h"
#include "chat/protocol/words.h"

namespace roomchat {
namespace {

// Splits off one line ending in LF (a CR before it dropped); false if there is no complete line.
bool TakeLine(absl::string_view* bytes, absl::string_view* line) {
  size_t newline = bytes->find('\n');
  if (newline == absl::string_view::npos) return false;
  *line = bytes->substr(0, newline);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  bytes->remove_prefix(newline + 1);
  return true;
}

// roomchat: the client library's Session does the join-or-create dance.
class RoomchatConnection : public ProtocolConnection {
 public:
  explicit RoomchatConnection(const Options& options)
      : room_(options.room),
        session_("", options.room),
        prefix_(absl::StrCat(words::kMsg, " ", room_, " ")) {}

  std::string Hello() override { return ""; }

  size_t Consume(absl::string_view bytes, Sink& sink) override {
    size_t start = bytes.size();
    absl::string_view line;
    while (TakeLine(&bytes, &line)) {
      // The hot path: "MSG <room> <nick> <payload>".
      if (absl::StartsWith(line, prefix_)) {
        line.remove_prefix(prefix_.size());
        size_t space = line.find(' ');
        if (space != absl::string_view::npos) sink.OnMessage(line.substr(space + 1));
        continue;
      }
      HandleControl(line, sink);
    }
    return start - bytes.size();
  }

  void AppendMessage(absl::string_view payload, std::string* out) override {
    out->append(payload.data(), payload.size());
    out->push_back('\n');
  }

 private:
  void HandleControl(absl::string_view line, Sink& sink) {
    absl::StatusOr<ServerEvent> event = ParseServerLine(line);
    if (!event.ok()) return;
    bool was_done = session_.setup_done();
    client::Session::Reaction reaction = session_.OnEvent(*event);
    if (!reaction.send.empty()) sink.Send(reaction.send);
    using Kind = ServerEvent::Kind;
    if (event->kind == Kind::kBye || (event->kind == Kind::kErr && !reaction.quiet)) {
      sink.OnRefused(line);
      return;
    }
    if (!was_done && session_.setup_done() && !session_.room().empty()) sink.OnReady();
  }

  const std::string room_;
  client::Session session_;
  const std::string prefix_;
};

// Redis: RESP arrays of bulk strings, integers and errors.
class RespConnection : public ProtocolConnection {
 public:
  explicit RespConnection(const Options& options)
      : room_(options.room), publisher_(options.publisher) {}

  std::string Hello() override {
    // A publisher is ready once the server answers a PING.
    if (publisher_) return "*1\r\n$4\r\nPING\r\n";
    return absl::StrCat("*2\r\n$9\r\nSUBSCRIBE\r\n$", room_.size(), "\r\n", room_, "\r\n");
  }

  size_t Consume(absl::string_view bytes, Sink& sink) override {
    size_t consumed = 0;
    while (true) {
      absl::string_view rest = bytes.substr(consumed);
      absl::string_view element[3];
      size_t used = ParseOne(rest, element, sink);
      if (used == 0) return consumed;
      consumed += used;
    }
  }

  void AppendMessage(absl::string_view payload, std::string* out) override {
    absl::StrAppend(out, "*3\r\n$7\r\nPUBLISH\r\n$", room_.size(), "\r\n", room_, "\r\n$",
                    payload.size(), "\r\n");
    out->append(payload.data(), payload.size());
    out->append("\r\n");
  }

 private:
  // One reply or push from the start of `bytes`: the bytes it took, 0 if incomplete.
  size_t ParseOne(absl::string_view bytes, absl::string_view* element, Sink& sink) {
    absl::string_view rest = bytes;
    absl::string_view line;
    if (!TakeLine(&rest, &line) || line.empty()) return 0;
    switch (line[0]) {
      case '+':
        if (publisher_ && !ready_sent_) {
          ready_sent_ = true;
          sink.OnReady();
        }
        return bytes.size() - rest.size();
      case ':': return bytes.size() - rest.size();
      case '-': sink.OnRefused(line); return bytes.size() - rest.size();
      case '*': break;
      default:
        sink.OnRefused(absl::StrCat("unexpected reply: ", line.substr(0, 40)));
        return bytes.size() - rest.size();
    }
    int count = 0;
    if (!absl::SimpleAtoi(line.substr(1), &count) || count < 0 || count > 3) {
      sink.OnRefused("unexpected array");
      return bytes.size() - rest.size();
    }
    for (int i = 0; i < count; ++i) {
      if (!TakeLine(&rest, &line) || line.empty()) return 0;
      if (line[0] == ':') {
        element[i] = line.substr(1);
        continue;
      }
      size_t length = 0;
      if (line[0] != '$' || !absl::SimpleAtoi(line.substr(1), &length)) return 0;
      if (rest.size() < length + 2) return 0;
      element[i] = rest.substr(0, length);
      rest.remove_prefix(length + 2);
    }
    if (count == 3 && element[0] == "message") {
      sink.OnMessage(element[2]);
    } else if (count == 3 && element[0] == "subscribe" && !ready_sent_) {
      ready_sent_ = true;
      sink.OnReady();
    }
    return bytes.size() - rest.size();
  }

  const std::string room_;
  const bool publisher_;
  bool ready_sent_ = false;
};

// IRC (RFC 2812): registration, JOIN, PRIVMSG, PING/PONG.
class IrcConnection : public ProtocolConnection {
 public:
  explicit IrcConnection(const Options& options)
      : nick_(absl::StrCat("b", options.member)),
        channel_(absl::StrCat("#", options.room)),
        oper_(options.irc_oper),
        privmsg_(absl::StrCat(" PRIVMSG ", channel_, " :")) {}

  std::string Hello() override {
    return absl::StrCat("NICK ", nick_, "\r\nUSER ", nick_, " 0 * :roomchat bench\r\n");
  }

  size_t Consume(absl::string_view bytes, Sink& sink) override {
    size_t start = bytes.size();
    absl::string_view line;
    while (TakeLine(&bytes, &line)) {
      size_t at = line.find(privmsg_);
      if (!line.empty() && line[0] == ':' && at != absl::string_view::npos) {
        sink.OnMessage(line.substr(at + privmsg_.size()));
        continue;
      }
      HandleControl(line, sink);
    }
    return start - bytes.size();
  }

  void AppendMessage(absl::string_view payload, std::string* out) override {
    absl::StrAppend(out, "PRIVMSG ", channel_, " :");
    out->append(payload.data(), payload.size());
    out->append("\r\n");
  }

 private:
  void HandleControl(absl::string_view line, Sink& sink) {
    if (absl::StartsWith(line, "PING")) {
      sink.Send(absl::StrCat("PONG", line.substr(4), "\r\n"));
      return;
    }
    if (absl::StartsWith(line, "ERROR")) {
      sink.OnRefused(line);
      return;
    }
    // ":server 001 nick :Welcome" and other numerics.
    std::vector<absl::string_view> words = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    if (words.size() < 2) return;
    absl::string_view command = words[1];
    if (command == "001") {
      std::string next;
      if (!oper_.empty()) {
        size_t colon = oper_.find(':');
        absl::StrAppend(&next, "OPER ", oper_.substr(0, colon), " ", oper_.substr(colon + 1),
                        "\r\nMODE ", nick_, " +F\r\n");
      }
      absl::StrAppend(&next, "JOIN ", channel_, "\r\n");
      sink.Send(next);
    } else if (command == "366" && !ready_sent_) {  // end of NAMES: the JOIN is complete
      ready_sent_ = true;
      sink.OnReady();
    } else if (command.size() == 3 && (command[0] == '4' || command[0] == '5')) {
      sink.OnRefused(line);
    }
  }

  const std::string nick_;
  const std::string channel_;
  const std::string oper_;
  const std::string privmsg_;
  bool ready_sent_ = false;
};

}  // namespace

absl::StatusOr<Proto> ParseProto(absl::string_view name) {
  if (name == "line") return Proto::kLine;
  if (name == "ws") return Proto::kWs;
  if (name == "resp") return Proto::kResp;
  if (name == "irc") return Proto::kIrc;
  return absl::InvalidArgumentError(
      absl::StrCat("--proto must be line, ws, resp or irc, not '", name, "'"));
}

std::unique_ptr<ProtocolConnection> ProtocolConnection::Create(const Options& options) {
  switch (options.proto) {
    case Proto::kLine: return std::make_unique<RoomchatConnection>(options);
    case Proto::kWs:
      return WrapInWebSocket(std::make_unique<RoomchatConnection>(options), options.http_host,
                             options.member);
    case Proto::kResp: return std::make_unique<RespConnection>(options);
    case Proto::kIrc: return std::make_unique<IrcConnection>(options);
  }
  return nullptr;
}

}  // namespace roomchat
