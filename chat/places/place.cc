#include "chat/places/place.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "chat/protocol/caps.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {

Place::Place(const PlaceContext& context, std::string room_name)
    : context_(context), room_name_(std::move(room_name)) {}

Place::~Place() = default;

absl::Status Place::Init() {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop =
      EventLoop::Create(is_room() ? absl::StrCat("room ", room_name_) : "lobby");
  if (!loop.ok()) return loop.status();
  loop_ = *std::move(loop);
  metrics_ = context_.metrics->AddPlace(is_room() ? PlaceMetrics::Kind::kRoom
                                                  : PlaceMetrics::Kind::kLobby);
  MemberIo::Handler* handler = this;  // a private base: converted here, where it is accessible
  io_ = std::make_unique<MemberIo>(
      loop_.get(), handler, MemberIo::Options{context_.idle_timeout, is_room(), metrics_.get()});
  loop_->SetRoundHook([this] { return io_->RunRound(); });
  return absl::OkStatus();
}

void Place::Admit(std::unique_ptr<Connection> connection, Admission admission) {
  loop_->Post(
      [this, connection = std::move(connection), admission = std::move(admission)]() mutable {
        if (arrival_holds_ > 0) {
          held_arrivals_.push_back(
              [this, connection = std::move(connection), admission]() mutable {
                ReceiveAdmission(std::move(connection), admission);
              });
          return;
        }
        ReceiveAdmission(std::move(connection), admission);
      });
}

void Place::DeliverPrivate(ClientId to, std::string line) {
  loop_->Post([this, to, line = std::move(line)]() mutable {
    if (arrival_holds_ > 0) {
      held_arrivals_.push_back([this, to, line = std::move(line)] { ReceivePrivate(to, line); });
      return;
    }
    ReceivePrivate(to, line);
  });
}

void Place::DeliverTask(ClientId to, ClientTask task) {
  loop_->Post([this, to, task = std::move(task)]() mutable {
    if (arrival_holds_ > 0) {
      held_arrivals_.push_back(
          [this, to, task = std::move(task)]() mutable { ReceiveTask(to, std::move(task)); });
      return;
    }
    ReceiveTask(to, std::move(task));
  });
}

void Place::ReleaseArrivals() {
  if (arrival_holds_ > 0 && --arrival_holds_ > 0) return;
  std::vector<EventLoop::Task> held;
  held.swap(held_arrivals_);
  for (EventLoop::Task& task : held) std::move(task)();
}

void Place::AdoptDeparted(std::unique_ptr<Connection> connection) {
  loop_->Post([this, connection = std::move(connection)]() mutable {
    if (stopping_) return connection->FinishOutput(now());
    io_->Linger(std::move(connection));
  });
}

void Place::Stop() {
  loop_->Post([this] {
    stopping_ = true;
    arrival_holds_ = 0;
    ReleaseArrivals();  // they arrive and leave with everyone else
    io_->DepartAll(DepartureReason::kShutdown);
    loop_->Quit();
  });
}

void Place::Run() {
  OnStart();
  loop_->Run();
  // Arrivals that raced with the stop are in by now; they leave with everyone else.
  io_->Shutdown(DepartureReason::kShutdown);
  OnEnd();
  context_.metrics->RetirePlace(metrics_);
  if (is_room()) LOG(INFO) << "room " << room_name_ << " closed";
}

void Place::ReceiveAdmission(std::unique_ptr<Connection> connection, const Admission& admission) {
  Connection& arrived = io_->Add(std::move(connection));
  if (stopping_) return io_->Depart(arrived, {DepartureReason::kShutdown, ""});
  if (in_cluster() && admission.kind == Admission::Kind::kConnected) ClaimGuestNick(arrived);
  Greet(arrived, admission);
}

void Place::ReceivePrivate(ClientId to, const std::string& line) {
  Connection* member = io_->Find(to);
  if (member == nullptr) {
    context_.registry->ForwardPrivate(to, line);  // It moved on since the message was routed.
  } else if (!member->departure()) {
    io_->Send(*member, line);
  }
}

void Place::ReceiveTask(ClientId to, ClientTask task) {
  Connection* member = io_->Find(to);
  if (member == nullptr) {
    context_.registry->RunWhereClientIs(to, std::move(task));  // It moved on meanwhile.
  } else if (!member->departure()) {
    task(*this, *member);
  }
}

void Place::SendError(Connection& member, const absl::Status& status) {
  io_->Send(member, ErrLine(status));
}

bool Place::PassesFloodGuard(Connection& member) {
  switch (member.flood().OnLine(now())) {
    case FloodGuard::Verdict::kAccept: return true;
    case FloodGuard::Verdict::kDropFirst:
      PlaceMetrics::Add(metrics_->flood_drops);
      if (member.flood().dropped_total() == 1) {
        LOG(WARNING) << "limit hit: client " << member.id() << " " << member.nick()
                     << " is flooding; dropping its lines over the flood limit";
      }
      SendError(member, ProtocolError(ErrorCode::kFlood,
                                      "too many lines at once; slow down "
                                      "(lines are being dropped)"));
      return false;
    case FloodGuard::Verdict::kDrop: PlaceMetrics::Add(metrics_->flood_drops); return false;
    case FloodGuard::Verdict::kDisconnect:
      io_->Depart(member, {DepartureReason::kFlood,
                           absl::StrCat(member.flood().dropped_total(), " lines dropped")});
      return false;
  }
  return false;
}

void Place::OnFrame(Connection& member, const Frame& frame) {
  if (frame.kind == Frame::Kind::kEmpty) return;  // activity, nothing more
  if (!PassesFloodGuard(member)) return;
  commands_.fetch_add(1, std::memory_order_relaxed);
  switch (frame.kind) {
    case Frame::Kind::kTooLong:
      return SendError(member,
                       ProtocolError(ErrorCode::kLineTooLong,
                                     absl::StrCat("lines are limited to ", context_.max_line_bytes,
                                                  " bytes; dropped")));
    case Frame::Kind::kBadEncoding:
      return SendError(member, ProtocolError(ErrorCode::kBadEncoding, frame.problem));
    case Frame::Kind::kEmpty:
    case Frame::Kind::kLine: break;
  }
  absl::StatusOr<Command> command = ParseCommand(frame.text);
  if (!command.ok()) return SendError(member, command.status());
  Execute(member, *command);
}

void Place::Execute(Connection& member, const Command& command) {
  switch (command.kind) {
    case Command::Kind::kChat: return OnChat(member, command.text);
    case Command::Kind::kNick: return DoNick(member, command.name);
    case Command::Kind::kCreate: return DoCreate(member, command);
    case Command::Kind::kJoin: return DoJoin(member, command);
    case Command::Kind::kLeave: return OnLeave(member);
    case Command::Kind::kRooms: return DoRooms(member);
    case Command::Kind::kWho: return DoWho(member, command.name);
    case Command::Kind::kWhoami:
      return io_->Send(
          member, replies::Ok(Command::Kind::kWhoami, member.nick(), is_room() ? room_name_ : "-"));
    case Command::Kind::kMsg: return DoMsg(member, command);
    case Command::Kind::kPing: return io_->Send(member, replies::Pong(command.text));
    case Command::Kind::kHelp: return io_->Send(member, replies::Help());
    case Command::Kind::kQuit: return io_->Depart(member, {DepartureReason::kQuit, ""});
    case Command::Kind::kCap: return DoCap(member, command);
    case Command::Kind::kHistory: return OnHistory(member, command);
    case Command::Kind::kRegister:
    case Command::Kind::kLogin:
    case Command::Kind::kPassword:
    case Command::Kind::kLogout: return ExecuteAccountCommand(member, command);
    case Command::Kind::kOp:
    case Command::Kind::kDeop:
    case Command::Kind::kKick:
    case Command::Kind::kBan:
    case Command::Kind::kUnban:
    case Command::Kind::kBans:
    case Command::Kind::kTopic:
    case Command::Kind::kKey: return OnModeration(member, command);
  }
}

void Place::DoNick(Connection& member, const std::string& nick) {
  if (in_cluster()) return ClusterNick(member, nick);
  absl::Status renamed = context_.registry->Rename(member.id(), nick);
  if (!renamed.ok()) return SendError(member, renamed);
  std::string old_nick = member.nick();
  member.set_nick(nick);
  io_->Send(member, replies::Ok(Command::Kind::kNick, nick));
  Announce(member.id(), replies::Nick(old_nick, nick));
}

void Place::DoCreate(Connection& member, const Command& command) {
  if (in_cluster()) return ClusterCreate(member, command);
  const std::string& name = command.name;
  // Checked first so that a doomed /create costs no loop; the reservation checks again.
  absl::Status can_create = context_.registry->CheckCanCreate(name, member.id(), command.key);
  if (!can_create.ok()) {
    LogIfLimit(can_create);
    return SendError(member, can_create);
  }
  absl::StatusOr<std::shared_ptr<Place>> room = context_.make_room(name);
  if (!room.ok()) {
    LOG(ERROR) << "limit hit: cannot open room " << name << ": " << room.status();
    return SendError(member, ProtocolError(ErrorCode::kLimit, "cannot open a room now"));
  }
  absl::Status reserved = context_.registry->ReserveRoom(name, *room, member.id(), command.key);
  if (!reserved.ok()) {  // lost a race for the name or the last room slot
    LogIfLimit(reserved);
    return SendError(member, reserved);
  }
  OpenReservedRoom(member, command, *std::move(room));
}

void Place::OpenReservedRoom(Connection& member, const Command& create,
                             std::shared_ptr<Place> room) {
  const std::string& name = create.name;
  absl::Status started = context_.start_room(std::move(room));
  if (!started.ok()) {
    context_.registry->CancelReservation(name);
    LOG(ERROR) << "limit hit: cannot start a thread for room " << name << ": " << started;
    return SendError(member, ProtocolError(ErrorCode::kLimit, "cannot open a room now"));
  }
  std::string nick = member.nick();
  if (!TryMove(member, [&](std::unique_ptr<Connection>& moving) {
        return context_.registry->EnterCreatedRoom(moving, name, create.key);
      })) {
    return;
  }
  LOG(INFO) << "room " << name << " opened by " << nick;
  AnnounceDeparture(nick);
}

void Place::DoJoin(Connection& member, const Command& command) {
  const std::string& name = command.name;
  if (is_room() && context_.registry->IsIn(member.id(), name)) {
    if (in_cluster()) return ClusterAlreadyIn(member);
    return io_->Send(member,
                     replies::Ok(Command::Kind::kJoin, room_name_, absl::StrCat(io_->size())));
  }
  if (in_cluster()) return ClusterJoin(member, command);
  std::string nick = member.nick();
  if (!TryMove(member, [&](std::unique_ptr<Connection>& moving) {
        return context_.registry->JoinRoom(moving, name, command.since_id, command.key);
      })) {
    return;
  }
  AnnounceDeparture(nick);
}

bool Place::TryMove(Connection& member,
                    absl::FunctionRef<absl::Status(std::unique_ptr<Connection>&)> move) {
  const ClientId id = member.id();
  std::unique_ptr<Connection> moving = io_->Detach(id);
  absl::Status moved = move(moving);
  if (moved.ok()) {
    OnMemberGone(id);
    return true;
  }
  Connection& back = io_->Add(std::move(moving));
  LogIfLimit(moved);
  SendError(back, moved);
  return false;
}

void Place::DoCap(Connection& member, const Command& command) {
  auto offered = [this](Cap cap) { return cap == Cap::kTags || context_.history != nullptr; };
  if (!command.cap_request) {
    std::vector<absl::string_view> names;
    for (Cap cap : kAllCaps) {
      if (offered(cap)) names.push_back(CapName(cap));
    }
    return io_->Send(member, replies::Ok(Command::Kind::kCap, absl::StrJoin(names, " ")));
  }
  for (const std::string& name : command.caps) {
    std::optional<Cap> cap = CapByName(name);
    if (!cap || !offered(*cap)) {
      return SendError(member, ProtocolError(ErrorCode::kBadArgs,
                                             absl::StrCat("no capability ", name,
                                                          " on this server; /cap lists them")));
    }
  }
  for (const std::string& name : command.caps) member.add_cap(*CapByName(name));
  io_->Send(member, replies::Ok(Command::Kind::kCap, "REQ", absl::StrJoin(command.caps, " ")));
}

void Place::OnModeration(Connection& member, const Command& command) {
  SendError(member, ProtocolError(ErrorCode::kNotInRoom,
                                  absl::StrCat("you are in the lobby; /", CommandWord(command.kind),
                                               " works in a room")));
}

void Place::OnHistory(Connection& member, const Command& command) {
  SendError(member, ProtocolError(ErrorCode::kNotInRoom,
                                  "you are in the lobby; /history works in a room"));
}

void Place::LogIfLimit(const absl::Status& status) {
  if (HasErrorCode(status, ErrorCode::kLimit) || HasErrorCode(status, ErrorCode::kRoomFull)) {
    // Clients can trigger this at will, so the log gets a sample, not every refusal.
    LOG_EVERY_N(WARNING, 100) << "limit hit: " << status.message() << " (" << google::COUNTER
                              << " such refusals so far)";
  }
}

void Place::DoRooms(Connection& member) {
  if (in_cluster()) return ClusterRooms(member);
  Registry::RoomListing rooms = context_.registry->ListRooms();
  if (rooms != listed_) {
    listed_reply_.clear();
    for (const RoomSummary& room : *rooms) listed_reply_ += replies::Room(room.name, room.members);
    listed_reply_ += replies::Ok(Command::Kind::kRooms, absl::StrCat(rooms->size()));
    listed_ = std::move(rooms);
  }
  io_->Send(member, listed_reply_);
}

void Place::DoWho(Connection& member, const std::string& name) {
  if (name.empty() && !is_room()) {
    return SendError(member, ProtocolError(ErrorCode::kNotInRoom,
                                           "you are in the lobby; name a room: /who ROOM"));
  }
  if (in_cluster()) return ClusterWho(member, name.empty() ? room_name_ : name);
  absl::StatusOr<RoomMembers> members = context_.registry->Who(name.empty() ? room_name_ : name);
  if (!members.ok()) return SendError(member, members.status());
  std::string out;
  for (const std::string& nick : members->nicks) out += replies::Member(nick);
  out += replies::Ok(Command::Kind::kWho, members->name, absl::StrCat(members->nicks.size()));
  io_->Send(member, out);
}

void Place::DoMsg(Connection& member, const Command& command) {
  if (in_cluster()) {
    const bool here = context_.registry->IdOf(command.name) != 0;
    // A room member's lines go through Redis: a message to a client here goes the same way, so
    // it comes after them, as on one node (sent from here at once it overtook them).
    if (!here || (is_room() && context_.cluster->up())) return ClusterMsg(member, command, here);
  }
  absl::Status sent =
      context_.registry->SendPrivate(command.name, replies::Priv(member.nick(), command.text));
  if (!sent.ok()) return SendError(member, sent);
  io_->Send(member, replies::Ok(Command::Kind::kMsg, command.name));
}

void Place::OnDeparture(Connection& member, const Departure& departure) {
  static_assert(static_cast<size_t>(DepartureReason::kShutdown) + 1 == kDepartureReasonCount);
  PlaceMetrics::Add(metrics_->departures[static_cast<size_t>(departure.reason)]);
  context_.metrics->Closed(ServerMetrics::TransportOf(
      member.codec().kind() == Codec::Kind::kWebSocket, member.tls()));
  context_.registry->Disconnect(member.id());
  OnMemberGone(member.id());
  if (in_cluster()) {
    ClusterLeave(member.nick(), /*release_nick=*/true);
  } else if (!stopping_) {
    AnnounceDeparture(member.nick());
  }
  absl::string_view bye = ByeReason(departure.reason);
  if (!bye.empty()) member.Send(replies::Bye(bye), now());
  LogDeparture(member, departure);
}

void Place::LogDeparture(const Connection& member, const Departure& departure) {
  LOG(INFO) << "client " << member.id() << " " << member.nick() << " (" << member.peer()
            << ") disconnected from " << (is_room() ? room_name_ : "the lobby") << ": "
            << DepartureName(departure.reason)
            << (departure.detail.empty() ? "" : absl::StrCat(" (", departure.detail, ")"));
  if (departure.reason == DepartureReason::kOutputLimit) {
    LOG(WARNING) << "limit hit: client " << member.id() << " " << member.nick() << " cut off with "
                 << member.output().unsent() << " bytes unsent and "
                 << member.output().refused_bytes()
                 << " bytes that did not fit (--max_outbuf_bytes, --outbuf_soft_bytes/"
                    "--outbuf_soft_s)";
  } else if (departure.reason == DepartureReason::kFlood) {
    LOG(WARNING) << "limit hit: client " << member.id() << " " << member.nick()
                 << " disconnected for flooding (--flood_lines_per_s, --flood_burst)";
  }
}

void Place::OnUnsentAtDeparture(std::unique_ptr<Connection> connection) {
  if (is_room() && !stopping_) return context_.lobby->AdoptDeparted(std::move(connection));
  if (stopping_) return connection->FinishOutput(now());
  io_->Linger(std::move(connection));
}

}  // namespace roomchat
