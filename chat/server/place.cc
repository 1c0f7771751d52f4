#include "chat/server/place.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {

Place::Place(const PlaceContext& context, std::string room_name)
    : context_(context), room_name_(std::move(room_name)) {}

Place::~Place() = default;

absl::Status Place::Init() {
  absl::StatusOr<std::unique_ptr<PollLoop>> loop = PollLoop::Create(
      is_room() ? absl::StrCat("room ", room_name_) : "lobby", this, context_.idle_timeout);
  if (!loop.ok()) return loop.status();
  loop_ = *std::move(loop);
  return absl::OkStatus();
}

void Place::Admit(std::unique_ptr<Client> client, Admission admission) {
  loop_->Post([this, client = std::move(client), admission = std::move(admission)]() mutable {
    ReceiveAdmission(std::move(client), admission);
  });
}

void Place::DeliverPrivate(ClientId to, std::string line) {
  loop_->Post([this, to, line = std::move(line)] { ReceivePrivate(to, line); });
}

void Place::Stop() { loop_->Stop(); }

void Place::Run() { loop_->Run(); }

void Place::RunInLoop(absl::AnyInvocable<void() &&> task) { loop_->Post(std::move(task)); }

void Place::ReceiveAdmission(std::unique_ptr<Client> client, const Admission& admission) {
  Client& arrived = *client;
  loop_->Add(std::move(client));
  if (loop_->stopping()) {
    loop_->Depart(arrived, {DepartureReason::kShutdown, ""});
    return;
  }
  Greet(arrived, admission);
  loop_->ProcessInput(arrived.id());
}

void Place::ReceivePrivate(ClientId to, const std::string& line) {
  Client* client = loop_->Find(to);
  if (client == nullptr) {
    context_.registry->ForwardPrivate(to, line);  // It moved on since the message was routed.
  } else if (!client->departure()) {
    client->Send(line);
  }
}

bool Place::PassesFloodGuard(Client& client) {
  switch (client.flood().OnLine(loop_->now())) {
    case FloodGuard::Verdict::kAccept: return true;
    case FloodGuard::Verdict::kDropFirst:
      if (client.flood().dropped_total() == 1) {
        LOG(WARNING) << "limit hit: client " << client.id() << " " << client.nick()
                     << " is flooding; dropping its lines over the flood limit";
      }
      client.Send(ErrLine(ProtocolError(
          ErrorCode::kFlood, "too many lines at once; slow down (lines are being dropped)")));
      return false;
    case FloodGuard::Verdict::kDrop: return false;
    case FloodGuard::Verdict::kDisconnect:
      loop_->Depart(client, {DepartureReason::kFlood,
                             absl::StrCat(client.flood().dropped_total(), " lines dropped")});
      return false;
  }
  return false;
}

void Place::OnFrame(Client& client, const Frame& frame) {
  if (frame.kind == Frame::Kind::kEmpty) return;
  if (!PassesFloodGuard(client)) return;
  switch (frame.kind) {
    case Frame::Kind::kTooLong:
      client.Send(ErrLine(ProtocolError(
          ErrorCode::kLineTooLong,
          absl::StrCat("lines are limited to ", context_.max_line_bytes, " bytes; dropped"))));
      return;
    case Frame::Kind::kBadEncoding:
      client.Send(ErrLine(ProtocolError(ErrorCode::kBadEncoding, frame.problem)));
      return;
    case Frame::Kind::kLine: break;
  }
  absl::StatusOr<Command> command = ParseCommand(frame.text);
  if (!command.ok()) {
    client.Send(ErrLine(command.status()));
    return;
  }
  Execute(client, *command);
}

void Place::Execute(Client& client, const Command& command) {
  switch (command.kind) {
    case Command::Kind::kChat: return OnChat(client, command.text);
    case Command::Kind::kNick: return DoNick(client, command.name);
    case Command::Kind::kCreate: return DoCreate(client, command.name);
    case Command::Kind::kJoin: return DoJoin(client, command.name);
    case Command::Kind::kLeave: return OnLeave(client);
    case Command::Kind::kRooms: return DoRooms(client);
    case Command::Kind::kWho: return DoWho(client, command.name);
    case Command::Kind::kWhoami:
      return client.Send(replies::Ok("WHOAMI", client.nick(), is_room() ? room_name_ : "-"));
    case Command::Kind::kMsg: return DoMsg(client, command);
    case Command::Kind::kPing: return client.Send(replies::Pong(command.text));
    case Command::Kind::kHelp: return client.Send(replies::Help());
    case Command::Kind::kQuit: return loop_->Depart(client, {DepartureReason::kQuit, ""});
  }
}

void Place::DoNick(Client& client, const std::string& nick) {
  absl::Status renamed = context_.registry->Rename(client.id(), nick);
  if (!renamed.ok()) return client.Send(ErrLine(renamed));
  std::string old_nick = client.nick();
  client.set_nick(nick);
  client.Send(replies::Ok("NICK", nick));
  Announce(client.id(), replies::Nick(old_nick, nick));
}

void Place::DoCreate(Client& client, const std::string& name) {
  absl::Status can_create = context_.registry->CheckCanCreate(name);
  if (!can_create.ok()) {
    LogIfLimit(can_create);
    return client.Send(ErrLine(can_create));
  }
  absl::StatusOr<std::shared_ptr<Destination>> room = context_.open_room(name);
  if (!room.ok()) {
    LOG(ERROR) << "cannot open room " << name << ": " << room.status();
    return client.Send(ErrLine(ProtocolError(ErrorCode::kLimit, "cannot open a room now")));
  }
  ClientId id = client.id();
  std::string nick = client.nick();
  absl::Status created =
      context_.registry->CreateRoom(id, name, *room, [this, id] { return loop_->Remove(id); });
  if (!created.ok()) {
    (*room)->Stop();  // Lost a race for the name or the last room slot; the unused room ends.
    LogIfLimit(created);
    return client.Send(ErrLine(created));
  }
  // `client` now belongs to the new room's thread.
  LOG(INFO) << "room " << name << " opened by " << nick;
  AnnounceDeparture(nick);
}

void Place::DoJoin(Client& client, const std::string& name) {
  if (is_room() && NameKey(name) == NameKey(room_name_)) {
    return client.Send(replies::Ok("JOIN", room_name_, absl::StrCat(loop_->size())));
  }
  ClientId id = client.id();
  std::string nick = client.nick();
  absl::Status joined =
      context_.registry->JoinRoom(id, name, [this, id] { return loop_->Remove(id); });
  if (!joined.ok()) {
    LogIfLimit(joined);
    return client.Send(ErrLine(joined));
  }
  AnnounceDeparture(nick);
}

void Place::LogIfLimit(const absl::Status& status) {
  if (HasErrorCode(status, ErrorCode::kLimit) || HasErrorCode(status, ErrorCode::kRoomFull)) {
    // Clients can trigger this at will, so the log gets a sample, not every refusal.
    LOG_EVERY_N(WARNING, 100) << "limit hit: " << status.message() << " (" << google::COUNTER
                              << " such refusals so far)";
  }
}

void Place::DoRooms(Client& client) {
  std::vector<RoomSummary> rooms = context_.registry->ListRooms();
  std::string out;
  for (const RoomSummary& room : rooms) out += replies::Room(room.name, room.members);
  out += replies::Ok("ROOMS", absl::StrCat(rooms.size()));
  client.Send(out);
}

void Place::DoWho(Client& client, const std::string& name) {
  if (name.empty() && !is_room()) {
    return client.Send(ErrLine(
        ProtocolError(ErrorCode::kNotInRoom, "you are in the lobby; name a room: /who ROOM")));
  }
  absl::StatusOr<RoomMembers> members = context_.registry->Who(name.empty() ? room_name_ : name);
  if (!members.ok()) return client.Send(ErrLine(members.status()));
  std::string out;
  for (const std::string& nick : members->nicks) out += replies::Member(nick);
  out += replies::Ok("WHO", members->name, absl::StrCat(members->nicks.size()));
  client.Send(out);
}

void Place::DoMsg(Client& client, const Command& command) {
  absl::Status sent =
      context_.registry->SendPrivate(command.name, replies::Priv(client.nick(), command.text));
  if (!sent.ok()) return client.Send(ErrLine(sent));
  client.Send(replies::Ok("MSG", command.name));
}

void Place::OnDeparture(Client& client, const Departure& departure) {
  context_.registry->Disconnect(client.id());
  if (!loop_->stopping()) AnnounceDeparture(client.nick());
  absl::string_view bye = ByeReason(departure.reason);
  if (!bye.empty()) client.Send(replies::Bye(bye));
  LOG(INFO) << "client " << client.id() << " " << client.nick() << " (" << client.peer()
            << ") disconnected from " << (is_room() ? room_name_ : "the lobby") << ": "
            << DepartureName(departure.reason)
            << (departure.detail.empty() ? "" : absl::StrCat(" (", departure.detail, ")"));
  if (departure.reason == DepartureReason::kOutputLimit) {
    LOG(WARNING) << "limit hit: client " << client.id() << " " << client.nick() << " cut off with "
                 << client.unsent_bytes()
                 << " bytes unsent (--max_outbuf_bytes, --outbuf_soft_bytes/--outbuf_soft_s)";
  } else if (departure.reason == DepartureReason::kFlood) {
    LOG(WARNING) << "limit hit: client " << client.id() << " " << client.nick()
                 << " disconnected for flooding (--flood_lines_per_s, --flood_burst)";
  }
}

void Place::OnStop() {
  loop_->ForEachClient([this](Client& client) {
    loop_->Depart(client, {DepartureReason::kShutdown, ""});
  });
}

}  // namespace roomchat
