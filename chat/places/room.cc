#include "chat/places/room.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "chat/protocol/caps.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {

absl::StatusOr<std::shared_ptr<Room>> Room::Create(const PlaceContext& context, std::string name) {
  std::shared_ptr<Room> room(new Room(context, std::move(name)));
  if (absl::Status init = room->Init(); !init.ok()) return init;
  return room;
}

Room::Room(const PlaceContext& context, std::string name)
    : Place(context, std::move(name)),
      room_key_(NameKey(room_name())),
      recent_(context.history_on_join, context.history_reply_bytes) {}

void Room::Greet(Connection& member, const Admission& admission) {
  if (in_cluster()) return GreetInCluster(member, admission);
  switch (admission.kind) {
    case Admission::Kind::kCreated:
      io().Send(member, replies::Ok(Command::Kind::kCreate, room_name()));
      GreetCreator(member, admission.key);
      SendTopic(member);
      if (member.caps().Has(Cap::kReplay)) Replay(member);
      return;
    case Admission::Kind::kJoined:
      io().Send(member, replies::Ok(Command::Kind::kJoin, room_name(), absl::StrCat(io().size())));
      SendTopic(member);
      Announce(member.id(), replies::Join(room_name(), member.nick()));
      if (admission.since_id != 0) return StartCatchUp(member, admission.since_id);
      if (member.caps().Has(Cap::kReplay)) Replay(member);
      return;
    case Admission::Kind::kConnected:
    case Admission::Kind::kReturned:
    case Admission::Kind::kKicked:
      LOG(DFATAL) << "a lobby admission reached room " << room_name();
      return;
  }
}

void Room::OnChat(Connection& member, absl::string_view text) {
  if (in_cluster()) return PostChat(member, text);
  const int64_t unix_us = absl::ToUnixMicros(absl::Now());
  const uint64_t id = NextId(unix_us);
  const int64_t time_ms = unix_us / 1000;
  SendChat(member.id(), member.nick(), text, id, time_ms);
  if (!has_history()) return;
  recent_.Push(HistoryLine{id, time_ms, member.nick(), std::string(text)});
  context().history->Append(
      StoredLine{room_key_, room_name(), id, time_ms, member.nick(), std::string(text)},
      member.caps().Has(Cap::kAck) ? member.id() : 0);
}

void Room::SendChat(ClientId except, absl::string_view nick, absl::string_view text, uint64_t id,
                    int64_t time_ms, const absl::flat_hash_set<ClientId>* had_it) {
  std::string line = replies::Msg(room_name(), nick, text);
  io().SendChatToAll(
      except, line,
      [&] { return absl::StrCat(replies::Tags(id, time_ms, /*history=*/false), line); }, had_it);
}

void Room::OnLeave(Connection& member) {
  if (in_cluster()) return ClusterLeaveRoom(member);
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
  if (in_cluster()) return;  // the LEAVE entry comes back through the room's channel
  Announce(kNobody, replies::Leave(room_name(), nick));
}

}  // namespace roomchat
