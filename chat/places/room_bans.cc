// Room's bans, topic and key (the rest of room_moderation.cc).
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "chat/places/room.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {

std::vector<RoomBan> Room::BansFor(const Connection& op, const Connection* target,
                                   const std::string& nick) const {
  if (target != nullptr && !target->account().empty()) {
    return {{RoomBan::Kind::kAccount, target->account(), op.nick()}};
  }
  if (target != nullptr) {
    return {{RoomBan::Kind::kNick, NameKey(nick), op.nick()},
            {RoomBan::Kind::kAddress, PeerAddress(target->peer()), op.nick()}};
  }
  if (context().registry->IsAccount(nick)) {
    return {{RoomBan::Kind::kAccount, NameKey(nick), op.nick()}};
  }
  return {{RoomBan::Kind::kNick, NameKey(nick), op.nick()}};
}

void Room::DoBan(Connection& op, const std::string& nick) {
  ClientId id = context().registry->IdOf(nick);
  Connection* target = id == 0 ? nullptr : io().Find(id);
  if (target != nullptr && target->departure()) target = nullptr;
  if (target == &op) return SendError(op, ProtocolError(ErrorCode::kBadArgs, "not yourself"));
  std::vector<RoomBan> bans = BansFor(op, target, nick);
  for (const RoomBan& ban : bans) {
    if (ban.kind == RoomBan::Kind::kAccount && ban.value == settings_.owner) {
      return SendError(op, ProtocolError(ErrorCode::kNotOp,
                                         absl::StrCat(nick, " owns ", room_name())));
    }
  }
  if (settings_.bans.size() + bans.size() > RoomSettings::kMaxBans) {
    return SendError(op, ProtocolError(ErrorCode::kLimit,
                                       absl::StrCat(room_name(), " holds its maximum of ",
                                                    RoomSettings::kMaxBans, " bans")));
  }
  for (RoomBan& ban : bans) {
    bool known = absl::c_any_of(settings_.bans, [&](const RoomBan& b) {
      return b.kind == ban.kind && b.value == ban.value;
    });
    if (ban.kind == RoomBan::Kind::kAccount) {
      auto op_account = absl::c_find(settings_.op_accounts, ban.value);
      if (op_account != settings_.op_accounts.end()) settings_.op_accounts.erase(op_account);
    }
    if (!known) settings_.bans.push_back(std::move(ban));
  }
  PublishSettings();
  LOG(INFO) << "room " << room_name() << ": " << op.nick() << " banned " << nick;
  io().Send(op, replies::Ok(Command::Kind::kBan, nick));
  if (target != nullptr) Kick(op, *target, "banned");
}

void Room::DoUnban(Connection& op, const std::string& who) {
  const std::string key = NameKey(who);
  size_t removed = settings_.bans.size();
  settings_.bans.erase(std::remove_if(settings_.bans.begin(), settings_.bans.end(),
                                      [&](const RoomBan& ban) {
                                        return ban.kind == RoomBan::Kind::kAddress
                                                   ? ban.value == who
                                                   : ban.value == key;
                                      }),
                       settings_.bans.end());
  removed -= settings_.bans.size();
  if (removed == 0) {
    return SendError(op, ProtocolError(ErrorCode::kBadArgs, absl::StrCat("no ban matches ", who)));
  }
  PublishSettings();
  LOG(INFO) << "room " << room_name() << ": " << op.nick() << " lifted " << removed << " bans";
  io().Send(op, replies::Ok(Command::Kind::kUnban, who, absl::StrCat(removed)));
}

void Room::DoBans(Connection& op) {
  std::string out;
  for (const RoomBan& ban : settings_.bans) {
    out += replies::Ban(room_name(), RoomBanKindName(ban.kind), ban.value, ban.by);
  }
  out += replies::Ok(Command::Kind::kBans, room_name(), absl::StrCat(settings_.bans.size()));
  io().Send(op, out);
}

void Room::DoTopic(Connection& op, const std::string& text) {
  if (text == "-") {
    settings_.topic.clear();
  } else {
    settings_.topic = text;
  }
  settings_.topic_by = op.nick();
  PublishSettings();
  io().Send(op, replies::Ok(Command::Kind::kTopic, room_name()));
  Announce(op.id(), replies::Topic(room_name(), op.nick(), settings_.topic));
}

void Room::DoKey(Connection& op, const std::string& key) {
  if (key == "-") {
    settings_.key.clear();
  } else {
    settings_.key = key;
  }
  PublishSettings();
  LOG(INFO) << "room " << room_name() << ": " << op.nick()
            << (key == "-" ? " removed the key" : " set a key");
  io().Send(op, key == "-" ? replies::Ok(Command::Kind::kKey, room_name(), "-")
                           : replies::Ok(Command::Kind::kKey, room_name()));
}

}  // namespace roomchat
