#include "chat/server/room.h"

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

void Room::Greet(Client& client, const Admission& admission) {
  switch (admission.kind) {
    case Admission::Kind::kCreated: client.Send(replies::Ok("CREATE", room_name())); return;
    case Admission::Kind::kJoined:
      client.Send(replies::Ok("JOIN", room_name(), absl::StrCat(loop().size())));
      Announce(client.id(), replies::Join(room_name(), client.nick()));
      return;
    case Admission::Kind::kConnected:
    case Admission::Kind::kReturned:
      LOG(DFATAL) << "a lobby admission reached room " << room_name();
      return;
  }
}

void Room::OnChat(Client& client, absl::string_view text) {
  Announce(client.id(), replies::Msg(room_name(), client.nick(), text));
}

void Room::OnLeave(Client& client) {
  ClientId id = client.id();
  std::string nick = client.nick();
  absl::Status left = context().registry->ReturnToLobby(id, context().lobby,
                                                        [this, id] { return loop().Remove(id); });
  if (!left.ok()) return client.Send(ErrLine(left));
  AnnounceDeparture(nick);
}

void Room::Announce(ClientId except, absl::string_view line) {
  loop().ForEachClient([except, line](Client& member) {
    if (member.id() != except && !member.departure()) member.Send(line);
  });
}

void Room::AnnounceDeparture(absl::string_view nick) {
  Announce(kNobody, replies::Leave(room_name(), nick));
}

}  // namespace roomchat
