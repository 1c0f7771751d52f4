// A room's operators and settings in a cluster (docs/CLUSTER.md, "Room settings across nodes"):
// the settings live in Redis, each command is one script (rc_room_op) that checks and changes
// them, and what members see comes back as a room entry (TOPIC, OP, DEOP, KICK) that every part
// delivers in order with the lines. A part keeps only its operators by connection (guests here).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "chat/places/room.h"
#include "chat/protocol/command.h"
#include "chat/protocol/names.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

using RoomOpResult = absl::StatusOr<cluster::RoomOpDone>;

// What the asker of `kind` gets once Redis has done it.
std::string OpReply(Command::Kind kind, const std::string& room, const std::string& given,
                    const std::string& text, const cluster::RoomOpDone& done) {
  switch (kind) {
    case Command::Kind::kTopic:
      if (!text.empty() || done.topic.empty()) return replies::Ok(kind, room);
      return absl::StrCat(replies::Topic(room, done.topic_by, done.topic),
                          replies::Ok(kind, room));
    case Command::Kind::kKey:
      return text == "-" ? replies::Ok(kind, room, "-") : replies::Ok(kind, room);
    case Command::Kind::kBan: return replies::Ok(kind, given);
    case Command::Kind::kUnban: return replies::Ok(kind, given, absl::StrCat(done.lifted));
    case Command::Kind::kBans: {
      std::string out;
      for (const RoomBan& ban : done.bans) {
        out += replies::Ban(room, RoomBanKindName(ban.kind), ban.value, ban.by);
      }
      return absl::StrCat(out, replies::Ok(kind, room, absl::StrCat(done.bans.size())));
    }
    default: return replies::Ok(kind, done.target);  // /op, /deop, /kick
  }
}

}  // namespace

void Place::ClusterRoomOp(Connection& member, const cluster::RoomOp& op, Command::Kind kind,
                          const std::string& given) {
  const std::string room = room_name_;
  const std::string asker = member.nick();
  const std::string account = member.account();
  context_.cluster->OperateRoom(
      op, HoldFor<RoomOpResult>(member, [kind, room, given, asker, account, text = op.text](
                                            Place& here, Connection& held, RoomOpResult done) {
        if (!done.ok()) return here.SendError(held, done.status());
        if (done->owner_limit_hit) {
          LOG(WARNING) << "limit hit: an account opped in room " << room << " owns "
                       << RoomSettings::kMaxOwnedPerAccount << " rooms; the room is not kept";
        }
        if (!done->target.empty() || kind == Command::Kind::kUnban) {
          LOG(INFO) << "room " << room << ": " << asker << " " << OkWord(kind) << " "
                    << (done->target.empty() ? given : done->target);
        }
        // Wherever the asker is by then (ReceivePrivate forwards it if it moved on).
        here.AfterEntry(done->seq, [&here, id = held.id(), reply = OpReply(kind, room, given,
                                                                         text, *done)] {
          here.ReceivePrivate(id, reply);
        });
      }));
}

void Room::OperateInCluster(Connection& member, const Command& command) {
  using Verb = cluster::RoomOp::Verb;
  cluster::RoomOp op;
  op.room_key = room_key_;
  op.nick = member.nick();
  op.account = member.account();
  op.op_here = op_clients_.contains(member.id());
  op.target = command.name;
  switch (command.kind) {
    case Command::Kind::kOp: op.verb = Verb::kOp; break;
    case Command::Kind::kDeop: op.verb = Verb::kDeop; break;
    case Command::Kind::kKick:
      op.verb = Verb::kKick;
      op.text = command.text.empty() ? "(no reason)" : command.text;
      break;
    case Command::Kind::kBan: op.verb = Verb::kBan; break;
    case Command::Kind::kUnban:
      op.verb = Verb::kUnban;
      op.target = command.text;
      break;
    case Command::Kind::kBans: op.verb = Verb::kBans; break;
    case Command::Kind::kTopic:
      op.verb = command.text.empty() ? Verb::kShowTopic : Verb::kTopic;
      op.text = command.text;
      break;
    case Command::Kind::kKey:
      op.verb = Verb::kKey;
      op.text = command.key;
      break;
    default: return;
  }
  ClusterRoomOp(member, op, command.kind, op.target);
}

std::optional<std::string> Room::SettingsEntryLine(const cluster::RoomEntry& entry,
                                                   ClientId* asker) const {
  // The asker had its OK; the entry names it by its nick (unique in the cluster).
  auto asked_here = [&](absl::string_view by) {
    if (asker != nullptr && entry.origin == context().cluster->node_id()) {
      *asker = StreamMember(by);
    }
  };
  if (entry.kind == "TOPIC") {
    std::pair<std::string, std::string> fields = absl::StrSplit(entry.body, absl::MaxSplits(' ', 1));
    asked_here(fields.first);
    return replies::Topic(room_name(), fields.first, fields.second);
  }
  std::vector<std::string> fields = absl::StrSplit(entry.body, absl::MaxSplits(' ', 2));
  if (fields.size() < 2) return std::nullopt;
  asked_here(fields[1]);
  if (entry.kind == "OP") return replies::Op(room_name(), fields[0], fields[1]);
  if (entry.kind == "DEOP") return replies::Deop(room_name(), fields[0], fields[1]);
  if (entry.kind == "KICK" && fields.size() == 3) {
    return replies::Kick(room_name(), fields[0], fields[1], fields[2]);
  }
  return std::nullopt;
}

void Room::ApplySettingsEntry(const cluster::RoomEntry& entry) {
  std::vector<std::string> fields = absl::StrSplit(entry.body, absl::MaxSplits(' ', 2));
  ClientId asker = kNobody;
  std::optional<std::string> line = SettingsEntryLine(entry, &asker);
  if (!line) return;
  if (entry.kind != "TOPIC") {
    const ClientId id = StreamMember(fields[0]);
    Connection* target = id == kNobody ? nullptr : io().Find(id);
    if (entry.kind == "OP" && target != nullptr && fields.size() == 3 && fields[2] == "guest") {
      op_clients_.insert(id);
    }
    if (entry.kind == "DEOP") op_clients_.erase(id);
    if (entry.kind == "KICK" && target != nullptr) {
      // Redis has it out of the room already, unless this node registered it there again on its
      // return from an outage, before it read this KICK back from the room's stream: then it
      // leaves Redis's room too, so that Redis and this node agree (else nothing happens). Asked
      // before the move: once moved, it hears KICKED and may /join again at once, and that join
      // must reach Redis after this leave (an ASan run of moderation_test saw the leave undo it).
      context().cluster->Leave(room_key_, NameKey(target->nick()), /*release_nick=*/false,
                               nullptr);
      MoveKicked(*target, fields[1], fields[2]);
    }
  }
  Announce(asker, *line);
}

ClientId Room::StreamMember(absl::string_view nick) const {
  auto it = stream_members_.find(NameKey(nick));
  return it == stream_members_.end() ? kNobody : it->second;
}

void Room::SetStreamNick(ClientId id, absl::string_view nick) {
  ForgetStreamNick(id);
  std::string key = NameKey(nick);
  // The entries name one member by a nick at a time: whoever held it here before is gone.
  if (auto held = stream_members_.find(key); held != stream_members_.end()) {
    stream_nicks_.erase(held->second);
  }
  stream_members_[key] = id;
  stream_nicks_[id] = std::move(key);
}

void Room::ForgetStreamNick(ClientId id) {
  auto it = stream_nicks_.find(id);
  if (it == stream_nicks_.end()) return;
  stream_members_.erase(it->second);
  stream_nicks_.erase(it);
}

}  // namespace roomchat
