// ClusterNode: one node's presence in the cluster (docs/CLUSTER.md). It owns the node's RedisLink
// and, on the link thread, keeps the node alive in Redis and frees what dead nodes held:
//
//   - at its first connect it takes over its own id (rc_reap with its new incarnation): what a
//     previous process under the same id left (it was killed and restarted before its key
//     expired) is freed at once, and its members' rooms get their LEAVEs;
//   - then, and every --cluster_node_ttl_s / 5, rc_heartbeat re-arms its node key (3/5 of the
//     TTL) and its nicks' keys (the TTL), and reports the registered nodes whose key is gone;
//   - for each of those it runs rc_reap: their members leave their rooms (LEAVE entries on the
//     room channels), emptied rooms close, their nicks are freed. So a node killed with kill -9
//     is reaped within the TTL (3/5 + 1/5 of it), by whichever survivor notices first.
//
// What this step does not do yet: register nicks and members (the places' cluster commands),
// deliver room entries, re-register after an outage, or leave gracefully on Stop() (a stopped
// node is reaped like a dead one, within the TTL).
//
// Thread contract: Start() and Stop() are for the owner, once each; link() and the TEST_
// accessors are safe from any thread; everything else runs on the link thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_CLUSTER_NODE_H_
#define ROOMCHAT_CHAT_CLUSTER_CLUSTER_NODE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/redis_link.h"

namespace roomchat {

struct ClusterNodeOptions {
  RedisLinkOptions redis;
  std::string node_id;                        // unique in the cluster; no spaces
  std::chrono::milliseconds node_ttl{15000};  // --cluster_node_ttl_s
  size_t max_stream_entries = 10000;          // for the LEAVE entries the reaper posts
};

class ClusterNode {
 public:
  // Fails on a bad node id or TTL, or when the link cannot be made.
  static absl::StatusOr<std::unique_ptr<ClusterNode>> Create(const ClusterNodeOptions& options);
  ~ClusterNode();

  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  absl::Status Start();
  // Ends the link thread; registers nothing more (the node is then reaped within the TTL).
  void Stop();

  RedisLink& link() { return *link_; }
  const std::string& incarnation() const { return incarnation_; }
  // Heartbeats answered, and nodes this node reaped (with at least one thing freed).
  uint64_t TEST_heartbeats() const { return heartbeats_.load(std::memory_order_acquire); }
  uint64_t TEST_reaped() const { return reaped_.load(std::memory_order_acquire); }

 private:
  explicit ClusterNode(const ClusterNodeOptions& options);

  // ---- Link thread only.
  void OnLinkState(RedisLink::State state);
  void TakeOver();
  void Heartbeat();
  void OnHeartbeat(absl::StatusOr<RedisReply> reply);
  void Reap(const std::string& dead);

  // Const after construction.
  const ClusterNodeOptions options_;
  const std::string incarnation_;
  const cluster::NodeTimes times_;
  std::unique_ptr<RedisLink> link_;  // set by Create(), before anything runs

  std::atomic<uint64_t> heartbeats_{0};
  std::atomic<uint64_t> reaped_{0};

  // Owned by the link thread.
  bool taken_over_ = false;
  bool heartbeat_in_flight_ = false;
  absl::flat_hash_set<std::string> reaping_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_CLUSTER_NODE_H_
