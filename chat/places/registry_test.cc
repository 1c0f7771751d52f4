#include "chat/places/registry.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/loop/socket.h"
#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

// Records what the registry hands it, as a place would receive it.
std::unique_ptr<Connection> MakeConnection(ClientId id) {
  ConnectionLimits limits{4096, {1 << 20, 0, std::chrono::seconds(0), 1 << 19}, {0, 1, 0}};
  return std::make_unique<Connection>(id, "test", std::make_unique<TcpTransport>(UniqueFd()),
                                      std::make_unique<LineCodec>(limits.max_line_bytes), limits,
                                      Clock::now());
}

class FakePlace : public Destination {
 public:
  void Admit(std::unique_ptr<Connection> connection, Admission admission) override {
    admitted.push_back(std::move(connection));
    admissions.push_back(admission);
  }
  void DeliverPrivate(ClientId to, std::string line) override {
    privates.push_back(std::to_string(to) + ":" + line);
  }
  void DeliverTask(ClientId to, ClientTask task) override { tasks.push_back(to); }
  void Stop() override { ++stops; }

  // Gives back the connection `id`, as a place's MemberIo::Detach() would.
  std::unique_ptr<Connection> Take(ClientId id) {
    for (auto& connection : admitted) {
      if (connection && connection->id() == id) return std::move(connection);
    }
    return nullptr;
  }

  std::vector<std::unique_ptr<Connection>> admitted;
  std::vector<Admission> admissions;
  std::vector<std::string> privates;
  std::vector<ClientId> tasks;
  int stops = 0;
};

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() : registry_(RegistryLimits{3, 2, 2}) {}

  ClientId Connect() {
    auto connection = MakeConnection(next_id_);
    EXPECT_TRUE(registry_.Connect(connection, &lobby_).ok());
    return next_id_++;
  }

  // As a place does it: reserve, (start the thread), detach, enter; a refused move gives the
  // connection back.
  absl::Status Create(ClientId id, FakePlace& from, const std::string& name,
                      std::shared_ptr<FakePlace> room) {
    if (absl::Status reserved = registry_.ReserveRoom(name, room); !reserved.ok()) {
      return reserved;
    }
    std::unique_ptr<Connection> moving = from.Take(id);
    absl::Status entered = registry_.EnterCreatedRoom(moving, name);
    if (!entered.ok()) GiveBack(from, std::move(moving));
    return entered;
  }

  absl::Status Join(ClientId id, FakePlace& from, const std::string& name) {
    std::unique_ptr<Connection> moving = from.Take(id);
    absl::Status joined = registry_.JoinRoom(moving, name);
    if (!joined.ok()) GiveBack(from, std::move(moving));
    return joined;
  }

  absl::Status Leave(ClientId id, FakePlace& from) {
    std::unique_ptr<Connection> moving = from.Take(id);
    absl::Status left = registry_.ReturnToLobby(moving, &lobby_);
    if (!left.ok()) GiveBack(from, std::move(moving));
    return left;
  }

  static void GiveBack(FakePlace& place, std::unique_ptr<Connection> connection) {
    EXPECT_NE(connection, nullptr) << "a refused move must leave the connection with the caller";
    place.admitted.push_back(std::move(connection));
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
  auto extra = MakeConnection(99);
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
  Registry::RoomListing rooms = registry_.ListRooms();
  ASSERT_EQ(rooms->size(), 1u);
  EXPECT_EQ((*rooms)[0].name, "Lounge");
  EXPECT_EQ((*rooms)[0].members, 1u);
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
  ASSERT_TRUE(Leave(a, *lounge).ok());
  EXPECT_EQ(lounge->stops, 0);
  EXPECT_EQ(lobby_.admissions.back().kind, Admission::Kind::kReturned);
  EXPECT_EQ(lobby_.admissions.back().room, "Lounge");
  registry_.Disconnect(b);
  EXPECT_EQ(lounge->stops, 1);
  EXPECT_TRUE(registry_.ListRooms()->empty());
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
  EXPECT_TRUE(HasErrorCode(Leave(a, lobby_), ErrorCode::kNotInRoom));
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
  auto late = MakeConnection(50);
  EXPECT_TRUE(absl::IsUnavailable(registry_.Connect(late, &lobby_)));
}

TEST_F(RegistryTest, AReservedRoomHoldsItsNameButIsInvisibleUntilItsCreatorEnters) {
  ClientId a = Connect();
  ClientId b = Connect();
  auto lounge = std::make_shared<FakePlace>();
  ASSERT_TRUE(registry_.ReserveRoom("Lounge", lounge).ok());
  // A second create of the same name loses: only one room thread is ever started for a name.
  EXPECT_TRUE(HasErrorCode(registry_.ReserveRoom("LOUNGE", std::make_shared<FakePlace>()),
                           ErrorCode::kRoomExists));
  EXPECT_TRUE(HasErrorCode(Join(b, lobby_, "Lounge"), ErrorCode::kNoSuchRoom));
  EXPECT_TRUE(registry_.ListRooms()->empty());
  EXPECT_TRUE(HasErrorCode(registry_.Who("Lounge").status(), ErrorCode::kNoSuchRoom));
  std::unique_ptr<Connection> moving = lobby_.Take(a);
  ASSERT_TRUE(registry_.EnterCreatedRoom(moving, "lounge").ok());
  EXPECT_EQ(moving, nullptr);
  EXPECT_EQ(registry_.ListRooms()->size(), 1u);
  EXPECT_TRUE(Join(b, lobby_, "Lounge").ok());
}

TEST_F(RegistryTest, ACancelledReservationFreesTheNameAndTheSlot) {
  ClientId a = Connect();
  ASSERT_TRUE(registry_.ReserveRoom("One", std::make_shared<FakePlace>()).ok());
  ASSERT_TRUE(registry_.ReserveRoom("Two", std::make_shared<FakePlace>()).ok());
  EXPECT_TRUE(HasErrorCode(registry_.CheckCanCreate("Three"), ErrorCode::kLimit));
  registry_.CancelReservation("two");
  EXPECT_TRUE(registry_.CheckCanCreate("Two").ok());
  ASSERT_TRUE(Create(a, lobby_, "Two", std::make_shared<FakePlace>()).ok());
  registry_.CancelReservation("Two");  // open now: not a reservation any more
  EXPECT_EQ(registry_.ListRooms()->size(), 1u);
}

TEST_F(RegistryTest, AReservationCaughtByShutdownIsStoppedAndTheCreatorStays) {
  ClientId a = Connect();
  auto lounge = std::make_shared<FakePlace>();
  ASSERT_TRUE(registry_.ReserveRoom("Lounge", lounge).ok());
  std::vector<std::shared_ptr<Destination>> rooms = registry_.BeginShutdown();
  ASSERT_EQ(rooms.size(), 1u) << "a reserved room must be stopped by shutdown too";
  std::unique_ptr<Connection> moving = lobby_.Take(a);
  EXPECT_TRUE(HasErrorCode(registry_.EnterCreatedRoom(moving, "Lounge"), ErrorCode::kLimit));
  EXPECT_NE(moving, nullptr);
  EXPECT_EQ(lounge->stops, 1);
  EXPECT_TRUE(lounge->admitted.empty());
}

TEST_F(RegistryTest, TheRoomListingIsSharedUntilSomethingChanges) {
  ClientId a = Connect();
  ClientId b = Connect();
  ASSERT_TRUE(Create(a, lobby_, "Lounge", std::make_shared<FakePlace>()).ok());
  Registry::RoomListing first = registry_.ListRooms();
  EXPECT_EQ(registry_.ListRooms(), first) << "no change: the same listing, no copy";
  ASSERT_TRUE(Join(b, lobby_, "Lounge").ok());
  Registry::RoomListing second = registry_.ListRooms();
  EXPECT_NE(second, first);
  EXPECT_EQ((*second)[0].members, 2u);
  EXPECT_EQ((*first)[0].members, 1u) << "a listing handed out never changes";
}

TEST_F(RegistryTest, WhoIsSortedAndFollowsRenames) {
  ClientId a = Connect();
  ClientId b = Connect();
  auto lounge = std::make_shared<FakePlace>();
  ASSERT_TRUE(Create(a, lobby_, "Lounge", lounge).ok());
  ASSERT_TRUE(Join(b, lobby_, "Lounge").ok());
  ASSERT_TRUE(registry_.Rename(a, "zed").ok());
  ASSERT_TRUE(registry_.Rename(b, "Amy").ok());
  absl::StatusOr<RoomMembers> who = registry_.Who("lounge");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->nicks, (std::vector<std::string>{"Amy", "zed"}));
  registry_.Disconnect(b);
  EXPECT_EQ(registry_.Who("lounge")->nicks, std::vector<std::string>{"zed"});
}

TEST_F(RegistryTest, ARegisteredNickIsItsAccountsOnly) {
  ClientId alice = Connect();
  ClientId other = Connect();
  ASSERT_TRUE(registry_.Rename(alice, "alice").ok());
  registry_.Registered(alice, "alice");
  EXPECT_TRUE(registry_.IsAccount("ALICE"));
  // Logged out, alice keeps the nick; no one else may take it while it is free either.
  registry_.LogOut(alice);
  ASSERT_TRUE(registry_.Rename(alice, "alice2").ok());
  EXPECT_TRUE(HasErrorCode(registry_.Rename(other, "Alice"), ErrorCode::kNickRegistered));
  EXPECT_TRUE(HasErrorCode(registry_.Rename(alice, "alice"), ErrorCode::kNickRegistered));
}

TEST_F(RegistryTest, LogInTakesTheNickFromItsHolderAndTellsItWhereItIs) {
  ClientId holder = Connect();
  ClientId owner = Connect();
  ASSERT_TRUE(registry_.Rename(holder, "alice").ok());
  registry_.AddAccounts({"alice"});
  std::string lost;
  absl::StatusOr<std::string> before =
      registry_.LogIn(owner, "alice", "alice", [&](std::string lost_nick) -> ClientTask {
        lost = lost_nick;
        return [](Place&, Connection&) {};
      });
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(*before, "guest2");
  EXPECT_EQ(lost, "alice");
  EXPECT_EQ(registry_.NickOf(owner), "alice");
  EXPECT_EQ(registry_.IdOf("ALICE"), owner);
  EXPECT_EQ(registry_.NickOf(holder), "guest3");
  EXPECT_EQ(lobby_.tasks, std::vector<ClientId>{holder});
}

TEST_F(RegistryTest, APublishedKeyAndBanGuardTheRoomsDoor) {
  ClientId op = Connect();
  ClientId guest = Connect();
  auto room = std::make_shared<FakePlace>();
  ASSERT_TRUE(Create(op, lobby_, "Lounge", room).ok());
  auto settings = std::make_shared<RoomSettings>();
  settings->room_key = "lounge";
  settings->name = "Lounge";
  settings->key = "s3cret";
  registry_.PublishRoomSettings(settings);
  EXPECT_TRUE(HasErrorCode(Join(guest, lobby_, "lounge"), ErrorCode::kBadKey));
  std::unique_ptr<Connection> moving = lobby_.Take(guest);
  ASSERT_TRUE(registry_.JoinRoom(moving, "lounge", 0, "s3cret").ok());
  ASSERT_TRUE(Leave(guest, *room).ok());
  auto banned = std::make_shared<RoomSettings>(*settings);
  banned->bans = {{RoomBan::Kind::kNick, "guest2", "guest1"}};
  registry_.PublishRoomSettings(banned);
  moving = lobby_.Take(guest);
  EXPECT_TRUE(HasErrorCode(registry_.JoinRoom(moving, "lounge", 0, "s3cret"), ErrorCode::kBanned));
  EXPECT_NE(moving, nullptr);
}

TEST_F(RegistryTest, ARegisteredRoomsSettingsOutliveItAndGuardItsCreation) {
  ClientId alice = Connect();
  ClientId bob = Connect();
  RoomSettings kept;
  kept.room_key = "lounge";
  kept.name = "Lounge";
  kept.owner = "alice";
  kept.op_accounts = {"alice"};
  kept.key = "s3cret";
  registry_.AddRegisteredRooms({kept});
  ASSERT_NE(registry_.RegisteredRoom("LOUNGE"), nullptr);
  EXPECT_TRUE(HasErrorCode(registry_.CheckCanCreate("Lounge", bob, ""), ErrorCode::kBadKey));
  EXPECT_TRUE(registry_.CheckCanCreate("Lounge", bob, "s3cret").ok());
  // Its owner's account passes without a key.
  registry_.AddAccounts({"alice"});
  ASSERT_TRUE(registry_.Rename(alice, "alice").ok() == false);  // registered: needs a login
  ASSERT_TRUE(registry_.LogIn(alice, "alice", "alice", nullptr).ok());
  EXPECT_TRUE(registry_.CheckCanCreate("Lounge", alice, "").ok());
  // A room that stops being registered is forgotten.
  auto unowned = std::make_shared<RoomSettings>(kept);
  unowned->owner.clear();
  registry_.PublishRoomSettings(unowned);
  EXPECT_EQ(registry_.RegisteredRoom("Lounge"), nullptr);
}

}  // namespace
}  // namespace roomchat
