// HistoryService: what a room needs of a history store, whichever keeps it: the single-node SQLite
// store (HistoryStore) or, in a cluster, Redis streams (ClusterHistory). Rooms hand it their chat
// lines and ask it for pages; every answer runs on the service's own thread and is posted home
// by the caller.
//
// Thread contract: every method is safe from any thread.
#ifndef ROOMCHAT_CHAT_HISTORY_HISTORY_SERVICE_H_
#define ROOMCHAT_CHAT_HISTORY_HISTORY_SERVICE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "chat/history/history_db.h"

namespace roomchat {

class HistoryService {
 public:
  template <typename T>
  using Done = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

  virtual ~HistoryService() = default;

  // Keeps `line`; `ack_client`, if not 0, gets its ACK once it is kept.
  virtual void Append(StoredLine line, uint64_t ack_client) = 0;
  // The room's last id and its newest `recent` lines.
  virtual void LoadRoom(std::string room_key, size_t recent, Done<HistoryDb::RoomState> done) = 0;
  // The newest `limit` lines below `before_id` (0: the newest), oldest first.
  virtual void ReadBefore(std::string room_key, uint64_t before_id, size_t limit,
                          Done<std::vector<StoredLine>> done) = 0;
  // The oldest `limit` lines above `after_id`, and what retention deleted.
  virtual void ReadAfter(std::string room_key, uint64_t after_id, size_t limit,
                         Done<HistoryDb::Page> done) = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_HISTORY_HISTORY_SERVICE_H_
