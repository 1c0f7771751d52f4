// MemberSet: the connections a place owns, with constant-time add, find and remove, and the flush
// cursor of the pass that visits every member in turn.
//
// Members sit in a vector (the order flushes and fan-out visit them; contiguous, so fan-out is a
// linear walk) with an id -> slot index. Remove() fills the hole from the end, keeping the pass
// exact: members before the cursor have been visited this pass, members from the cursor on have
// not, whatever is removed meanwhile.
//
// Thread contract: not thread-safe; owned by a place's loop thread.
#ifndef ROOMCHAT_CHAT_PLACES_MEMBER_SET_H_
#define ROOMCHAT_CHAT_PLACES_MEMBER_SET_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "chat/net/connection.h"

namespace roomchat {

class MemberSet {
 public:
  MemberSet() = default;
  MemberSet(const MemberSet&) = delete;
  MemberSet& operator=(const MemberSet&) = delete;

  // Added at the end: visited later in the current pass.
  Connection& Add(std::unique_ptr<Connection> connection);
  // Null if `id` is not a member.
  std::unique_ptr<Connection> Remove(ClientId id);
  Connection* Find(ClientId id) const;
  size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }

  // Every member, in pass order. The visitor must not add or remove members.
  template <typename Visit>
  void ForEach(Visit visit) const {
    for (const std::unique_ptr<Connection>& member : members_) visit(*member);
  }

  // ---- The pass.
  // The next member not yet visited in this pass, advancing the cursor; null at the pass's end.
  Connection* NextInPass();
  bool PassDone() const { return cursor_ >= members_.size(); }
  bool PassStarted() const { return cursor_ > 0; }
  void RestartPass() { cursor_ = 0; }

 private:
  void PutAt(size_t slot, std::unique_ptr<Connection> connection);

  std::vector<std::unique_ptr<Connection>> members_;
  absl::flat_hash_map<ClientId, size_t> slots_;
  size_t cursor_ = 0;  // members_[0, cursor_) have been visited in this pass
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PLACES_MEMBER_SET_H_
