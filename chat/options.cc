#include "chat/options.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "chat/protocol/names.h"
#include "chat/protocol/replies.h"

namespace roomchat {
namespace {

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

std::optional<HistorySync> ParseHistorySync(absl::string_view name) {
  if (name == "full") return HistorySync::kFull;
  if (name == "normal") return HistorySync::kNormal;
  if (name == "off") return HistorySync::kOff;
  return std::nullopt;
}

absl::Status ValidateTls(const ServerOptions& options) {
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return Invalid("--tls_cert and --tls_key go together: give both (PEM files) or neither");
  }
  if (options.tls_port < -1 || options.tls_port > 65535) {
    return Invalid(absl::StrCat("--tls_port must be -1 (off) or 0-65535, not ", options.tls_port));
  }
  if (options.https_port < -1 || options.https_port > 65535) {
    return Invalid(
        absl::StrCat("--https_port must be -1 (off) or 0-65535, not ", options.https_port));
  }
  if (options.tls_handshake_timeout_s < 1) {
    return Invalid("--tls_handshake_timeout_s must be at least 1");
  }
  return absl::OkStatus();
}

absl::Status ValidateHistory(const ServerOptions& options) {
  if (options.login_first_delay_s < 1 || options.login_max_delay_s < options.login_first_delay_s) {
    return Invalid("--login_first_delay_s must be at least 1 and at most --login_max_delay_s");
  }
  if (!options.history) return absl::OkStatus();
  if (options.data_dir.empty()) return Invalid("--data_dir must not be empty");
  if (!ParseHistorySync(options.history_sync)) {
    return Invalid(absl::StrCat("--history_sync must be full, normal or off, not '",
                                options.history_sync, "'"));
  }
  if (options.history_max_lines < 1) return Invalid("--history_max_lines must be at least 1");
  if (options.history_max_days < 0) return Invalid("--history_max_days must be 0 (no limit) or more");
  if (options.history_queue_lines < 1000) {
    return Invalid("--history_queue_lines must be at least 1000");
  }
  return absl::OkStatus();
}

absl::Status ValidateLimits(const ServerOptions& options) {
  if (options.max_clients < 1) return Invalid("--max_clients must be at least 1");
  if (options.max_rooms < 1) return Invalid("--max_rooms must be at least 1");
  if (options.max_room_members < 1) return Invalid("--max_room_members must be at least 1");
  if (options.max_line_bytes < 64 || options.max_line_bytes > (1 << 20)) {
    return Invalid(
        absl::StrCat("--max_line_bytes must be 64-1048576, not ", options.max_line_bytes));
  }
  size_t least_outbuf = 2 * LargestReplyBytes(options);
  if (options.max_outbuf_bytes < least_outbuf) {
    return Invalid(absl::StrCat("--max_outbuf_bytes must be at least ", least_outbuf,
                                " (twice the largest reply these --max_line_bytes, --max_rooms "
                                "and --max_room_members allow), not ",
                                options.max_outbuf_bytes));
  }
  if (options.outbuf_soft_bytes > options.max_outbuf_bytes) {
    return Invalid(absl::StrCat("--outbuf_soft_bytes must be at most --max_outbuf_bytes (",
                                options.max_outbuf_bytes, "), not ", options.outbuf_soft_bytes));
  }
  if (options.outbuf_soft_s < 0) return Invalid("--outbuf_soft_s must be 0 or more");
  return absl::OkStatus();
}

absl::Status ValidateCluster(const ServerOptions& options) {
  if (options.node_id.find(' ') != std::string::npos) {
    return Invalid("--node_id must be one word (no spaces)");
  }
  // Node "a"'s sets in Redis are rc:node:a:nicks and rc:node:a:members: a node called "a:nicks"
  // would take the first for its own key.
  for (absl::string_view suffix : {":nicks", ":members"}) {
    if (absl::EndsWith(options.node_id, suffix)) {
      return Invalid(absl::StrCat("--node_id must not end in ", suffix,
                                  " (the name of another node's set in Redis)"));
    }
  }
  if (options.cluster_node_ttl_s < 1) return Invalid("--cluster_node_ttl_s must be at least 1");
  if (options.cluster_redis.empty()) return absl::OkStatus();
  return ParseHostPort(options.cluster_redis).status();
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> ParseHostPort(absl::string_view address) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 1 || port > 65535) {
    return Invalid(absl::StrCat("'", address, "' is not HOST:PORT (e.g. 127.0.0.1:6379)"));
  }
  return std::make_pair(std::string(address.substr(0, colon)), port);
}

absl::Status ValidateOptions(const ServerOptions& options) {
  if (options.host.empty()) return Invalid("--host must not be empty");
  if (options.port < 0 || options.port > 65535) {
    return Invalid(absl::StrCat("--port must be 0-65535, not ", options.port));
  }
  if (options.http_port < -1 || options.http_port > 65535) {
    return Invalid(
        absl::StrCat("--http_port must be -1 (off) or 0-65535, not ", options.http_port));
  }
  if (absl::Status limits = ValidateLimits(options); !limits.ok()) return limits;
  if (options.idle_timeout_s < 0) {
    return Invalid(
        absl::StrCat("--idle_timeout_s must be 0 (off) or more, not ", options.idle_timeout_s));
  }
  if (options.flood_lines_per_s < 0) {
    return Invalid(absl::StrCat("--flood_lines_per_s must be 0 (off) or more, not ",
                                options.flood_lines_per_s));
  }
  if (options.flood_lines_per_s > 0 && options.flood_burst < 1) {
    return Invalid(absl::StrCat("--flood_burst must be at least 1, not ", options.flood_burst));
  }
  if (options.flood_disconnect_after < 0) {
    return Invalid("--flood_disconnect_after must be 0 or more");
  }
  if (absl::Status tls = ValidateTls(options); !tls.ok()) return tls;
  if (absl::Status cluster = ValidateCluster(options); !cluster.ok()) return cluster;
  return ValidateHistory(options);
}

size_t HistoryReplyBytes(const ServerOptions& options) {
  const std::string longest_name(kMaxNameLength, 'n');
  const std::string longest_text(options.max_line_bytes, 't');
  size_t one_line = replies::Tags(UINT64_C(9999999999999999), 0, true).size() +
                    replies::Msg(longest_name, longest_name, longest_text).size();
  constexpr size_t kMostAtOnce = 128 * 1024;
  return std::max(one_line, std::min(kMostAtOnce, options.max_outbuf_bytes / 4));
}

HistoryStoreOptions HistoryStoreOptionsOf(const ServerOptions& options) {
  HistoryStoreOptions store;
  store.data_dir = options.data_dir;
  store.sync = *ParseHistorySync(options.history_sync);
  store.max_lines_per_room = options.history_max_lines;
  store.max_days = options.history_max_days;
  store.queue_max_lines = options.history_queue_lines;
  return store;
}

size_t LargestReplyBytes(const ServerOptions& options) {
  const std::string longest_name(kMaxNameLength, 'n');
  const std::string longest_text(options.max_line_bytes, 't');
  const std::string largest_count =
      absl::StrCat(std::max(options.max_rooms, options.max_room_members));
  size_t chat = replies::Msg(longest_name, longest_name, longest_text).size();
  size_t rooms = options.max_rooms * replies::Room(longest_name, options.max_room_members).size() +
                 replies::Ok(Command::Kind::kRooms, largest_count).size();
  size_t who = options.max_room_members * replies::Member(longest_name).size() +
               replies::Ok(Command::Kind::kWho, longest_name, largest_count).size();
  return std::max({chat, replies::Help().size(), rooms, who});
}

size_t HighWaterBytes(const ServerOptions& options) {
  size_t room_for_a_reply = options.max_outbuf_bytes - LargestReplyBytes(options);
  if (options.outbuf_soft_bytes == 0)
    return std::min(room_for_a_reply, options.max_outbuf_bytes / 2);
  return std::min(room_for_a_reply, options.outbuf_soft_bytes);
}

LoginThrottleOptions LoginThrottleOptionsOf(const ServerOptions& options, bool per_address) {
  // An address is forgotten this long after its last wait ends (docs/PROTOCOL.md).
  constexpr std::chrono::minutes kForgetAfter{10};
  // Bounds the memory an attacker cycling addresses or connections can make the throttle use.
  constexpr size_t kMaxKeys = 100000;
  return LoginThrottleOptions{per_address ? options.login_free_failures_per_address
                                          : options.login_free_failures_per_connection,
                              std::chrono::seconds(options.login_first_delay_s),
                              std::chrono::seconds(options.login_max_delay_s),
                              kForgetAfter, kMaxKeys};
}

ConnectionLimits ConnectionLimitsOf(const ServerOptions& options) {
  ConnectionLimits limits;
  limits.max_line_bytes = options.max_line_bytes;
  limits.output = {options.max_outbuf_bytes, options.outbuf_soft_bytes,
                   std::chrono::seconds(options.outbuf_soft_s), HighWaterBytes(options)};
  limits.flood = {options.flood_lines_per_s, options.flood_burst,
                  static_cast<uint64_t>(options.flood_disconnect_after)};
  return limits;
}

bool HttpsOn(const ServerOptions& options) {
  return !options.tls_cert.empty() && options.http_port >= 0 && options.https_port >= 0;
}

WebOptions WebOptionsOf(const ServerOptions& options, bool tls) {
  WebOptions web;
  web.web_root = options.web_root;
  web.tls = tls;
  for (absl::string_view origin :
       absl::StrSplit(options.http_allowed_origins, ',', absl::SkipWhitespace())) {
    web.allowed_origins.emplace_back(absl::StripAsciiWhitespace(origin));
  }
  return web;
}

RegistryLimits RegistryLimitsOf(const ServerOptions& options) {
  return {options.max_clients, options.max_rooms, options.max_room_members};
}

}  // namespace roomchat
