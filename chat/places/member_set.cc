#include "chat/places/member_set.h"

#include <utility>

namespace roomchat {

Connection& MemberSet::Add(std::unique_ptr<Connection> connection) {
  Connection& added = *connection;
  slots_[added.id()] = members_.size();
  members_.push_back(std::move(connection));
  return added;
}

void MemberSet::PutAt(size_t slot, std::unique_ptr<Connection> connection) {
  slots_[connection->id()] = slot;
  members_[slot] = std::move(connection);
}

std::unique_ptr<Connection> MemberSet::Remove(ClientId id) {
  auto found = slots_.find(id);
  if (found == slots_.end()) return nullptr;
  size_t slot = found->second;
  slots_.erase(found);
  std::unique_ptr<Connection> removed = std::move(members_[slot]);
  size_t last = members_.size() - 1;
  if (slot < cursor_) {
    // A visited slot: the last visited member fills it, and the last member (not yet visited
    // when the pass is unfinished) fills the visited member's old slot, just before the cursor.
    size_t last_visited = cursor_ - 1;
    if (last_visited != slot) PutAt(slot, std::move(members_[last_visited]));
    if (last != last_visited) PutAt(last_visited, std::move(members_[last]));
    --cursor_;
  } else if (slot != last) {
    PutAt(slot, std::move(members_[last]));  // both unvisited
  }
  members_.pop_back();
  return removed;
}

Connection* MemberSet::Find(ClientId id) const {
  auto found = slots_.find(id);
  return found == slots_.end() ? nullptr : members_[found->second].get();
}

Connection* MemberSet::NextInPass() {
  if (cursor_ >= members_.size()) return nullptr;
  return members_[cursor_++].get();
}

}  // namespace roomchat
