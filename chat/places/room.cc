#include "chat/places/room.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {

absl::StatusOr<std::shared_ptr<Room>> Room::Create(const PlaceContext& context, std::string name) {
  std::shared_ptr<Room> room(new Room(context, std::move(name)));
  if (absl::Status init = room->Init(); !init.ok()) return init;
  return room;
}

Room::Room(const PlaceContext& context, std::string name) : Place(context, std::move(name)) {}

void Room::Greet(Connection& member, const Admission& admission) {
  switch (admission.kind) {
    case Admission::Kind::kCreated:
      return io().Send(member, replies::Ok(Command::Kind::kCreate, room_name()));
    case Admission::Kind::kJoined:
      io().Send(member, replies::Ok(Command::Kind::kJoin, room_name(), absl::StrCat(io().size())));
      return Announce(member.id(), replies::Join(room_name(), member.nick()));
    case Admission::Kind::kConnected:
    case Admission::Kind::kReturned:
      LOG(DFATAL) << "a lobby admission reached room " << room_name();
      return;
  }
}

void Room::OnChat(Connection& member, absl::string_view text) {
  Announce(member.id(), replies::Msg(room_name(), member.nick(), text));
}

void Room::OnLeave(Connection& member) {
  std::string nick = member.nick();
  if (!TryMove(member, [this](std::unique_ptr<Connection>& moving) {
        return context().registry->ReturnToLobby(moving, context().lobby);
      })) {
    return;
  }
  AnnounceDeparture(nick);
}

void Room::Announce(ClientId except, absl::string_view line) { io().SendToAll(except, line); }

void Room::AnnounceDeparture(absl::string_view nick) {
  Announce(kNobody, replies::Leave(room_name(), nick));
}

}  // namespace roomchat
