#include "chat/places/member_set.h"

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "chat/loop/socket.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

std::unique_ptr<Connection> Member(ClientId id) {
  ConnectionLimits limits{64, {1 << 20, 0, std::chrono::seconds(0), 1 << 19}, {0, 1, 0}};
  return std::make_unique<Connection>(id, "test", std::make_unique<TcpTransport>(UniqueFd()),
                                      std::make_unique<LineCodec>(64), limits, Clock::now());
}

std::vector<ClientId> Ids(const MemberSet& set) {
  std::vector<ClientId> ids;
  set.ForEach([&](Connection& member) { ids.push_back(member.id()); });
  return ids;
}

TEST(MemberSetTest, AddsFindsAndRemoves) {
  MemberSet set;
  for (ClientId id = 1; id <= 4; ++id) set.Add(Member(id));
  EXPECT_EQ(set.size(), 4u);
  ASSERT_NE(set.Find(3), nullptr);
  EXPECT_EQ(set.Find(3)->id(), 3u);
  std::unique_ptr<Connection> removed = set.Remove(2);
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->id(), 2u);
  EXPECT_EQ(set.Find(2), nullptr);
  EXPECT_EQ(set.Remove(2), nullptr);
  EXPECT_EQ(set.size(), 3u);
  for (ClientId id : {1, 3, 4}) EXPECT_EQ(set.Find(id)->id(), id) << "slots stay right";
}

// The cursor fix-up: whatever is removed during a pass, every member present for the whole pass
// is visited exactly once, and no removed member is visited after its removal.
TEST(MemberSetTest, APassVisitsEveryRemainingMemberOnceWhateverIsRemovedDuringIt) {
  std::mt19937 random(42);
  for (int trial = 0; trial < 300; ++trial) {
    MemberSet set;
    const int count = 1 + trial % 17;
    for (ClientId id = 1; id <= static_cast<ClientId>(count); ++id) set.Add(Member(id));
    std::set<ClientId> removed;
    std::multiset<ClientId> visited;
    set.RestartPass();
    while (Connection* member = set.NextInPass()) {
      visited.insert(member->id());
      EXPECT_EQ(removed.count(member->id()), 0u) << "visited after removal";
      // Remove a random member (visited or not) now and then, the one being visited included.
      if (random() % 3 == 0 && set.size() > 0) {
        std::vector<ClientId> ids = Ids(set);
        ClientId victim = ids[random() % ids.size()];
        removed.insert(victim);
        EXPECT_NE(set.Remove(victim), nullptr);
      }
    }
    EXPECT_TRUE(set.PassDone());
    for (ClientId id = 1; id <= static_cast<ClientId>(count); ++id) {
      if (removed.count(id) == 0) EXPECT_EQ(visited.count(id), 1u) << "member " << id;
      EXPECT_LE(visited.count(id), 1u);
    }
  }
}

TEST(MemberSetTest, AMemberAddedDuringAPassIsVisitedInIt) {
  MemberSet set;
  set.Add(Member(1));
  set.RestartPass();
  EXPECT_EQ(set.NextInPass()->id(), 1u);
  set.Add(Member(2));
  EXPECT_FALSE(set.PassDone());
  EXPECT_EQ(set.NextInPass()->id(), 2u);
  EXPECT_EQ(set.NextInPass(), nullptr);
  EXPECT_TRUE(set.PassStarted());
  set.RestartPass();
  EXPECT_FALSE(set.PassStarted());
}

}  // namespace
}  // namespace roomchat
