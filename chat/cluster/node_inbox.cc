#include "chat/cluster/node_inbox.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace roomchat {
namespace cluster {
namespace {

constexpr size_t kInboxMaxEntries = 10000;

// "<incarnation> <client> <line>", as the inbox stores it, under `id`, after `prev`.
absl::StatusOr<NodeMessage> ParseStoredMessage(const InboxId& id, absl::string_view prev,
                                               absl::string_view stored) {
  std::vector<absl::string_view> parts = absl::StrSplit(stored, absl::MaxSplits(' ', 2));
  NodeMessage message;
  std::optional<InboxId> prev_id = ParseInboxId(prev);
  if (!prev_id || parts.size() != 3 || parts[0].empty() ||
      !absl::SimpleAtoi(parts[1], &message.client)) {
    return absl::InvalidArgumentError("node message: malformed");
  }
  message.id = id;
  message.prev = *prev_id;
  message.incarnation = std::string(parts[0]);
  message.line = std::string(parts[2]);
  return message;
}

}  // namespace

std::string InboxKey(absl::string_view node) { return absl::StrCat("rc:inbox:", node); }

InboxLimits InboxLimitsFor(std::chrono::milliseconds node_ttl) {
  return {2 * node_ttl, kInboxMaxEntries};
}

std::optional<InboxId> ParseInboxId(absl::string_view text) {
  if (text.find_first_not_of("0123456789-") != absl::string_view::npos) return std::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits('-', 1));
  InboxId id;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &id.ms) ||
      !absl::SimpleAtoi(parts[1], &id.seq)) {
    return std::nullopt;
  }
  return id;
}

std::string FormatInboxId(const InboxId& id) { return absl::StrCat(id.ms, "-", id.seq); }

absl::StatusOr<NodeMessage> ParsePublishedMessage(absl::string_view payload) {
  std::vector<absl::string_view> parts = absl::StrSplit(payload, absl::MaxSplits(' ', 2));
  std::optional<InboxId> id = parts.size() == 3 ? ParseInboxId(parts[0]) : std::nullopt;
  if (!id) return absl::InvalidArgumentError("node message: no id");
  return ParseStoredMessage(*id, parts[1], parts[2]);
}

std::vector<std::string> InboxAfterCommand(absl::string_view node,
                                           const std::optional<InboxId>& after, size_t max) {
  return {"XRANGE", InboxKey(node), after ? absl::StrCat("(", FormatInboxId(*after)) : "-", "+",
          "COUNT", absl::StrCat(max)};
}

absl::StatusOr<InboxPage> ParseInboxReply(const absl::StatusOr<RedisReply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kArray) {
    return absl::InternalError(absl::StrCat("XRANGE answered ", reply->str));
  }
  InboxPage page;
  page.entries = reply->elements.size();
  for (const RedisReply& item : reply->elements) {
    // [stream id, ["p", prev, "m", message]]
    std::optional<InboxId> id =
        item.elements.empty() ? std::nullopt : ParseInboxId(item.elements[0].str);
    if (!id) continue;
    page.last = id;
    if (item.elements.size() != 2 || item.elements[1].elements.size() != 4) continue;
    const std::vector<RedisReply>& fields = item.elements[1].elements;
    absl::StatusOr<NodeMessage> message = ParseStoredMessage(*id, fields[1].str, fields[3].str);
    if (message.ok()) page.messages.push_back(*std::move(message));
  }
  return page;
}

}  // namespace cluster
}  // namespace roomchat
