// Place's commands in a cluster (docs/CLUSTER.md, "How each command becomes asynchronous"): what
// needs Redis is checked locally where it can be, then the member's input is held while the link
// thread runs the script, and the answer is applied on whichever place holds the member by then.
#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/places/place.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {

template <typename T>
std::function<void(T)> Place::HoldFor(Connection& member, ClusterAnswer<T> answer,
                                      std::function<void()> if_gone) {
  member.set_input_on_hold(true);
  Registry* registry = context_.registry;
  const ClientId id = member.id();
  return [registry, id, answer = std::move(answer), if_gone = std::move(if_gone)](T result) {
    bool routed = registry->RunWhereClientIs(
        id, [answer, result = std::move(result), id](Place& here, Connection& held) {
          held.set_input_on_hold(false);  // unless the answer holds it again for a next step
          answer(here, held, result);
          // Unless it moved to another place meanwhile (it takes its input there).
          if (here.io().Find(id) == &held && !held.input_on_hold()) here.io().Resume(held);
        });
    if (!routed && if_gone) if_gone();
  };
}

void Place::ClaimGuestNick(Connection& member) {
  Registry* registry = context_.registry;
  context_.cluster->Nick(
      cluster::NickChange{"", member.nick(), ""},
      [registry, id = member.id(), nick = member.nick()](absl::Status status) {
        if (status.ok()) return;
        // Someone on another node took this guest nick with /nick first: a new one.
        if (HasErrorCode(status, ErrorCode::kNickTaken)) {
          registry->RunWhereClientIs(
              id, ClusterNickLost(nick, "someone on another server chose this guest nick first"));
          return;
        }
        // Redis away: claimed when the link is back (re-registration).
        LOG(WARNING) << "cluster: guest nick " << nick << " could not be claimed in Redis: "
                     << status;
      });
}

void Place::ClusterNick(Connection& member, const std::string& nick) {
  ClientId holder = context_.registry->IdOf(nick);
  if (holder != 0 && holder != member.id()) {
    return SendError(member, ProtocolError(ErrorCode::kNickTaken, absl::StrCat(nick, " is taken")));
  }
  cluster::NickChange change{member.nick(), nick, is_room() ? NameKey(room_name_) : "",
                             member.account()};
  context_.cluster->Nick(
      change, HoldFor<absl::Status>(member, [nick](Place& here, Connection& held,
                                                   absl::Status status) {
        if (status.ok()) status = here.context_.registry->Rename(held.id(), nick);
        if (!status.ok()) return here.SendError(held, status);
        held.set_nick(nick);
        here.io().Send(held, replies::Ok(Command::Kind::kNick, nick));
      }));
}

void Place::ClusterCreate(Connection& member, const Command& command) {
  if (!command.key.empty()) {  // docs/CLUSTER.md, "Status": room settings are not cluster-wide
    return SendError(member, ProtocolError(ErrorCode::kUnavailable,
                                           "room keys are not available across cluster nodes "
                                           "yet"));
  }
  // A part open here means the room exists; the script checks the rest (and the limits).
  absl::Status can_create = context_.registry->CheckCanCreate(command.name, member.id());
  if (!can_create.ok()) return SendError(member, can_create);
  cluster::RoomMove move{NameKey(member.nick()), member.nick(), NameKey(command.name),
                         command.name, is_room() ? NameKey(room_name_) : ""};
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
                             [node, room_key = move.room_key] { node->EndRoomMove(room_key); }));
}

void Place::ClusterJoin(Connection& member, const Command& command) {
  // Redis away: a room with a part here can still be joined here (Redis hears of it on return).
  if (!context_.cluster->up() && context_.registry->HasRoomPart(command.name)) {
    return JoinPartDuringOutage(member, command);
  }
  cluster::RoomMove move{NameKey(member.nick()), member.nick(), NameKey(command.name), "",
                         is_room() ? NameKey(room_name_) : ""};
  Admission admission{Admission::Kind::kJoined, "", command.since_id};
  ClusterNode* node = context_.cluster;
  node->JoinRoom(move, HoldFor<absl::StatusOr<cluster::Entered>>(
                           member,
                           [room_key = move.room_key, admission](
                               Place& here, Connection& held,
                               absl::StatusOr<cluster::Entered> entered) {
                             here.EnterClusterRoom(held, room_key, std::move(entered), admission);
                           },
                           [node, room_key = move.room_key] { node->EndRoomMove(room_key); }));
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
  const std::string& name = entered->room_name;
  std::shared_ptr<Place> fresh;
  absl::Status opened;
  if (!context_.registry->HasRoomPart(name)) {
    absl::StatusOr<std::shared_ptr<Place>> room = context_.make_room(name);
    opened = room.status();
    if (room.ok()) opened = context_.start_room(fresh = *std::move(room));
  }
  const std::string nick_key = NameKey(member.nick());
  bool used = false;
  member.set_input_on_hold(false);  // taken again by the place it moves to
  bool moved = opened.ok() && TryMove(member, [&](std::unique_ptr<Connection>& moving) {
                 return context_.registry->EnterRoomPart(moving, name, admission, fresh, &used);
               });
  if (fresh != nullptr && !used) fresh->Stop();
  node->EndRoomMove(room_key);
  if (moved) return;
  if (!opened.ok()) {
    LOG(ERROR) << "limit hit: cannot open a part of room " << name << ": " << opened;
    SendError(member, ProtocolError(ErrorCode::kLimit, "cannot open a room now"));
  }
  // Redis counts the member in the room it could not enter here: take it out again.
  node->Leave(room_key, nick_key, /*release_nick=*/false, nullptr);
}

void Place::JoinPartDuringOutage(Connection& member, const Command& command) {
  Admission admission{Admission::Kind::kJoined, "", command.since_id};  // cluster_seq 0: local
  bool used = false;
  TryMove(member, [&](std::unique_ptr<Connection>& moving) {
    return context_.registry->EnterRoomPart(moving, command.name, admission, nullptr, &used);
  });
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

void Place::ClusterWho(Connection& member, const std::string& room_key) {
  using Who = absl::StatusOr<cluster::ClusterWho>;
  context_.cluster->Who(room_key, HoldFor<Who>(member, [](Place& here, Connection& held, Who who) {
                          if (!who.ok()) return here.SendError(held, who.status());
                          std::string out;
                          for (const std::string& nick : who->nicks) out += replies::Member(nick);
                          out += replies::Ok(Command::Kind::kWho, who->room_name,
                                             absl::StrCat(who->nicks.size()));
                          here.io().Send(held, out);
                        }));
}

void Place::ClusterMsg(Connection& member, const Command& command) {
  using Route = absl::StatusOr<cluster::MsgRoute>;
  std::string line = replies::Priv(member.nick(), command.text);
  context_.cluster->SendPrivate(
      NameKey(command.name), line,
      HoldFor<Route>(member, [to = command.name, line](Place& here, Connection& held, Route route) {
        absl::Status sent = route.status();
        // "local": the nick came to this node after the first look; deliver it from here.
        if (route.ok() && *route == cluster::MsgRoute::kLocal) {
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
  std::string guest = absl::StrCat("guest", context_.cluster->NextGuestNumber());
  if (!context_.registry->Rename(member.id(), guest).ok()) return;
  context_.registry->LogOut(member.id());
  member.set_nick(guest);
  member.set_account("");
  io_->Send(member, replies::Renamed(lost, guest, reason));
  RegisterRenamed(member, lost);
}

void Place::RegisterRenamed(Connection& member, const std::string& lost_nick) {
  // Its room hears of it through Redis: NICK, or JOIN of the new nick when the old one's entry is
  // gone (the winner took it).
  context_.cluster->Register(cluster::Registration{member.id(), member.nick(),
                                                   is_room() ? NameKey(room_name_) : "",
                                                   room_name_, lost_nick});
}

void Place::ClusterLogin(Connection& member, const std::string& nick,
                         const std::string& account) {
  cluster::NickChange change{member.nick(), nick, is_room() ? NameKey(room_name_) : "", account,
                             /*take=*/true};
  context_.cluster->Nick(change, HoldFor<absl::Status>(member, [nick, account](
                                                                   Place& here, Connection& held,
                                                                   absl::Status status) {
                           if (!status.ok()) return here.SendError(held, status);
                           here.CompleteLogin(held, nick, account);
                         }));
}

void Place::ClusterLeave(const std::string& nick, bool release_nick) {
  ClusterNode::Answer<absl::Status> if_failed;
  if (is_room() && !stopping_) {
    std::weak_ptr<Place> weak = weak_from_this();
    if_failed = [weak, line = replies::Leave(room_name_, nick)](absl::Status status) {
      if (status.ok()) return;
      std::shared_ptr<Place> place = weak.lock();
      if (place == nullptr) return;
      Place* raw = place.get();
      raw->RunInLoop([raw, line] { raw->Announce(kNobody, line); });
    };
  }
  context_.cluster->Leave(is_room() ? NameKey(room_name_) : "", NameKey(nick), release_nick,
                          std::move(if_failed));
}

}  // namespace roomchat
