// What the cluster's scripts share (scripts.cc, outage_scripts.cc, cluster_history.cc): a script's
// text and SHA, the Lua functions the room scripts share after rc_post's post(), and the EVALSHA
// argv.
//
// Thread contract: pure functions and constants; safe from any thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_SCRIPT_SUPPORT_H_
#define ROOMCHAT_CHAT_CLUSTER_SCRIPT_SUPPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/cluster/redis_link.h"

namespace roomchat {
namespace cluster {

// A script's text (for RedisLinkOptions::scripts) and the SHA1 EVALSHA names it by.
struct Script {
  std::string text;
  std::string sha;
};

// A script that lives as long as the process (a function-local static of its owner).
Script* NewScript(std::string text);

// A room script: post() and the shared functions, then its body.
Script* NewRoomScript(const char* body);

// EVALSHA <sha> <number of keys> keys... args...
std::vector<std::string> Evalsha(const Script& script, std::vector<std::string> keys,
                                 std::vector<std::string> args);

// Reading a script's reply. ReplyStatus: OK for a reply that is not an error; else what the
// caller should see: the script's ProtocolError ("<code> <text>"), an internal error for any
// other error reply, or ERR unavailable for a link down.
absl::Status ReplyStatus(const absl::StatusOr<RedisReply>& reply);
absl::Status Malformed(absl::string_view what);
// A reply element that is a non-negative integer.
bool AsCount(const RedisReply& element, uint64_t* count);
bool IsText(const RedisReply& element);

// rc_prune and rc_register (outage_scripts.cc).
std::vector<std::string> OutageScripts();

}  // namespace cluster
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_SCRIPT_SUPPORT_H_
