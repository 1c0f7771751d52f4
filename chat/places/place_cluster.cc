// Place's commands in a cluster (docs/CLUSTER.md, "How each command becomes asynchronous"): what
// needs Redis is checked locally where it can be, then the member's input is held while the link
// thread runs the script, and the answer is applied on whichever place holds the member by then.
#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/accounts/room_settings.h"
#include "chat/places/place.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// A change of `member`'s nick in Redis, which keeps with the nick who holds it: the client's id
// (rc_msg routes by it) and its address (address bans judge by it).
cluster::NickChange NickChangeOf(const Connection& member, std::string old_nick,
                                 std::string new_nick, std::string room_key, std::string account) {
  cluster::NickChange change{std::move(old_nick), std::move(new_nick), std::move(room_key),
                             std::move(account)};
  change.address = PeerAddress(member.peer());
  change.client = member.id();
  return change;
}

}  // namespace

void Place::ClaimGuestNick(Connection& member) {
  Registry* registry = context_.registry;
  cluster::NickChange claim = NickChangeOf(member, "", member.nick(), "", "");
  context_.cluster->Nick(
      claim,
      [registry, id = member.id(), nick = member.nick()](absl::Status status) {
        if (status.ok()) return;
        // Someone on another node took this guest nick with /nick first: a new one.
        if (HasErrorCode(status, ErrorCode::kNickTaken) ||
            HasErrorCode(status, ErrorCode::kNickRegistered)) {
          registry->RunWhereClientIs(
              id, ClusterNickLost(nick, "someone on another server chose this guest nick first"));
          return;
        }
        // Redis away, or refusing commands (the link logs why): claimed when the node registers
        // its clients again, once Redis is back.
        if (absl::IsUnavailable(status)) return;
        LOG(WARNING) << "cluster: guest nick " << nick << " could not be claimed in Redis: "
                     << status;
      });
}

void Place::ClusterNick(Connection& member, const std::string& nick) {
  // Held here while Redis decides, so a second client here cannot ask for it meanwhile.
  if (absl::Status reserved = context_.registry->ReserveNick(member.id(), nick); !reserved.ok()) {
    return SendError(member, reserved);
  }
  cluster::NickChange change = NickChangeOf(
      member, member.nick(), nick, is_room() ? NameKey(room_name_) : "", member.account());
  Registry* registry = context_.registry;
  ClusterNode* node = context_.cluster;
  const std::string room_key = change.room_key;
  node->Nick(change, HoldFor<absl::Status>(
                         member,
                         [nick](Place& here, Connection& held, absl::Status status) {
                           if (status.ok()) status = here.context_.registry->Rename(held.id(), nick);
                           if (!status.ok()) {
                             here.context_.registry->Unreserve(held.id(), nick);
                             return here.SendError(held, status);
                           }
                           held.set_nick(nick);
                           here.io().Send(held, replies::Ok(Command::Kind::kNick, nick));
                         },
                         // Gone before the answer: the nick Redis may have given it is freed, and
                         // its room's member under that nick leaves (its own leave was under the
                         // old nick, which Redis had renamed).
                         [registry, node, id = member.id(), nick, room_key] {
                           registry->Unreserve(id, nick);
                           node->Leave(room_key, NameKey(nick), /*release_nick=*/true, nullptr);
                         }));
}

void Place::ClusterAccountChanged(const Connection& member) {
  cluster::NickChange change =
      NickChangeOf(member, member.nick(), member.nick(), "", member.account());
  change.refresh = true;
  // Sent before the client's next command, on the link's one connection: what it does next
  // (and what others see it do) comes after in Redis.
  context_.cluster->Nick(change, [id = member.id()](absl::Status status) {
    if (!status.ok()) {
      LOG(WARNING) << "cluster: client " << id << "'s account could not be noted in Redis: "
                   << status;
    }
  });
}

void Place::ClusterCreate(Connection& member, const Command& command) {
  // A part open here means the room exists; the script checks the rest (and the limits).
  absl::Status can_create = context_.registry->CheckCanCreate(command.name, member.id());
  if (!can_create.ok()) return SendError(member, can_create);
  cluster::RoomMove move = RoomMoveOf(member, command);
  Admission admission{Admission::Kind::kCreated, ""};
  admission.key = command.key;
  ClusterNode* node = context_.cluster;
  node->CreateRoom(move, HoldFor<absl::StatusOr<cluster::Entered>>(
                             member,
                             [room_key = move.room_key, admission](
                                 Place& here, Connection& held,
                                 absl::StatusOr<cluster::Entered> entered) {
                               here.EnterClusterRoom(held, room_key, std::move(entered),
                                                     admission);
                             },
                             UndoRoomMove(move)));
}

void Place::ClusterJoin(Connection& member, const Command& command) {
  // Redis away: refused (rc_join answers unavailable at once), even where a part of the room is
  // open here: only Redis can check the room's bans and key.
  cluster::RoomMove move = RoomMoveOf(member, command);
  Admission admission{Admission::Kind::kJoined, "", command.since_id};
  ClusterNode* node = context_.cluster;
  node->JoinRoom(move, HoldFor<absl::StatusOr<cluster::Entered>>(
                           member,
                           [room_key = move.room_key, admission](
                               Place& here, Connection& held,
                               absl::StatusOr<cluster::Entered> entered) {
                             here.EnterClusterRoom(held, room_key, std::move(entered), admission);
                           },
                           UndoRoomMove(move)));
}

cluster::RoomMove Place::RoomMoveOf(const Connection& member, const Command& command) const {
  RoomVisitor visitor = context_.registry->VisitorOf(member.id());
  cluster::RoomMove move{NameKey(member.nick()), member.nick(), NameKey(command.name),
                         command.name, is_room() ? NameKey(room_name_) : ""};
  move.account = std::move(visitor.account);
  move.former_account = std::move(visitor.former_account);
  move.address = std::move(visitor.address);
  move.key = command.key;
  return move;
}

std::function<void()> Place::UndoRoomMove(const cluster::RoomMove& move) {
  // Gone before the answer: Redis may have it in the room (and its nick held) for nobody.
  return [node = context_.cluster, room_key = move.room_key, nick_key = move.nick_key] {
    node->Leave(room_key, nick_key, /*release_nick=*/true, nullptr);
    node->EndRoomMove(room_key);
  };
}

void Place::EnterClusterRoom(Connection& member, const std::string& room_key,
                             absl::StatusOr<cluster::Entered> entered, Admission admission) {
  ClusterNode* node = context_.cluster;
  if (!entered.ok()) {
    node->EndRoomMove(room_key);
    LogIfLimit(entered.status());
    return SendError(member, entered.status());
  }
  admission.cluster_seq = entered->seq;
  admission.cluster_members = entered->members;
  admission.cluster_topic = entered->topic;
  admission.cluster_topic_by = entered->topic_by;
  admission.cluster_creator_op = entered->creator_is_op;
  if (entered->owner_limit_hit) {
    LOG(WARNING) << "limit hit: the account " << member.account() << " owns "
                 << RoomSettings::kMaxOwnedPerAccount << " rooms; room " << entered->room_name
                 << " is not kept";
  }
  const std::string name = entered->room_name;
  const std::string nick = member.nick();
  std::shared_ptr<Place> fresh;
  bool used = false;
  member.set_input_on_hold(false);  // taken again by the place it moves to
  bool moved = TryMove(member, [&](std::unique_ptr<Connection>& moving) {
    absl::Status status = absl::AbortedError("no part yet");
    // A part here may close between the look and the move: then once more, with a new one.
    for (int attempt = 0; attempt < 2 && absl::IsAborted(status); ++attempt) {
      if (!context_.registry->HasRoomPart(name) || attempt > 0) {
        absl::StatusOr<std::shared_ptr<Place>> part = StartedPart(name);
        if (!part.ok()) return part.status();
        fresh = *std::move(part);
      }
      status = context_.registry->EnterRoomPart(moving, name, admission, fresh, &used);
      if (fresh != nullptr && !used) fresh->Stop();
    }
    return status;
  });
  // Attached before the move ends, so no entry of the room's channel falls between.
  if (used) node->AttachRoom(room_key, fresh->AsRoomFeed());
  node->EndRoomMove(room_key);
  if (moved) return;
  // Redis has it in the room it could not enter here, and out of the one it is still in.
  node->Leave(room_key, NameKey(nick), /*release_nick=*/false, nullptr);
  if (is_room()) {
    node->Register(cluster::Registration{member.id(), nick, NameKey(room_name_), room_name_, "",
                                         member.account(), PeerAddress(member.peer())});
  }
}

absl::StatusOr<std::shared_ptr<Place>> Place::StartedPart(const std::string& name) {
  absl::StatusOr<std::shared_ptr<Place>> part = context_.make_room(name);
  absl::Status started = part.ok() ? context_.start_room(*part) : part.status();
  if (started.ok()) return part;
  LOG(ERROR) << "limit hit: cannot open a part of room " << name << ": " << started;
  return ProtocolError(ErrorCode::kLimit, "cannot open a room now");
}

void Place::ClusterRooms(Connection& member) {
  using Rooms = absl::StatusOr<std::vector<cluster::ClusterRoom>>;
  context_.cluster->ListRooms(
      HoldFor<Rooms>(member, [](Place& here, Connection& held, Rooms rooms) {
        if (!rooms.ok()) return here.SendError(held, rooms.status());
        std::string out;
        for (const cluster::ClusterRoom& room : *rooms) {
          out += replies::Room(room.name, room.members);
        }
        out += replies::Ok(Command::Kind::kRooms, absl::StrCat(rooms->size()));
        here.io().Send(held, out);
      }));
}

void Place::ClusterWho(Connection& member, const std::string& room_name) {
  using Who = absl::StatusOr<cluster::ClusterWho>;
  context_.cluster->Who(room_name, HoldFor<Who>(member, [](Place& here, Connection& held, Who who) {
                          if (!who.ok()) return here.SendError(held, who.status());
                          std::string out;
                          for (const std::string& nick : who->nicks) out += replies::Member(nick);
                          out += replies::Ok(Command::Kind::kWho, who->room_name,
                                             absl::StrCat(who->nicks.size()));
                          here.io().Send(held, out);
                        }));
}

void Place::ClusterAlreadyIn(Connection& member) {
  using Who = absl::StatusOr<cluster::ClusterWho>;
  context_.cluster->Who(
      room_name_, HoldFor<Who>(member, [room = room_name_](Place& here, Connection& held,
                                                                   Who who) {
        // Redis away: the members here, as one node would say.
        size_t members = who.ok() ? who->nicks.size() : here.io().size();
        here.io().Send(held, replies::Ok(Command::Kind::kJoin, room, absl::StrCat(members)));
      }));
}

void Place::ClusterMsg(Connection& member, const Command& command, bool even_here) {
  using Route = absl::StatusOr<cluster::MsgRoute>;
  std::string line = replies::Priv(member.nick(), command.text);
  context_.cluster->SendPrivate(
      NameKey(command.name), line, even_here,
      HoldFor<Route>(member, [to = command.name, line, even_here](Place& here, Connection& held,
                                                                  Route route) {
        absl::Status sent = route.status();
        // "local": the nick came to this node after the first look; deliver it from here. So is
        // a message to a client here that Redis could not take (as in an outage), or whose nick
        // Redis does not have (its claim refused, and not yet made again).
        if ((route.ok() && *route == cluster::MsgRoute::kLocal) ||
            (even_here && (absl::IsUnavailable(sent) ||
                           HasErrorCode(sent, ErrorCode::kNoSuchNick)))) {
          sent = here.context_.registry->SendPrivate(to, line);
        }
        if (!sent.ok()) return here.SendError(held, sent);
        here.io().Send(held, replies::Ok(Command::Kind::kMsg, to));
      }));
}

ClientTask Place::ClusterNickLost(std::string lost_nick, std::string reason) {
  return [lost_nick, reason](Place& here, Connection& member) {
    here.LoseClusterNick(member, lost_nick, reason);
  };
}

void Place::LoseClusterNick(Connection& member, const std::string& lost_nick,
                            const std::string& reason) {
  if (NameKey(member.nick()) != NameKey(lost_nick)) return;  // renamed itself meanwhile
  const std::string lost = member.nick();
  std::string guest;
  absl::Status renamed;
  constexpr int kTries = 8;  // a guest number is taken only if someone chose it by hand
  for (int i = 0; i < kTries && (i == 0 || !renamed.ok()); ++i) {
    guest = absl::StrCat("guest", context_.cluster->NextGuestNumber());
    renamed = context_.registry->Rename(member.id(), guest);
  }
  if (!renamed.ok()) {
    LOG(ERROR) << "cluster: client " << member.id() << " lost its nick and no guest nick is free: "
               << renamed;
    return io_->Depart(member, {DepartureReason::kIoError, "no free nick after losing its own"});
  }
  context_.registry->LogOut(member.id());
  member.set_nick(guest);
  member.set_account("");
  io_->Send(member, replies::Renamed(lost, guest, reason));
  RegisterRenamed(member, lost);
}

void Place::RegisterRenamed(Connection& member, const std::string& lost_nick, bool entry_taken) {
  // Its room hears of it through Redis: NICK, or JOIN of the new nick when the old one's entry is
  // gone (the winner took it on another node).
  cluster::Registration registration{
      member.id(), member.nick(), is_room() ? NameKey(room_name_) : "", room_name_, lost_nick,
      member.account(), PeerAddress(member.peer())};
  registration.entry_taken = entry_taken;
  context_.cluster->Register(registration);
}

void Place::ClusterLogin(Connection& member, const std::string& nick,
                         const std::string& account) {
  cluster::NickChange change =
      NickChangeOf(member, member.nick(), nick, is_room() ? NameKey(room_name_) : "", account);
  change.take = true;
  ClusterNode* node = context_.cluster;
  node->Nick(change, HoldFor<absl::Status>(
                         member,
                         [nick, account](Place& here, Connection& held, absl::Status status) {
                           if (!status.ok()) return here.SendError(held, status);
                           here.CompleteLogin(held, nick, account);
                         },
                         // Gone before the answer: as for a rename (ClusterNick).
                         [node, nick, room_key = change.room_key] {
                           node->Leave(room_key, NameKey(nick), /*release_nick=*/true, nullptr);
                         }));
}

void Place::ClusterLeaveRoom(Connection& member) {
  const std::string nick = member.nick();
  std::weak_ptr<Place> room = weak_from_this();
  context_.cluster->Leave(
      NameKey(room_name_), NameKey(nick), /*release_nick=*/false,
      HoldFor<absl::Status>(member, [room, nick](Place& here, Connection& held,
                                                 absl::Status told) {
        // Kicked meanwhile: the lobby answers, as one node would.
        if (room.lock().get() != &here) return here.OnLeave(held);
        if (!here.TryMove(held, [&here](std::unique_ptr<Connection>& moving) {
              return here.context_.registry->ReturnToLobby(moving, here.context_.lobby);
            })) {
          return;
        }
        // Redis could not be told: its members here hear it now (rc_prune tells the others).
        if (!told.ok()) here.AnnounceLeaveDuringOutage(nick);
      }));
}

void Place::ClusterLeave(const std::string& nick, bool release_nick) {
  ClusterNode::Answer<absl::Status> if_failed;
  if (is_room() && !stopping_) {
    std::weak_ptr<Place> weak = weak_from_this();
    if_failed = [weak, nick](absl::Status status) {
      if (status.ok()) return;
      std::shared_ptr<Place> place = weak.lock();
      if (place == nullptr) return;
      Place* raw = place.get();
      raw->RunInLoop([raw, nick] { raw->AnnounceLeaveDuringOutage(nick); });
    };
  }
  context_.cluster->Leave(is_room() ? NameKey(room_name_) : "", NameKey(nick), release_nick,
                          std::move(if_failed));
}

}  // namespace roomchat
