#include "chat/server/lobby.h"

#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {

absl::StatusOr<std::unique_ptr<Lobby>> Lobby::Create(const PlaceContext& context) {
  std::unique_ptr<Lobby> lobby(new Lobby(context));
  if (absl::Status init = lobby->Init(); !init.ok()) return init;
  return lobby;
}

Lobby::Lobby(const PlaceContext& context) : Place(context, "") {}

void Lobby::Greet(Client& client, const Admission& admission) {
  switch (admission.kind) {
    case Admission::Kind::kConnected:
      LOG(INFO) << "client " << client.id() << " connected from " << client.peer() << " as "
                << client.nick();
      client.Send(replies::Welcome(client.nick()));
      return;
    case Admission::Kind::kReturned: client.Send(replies::Ok("LEAVE", admission.room)); return;
    case Admission::Kind::kCreated:
    case Admission::Kind::kJoined: LOG(DFATAL) << "a room admission reached the lobby"; return;
  }
}

void Lobby::OnChat(Client& client, absl::string_view text) {
  client.Send(ErrLine(ProtocolError(ErrorCode::kNotInRoom,
                                    "you are in the lobby; /join or /create a room to talk")));
}

void Lobby::OnLeave(Client& client) {
  client.Send(ErrLine(ProtocolError(ErrorCode::kNotInRoom, "you are in the lobby already")));
}

}  // namespace roomchat
