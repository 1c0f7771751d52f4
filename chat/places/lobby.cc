#include "chat/places/lobby.h"

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

void Lobby::Greet(Connection& member, const Admission& admission) {
  switch (admission.kind) {
    case Admission::Kind::kConnected:
      LOG(INFO) << "client " << member.id() << " connected from " << member.peer() << " as "
                << member.nick();
      return io().Send(member, replies::Welcome(member.nick()));
    case Admission::Kind::kReturned:
      return io().Send(member, replies::Ok(Command::Kind::kLeave, admission.room));
    case Admission::Kind::kKicked:
      return io().Send(member, replies::Kicked(admission.room, admission.by, admission.reason));
    case Admission::Kind::kCreated:
    case Admission::Kind::kJoined: LOG(DFATAL) << "a room admission reached the lobby"; return;
  }
}

void Lobby::OnChat(Connection& member, absl::string_view text) {
  SendError(member, ProtocolError(ErrorCode::kNotInRoom,
                                  "you are in the lobby; /join or /create a room to talk"));
}

void Lobby::OnLeave(Connection& member) {
  SendError(member, ProtocolError(ErrorCode::kNotInRoom, "you are in the lobby already"));
}

}  // namespace roomchat
