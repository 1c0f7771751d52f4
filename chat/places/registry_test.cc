#include "chat/places/registry.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

// Records what the registry hands it, as a place would receive it.
class FakePlace : public Destination {
 public:
  void Admit(std::unique_ptr<Client> client, Admission admission) override {
    admitted.push_back(std::move(client));
    admissions.push_back(admission);
  }
  void DeliverPrivate(ClientId to, std::string line) override {
    privates.push_back(std::to_string(to) + ":" + line);
  }
  void Stop() override { ++stops; }

  // Gives back the client `id`, as a loop's Remove() would.
  std::unique_ptr<Client> Take(ClientId id) {
    for (auto& client : admitted) {
      if (client && client->id() == id) return std::move(client);
    }
    return nullptr;
  }

  std::vector<std::unique_ptr<Client>> admitted;
  std::vector<Admission> admissions;
  std::vector<std::string> privates;
  int stops = 0;
};

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() : registry_(RegistryLimits{3, 2, 2}) {}

  ClientId Connect() {
    auto client = std::make_unique<Client>(next_id_, UniqueFd(), "test", ClientLimits{});
    EXPECT_TRUE(registry_.Connect(client, &lobby_).ok());
    return next_id_++;
  }

  absl::Status Create(ClientId id, FakePlace& from, const std::string& name,
                      std::shared_ptr<FakePlace> room) {
    return registry_.CreateRoom(id, name, std::move(room), [&] { return from.Take(id); });
  }

  absl::Status Join(ClientId id, FakePlace& from, const std::string& name) {
    return registry_.JoinRoom(id, name, [&] { return from.Take(id); });
  }

  Registry registry_;
  FakePlace lobby_;
  ClientId next_id_ = 1;
};

TEST_F(RegistryTest, ConnectGivesAGuestNickAndAdmitsToTheLobby) {
  Connect();
  Connect();
  ASSERT_EQ(lobby_.admitted.size(), 2u);
  EXPECT_EQ(lobby_.admitted[0]->nick(), "guest1");
  EXPECT_EQ(lobby_.admitted[1]->nick(), "guest2");
  EXPECT_EQ(lobby_.admissions[0].kind, Admission::Kind::kConnected);
}

TEST_F(RegistryTest, GuestNicksSkipTakenNames) {
  ClientId first = Connect();
  ASSERT_TRUE(registry_.Rename(first, "guest2").ok());
  Connect();
  EXPECT_EQ(lobby_.admitted[1]->nick(), "guest3");
}

TEST_F(RegistryTest, RefusesPastMaxClients) {
  Connect();
  Connect();
  Connect();
  auto extra = std::make_unique<Client>(99, UniqueFd(), "test", ClientLimits{});
  absl::Status status = registry_.Connect(extra, &lobby_);
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_NE(extra, nullptr);  // Still the caller's, to say BYE to.
}

TEST_F(RegistryTest, NicksAreUniqueCaseInsensitively) {
  ClientId alice = Connect();
  ClientId bob = Connect();
  ASSERT_TRUE(registry_.Rename(alice, "Alice").ok());
  EXPECT_TRUE(HasErrorCode(registry_.Rename(bob, "aLiCe"), ErrorCode::kNickTaken));
  // Changing the case of one's own nick is fine, and frees nothing.
  EXPECT_TRUE(registry_.Rename(alice, "ALICE").ok());
  // A disconnect frees the nick.
  registry_.Disconnect(alice);
  EXPECT_TRUE(registry_.Rename(bob, "alice").ok());
}

TEST_F(RegistryTest, CreateMovesTheCreatorAndListsTheRoom) {
  ClientId alice = Connect();
  auto lounge = std::make_shared<FakePlace>();
  ASSERT_TRUE(Create(alice, lobby_, "Lounge", lounge).ok());
  ASSERT_EQ(lounge->admitted.size(), 1u);
  EXPECT_EQ(lounge->admissions[0].kind, Admission::Kind::kCreated);
  std::vector<RoomSummary> rooms = registry_.ListRooms();
  ASSERT_EQ(rooms.size(), 1u);
  EXPECT_EQ(rooms[0].name, "Lounge");
  EXPECT_EQ(rooms[0].members, 1u);
}

TEST_F(RegistryTest, RefusesDuplicateRoomsAndTooManyRooms) {
  ClientId a = Connect();
  ClientId b = Connect();
  ClientId c = Connect();
  ASSERT_TRUE(Create(a, lobby_, "Lounge", std::make_shared<FakePlace>()).ok());
  EXPECT_TRUE(HasErrorCode(registry_.CheckCanCreate("LOUNGE"), ErrorCode::kRoomExists));
  EXPECT_TRUE(HasErrorCode(Create(b, lobby_, "lounge", std::make_shared<FakePlace>()),
                           ErrorCode::kRoomExists));
  ASSERT_TRUE(Create(b, lobby_, "Den", std::make_shared<FakePlace>()).ok());
  EXPECT_TRUE(
      HasErrorCode(Create(c, lobby_, "Third", std::make_shared<FakePlace>()), ErrorCode::kLimit));
}

TEST_F(RegistryTest, JoinChecksTheRoomAndItsCapacity) {
  ClientId a = Connect();
  ClientId b = Connect();
  ClientId c = Connect();
  auto lounge = std::make_shared<FakePlace>();
  ASSERT_TRUE(Create(a, lobby_, "Lounge", lounge).ok());
  EXPECT_TRUE(HasErrorCode(Join(b, lobby_, "nowhere"), ErrorCode::kNoSuchRoom));
  ASSERT_TRUE(Join(b, lobby_, "LOUNGE").ok());
  EXPECT_EQ(lounge->admissions.back().kind, Admission::Kind::kJoined);
  EXPECT_TRUE(HasErrorCode(Join(c, lobby_, "lounge"), ErrorCode::kRoomFull));
}

TEST_F(RegistryTest, TheRoomStopsWhenItsLastMemberLeaves) {
  ClientId a = Connect();
  ClientId b = Connect();
  auto lounge = std::make_shared<FakePlace>();
  ASSERT_TRUE(Create(a, lobby_, "Lounge", lounge).ok());
  ASSERT_TRUE(Join(b, lobby_, "Lounge").ok());
  ASSERT_TRUE(registry_.ReturnToLobby(a, &lobby_, [&] { return lounge->Take(a); }).ok());
  EXPECT_EQ(lounge->stops, 0);
  EXPECT_EQ(lobby_.admissions.back().kind, Admission::Kind::kReturned);
  EXPECT_EQ(lobby_.admissions.back().room, "Lounge");
  registry_.Disconnect(b);
  EXPECT_EQ(lounge->stops, 1);
  EXPECT_TRUE(registry_.ListRooms().empty());
  // The name is free again.
  EXPECT_TRUE(registry_.CheckCanCreate("Lounge").ok());
}

TEST_F(RegistryTest, MovingBetweenRoomsClosesTheOneLeftEmpty) {
  ClientId a = Connect();
  ClientId b = Connect();
  auto lounge = std::make_shared<FakePlace>();
  auto den = std::make_shared<FakePlace>();
  ASSERT_TRUE(Create(a, lobby_, "Lounge", lounge).ok());
  ASSERT_TRUE(Create(b, lobby_, "Den", den).ok());
  ASSERT_TRUE(Join(a, *lounge, "Den").ok());
  EXPECT_EQ(lounge->stops, 1);
  absl::StatusOr<RoomMembers> who = registry_.Who("den");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->name, "Den");
  EXPECT_EQ(who->nicks, (std::vector<std::string>{"guest1", "guest2"}));
}

TEST_F(RegistryTest, LeavingTheLobbyIsNotInRoom) {
  ClientId a = Connect();
  EXPECT_TRUE(HasErrorCode(registry_.ReturnToLobby(a, &lobby_, [&] { return lobby_.Take(a); }),
                           ErrorCode::kNotInRoom));
}

TEST_F(RegistryTest, PrivateMessagesGoWhereTheTargetIs) {
  ClientId a = Connect();
  ClientId b = Connect();
  ASSERT_TRUE(registry_.Rename(b, "Bob").ok());
  auto lounge = std::make_shared<FakePlace>();
  ASSERT_TRUE(registry_.SendPrivate("bob", "PRIV x 1\n").ok());
  EXPECT_EQ(lobby_.privates.back(), std::to_string(b) + ":PRIV x 1\n");
  ASSERT_TRUE(Create(b, lobby_, "Lounge", lounge).ok());
  ASSERT_TRUE(registry_.SendPrivate("BOB", "PRIV x 2\n").ok());
  EXPECT_EQ(lounge->privates.back(), std::to_string(b) + ":PRIV x 2\n");
  EXPECT_TRUE(HasErrorCode(registry_.SendPrivate("carol", "x"), ErrorCode::kNoSuchNick));
  // A place that no longer holds the client forwards to wherever it is now.
  registry_.ForwardPrivate(b, "PRIV x 3\n");
  EXPECT_EQ(lounge->privates.back(), std::to_string(b) + ":PRIV x 3\n");
  registry_.Disconnect(a);
  registry_.ForwardPrivate(a, "dropped");  // Gone: nothing to do, nothing breaks.
}

TEST_F(RegistryTest, ShutdownRefusesConnectionsAndMovesAndListsRooms) {
  ClientId a = Connect();
  ClientId b = Connect();
  ASSERT_TRUE(Create(a, lobby_, "Lounge", std::make_shared<FakePlace>()).ok());
  EXPECT_EQ(registry_.BeginShutdown().size(), 1u);
  EXPECT_FALSE(Join(b, lobby_, "Lounge").ok());
  EXPECT_FALSE(Create(b, lobby_, "Den", std::make_shared<FakePlace>()).ok());
  auto late = std::make_unique<Client>(50, UniqueFd(), "test", ClientLimits{});
  EXPECT_TRUE(absl::IsUnavailable(registry_.Connect(late, &lobby_)));
}

}  // namespace
}  // namespace roomchat
