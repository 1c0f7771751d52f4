// ClusterHistory: a clustered room's history, read from its Redis stream (docs/CLUSTER.md,
// "History"). Every chat line of a room is appended to rc:hist:<room> by the script that sequences
// it (rc_post), trimmed to --history_max_lines and --history_max_days (its events go to a stream of
// their own, and count against neither); this class reads the lines back for any node: a part's
// newest lines when it opens, pages of /history and of a reconnect's since=. It writes nothing:
// Append() is for the single-node store.
//
// Each read is one script run by EVALSHA on the node's link (rc_hist_newest for a room's newest
// lines and for pages backwards, rc_hist_after for pages forwards): one range read of the
// stream, after trimming it to the retention, with what trimming removed.
//
// Thread contract: every method is safe from any thread; answers run on the link thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_CLUSTER_HISTORY_H_
#define ROOMCHAT_CHAT_CLUSTER_CLUSTER_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chat/cluster/redis_link.h"
#include "chat/cluster/script_support.h"
#include "chat/history/history_service.h"

namespace roomchat {

class ClusterHistory final : public HistoryService {
 public:
  // The history scripts' texts, for RedisLinkOptions::scripts.
  static std::vector<std::string> Scripts();

  // `link` outlives this. Lines older than `max_days` (0: no limit by age), or past the newest
  // `max_lines`, are never read back: each read trims them from the stream first, exactly
  // (--history_max_days, --history_max_lines).
  ClusterHistory(RedisLink* link, int max_days, size_t max_lines);

  void Append(StoredLine line, uint64_t ack_client) override {}  // rc_post stored it
  void LoadRoom(std::string room_key, size_t recent, Done<HistoryDb::RoomState> done) override;
  void ReadBefore(std::string room_key, uint64_t before_id, size_t limit,
                  Done<std::vector<StoredLine>> done) override;
  void ReadAfter(std::string room_key, uint64_t after_id, size_t limit,
                 Done<HistoryDb::Page> done) override;

 private:
  // The argv of an EVALSHA of `script` (rc_hist_newest or rc_hist_after) for room_key.
  std::vector<std::string> Evalsha(const cluster::Script& script, const std::string& room_key,
                                   size_t limit, std::string bound) const;

  RedisLink* const link_;
  // As the history scripts take them.
  const std::string retention_ms_;  // "0": none
  const std::string max_lines_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_CLUSTER_HISTORY_H_
