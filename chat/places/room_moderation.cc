// Room's operators and settings: /op /deop /kick /ban /unban /bans /topic /key (docs/PROTOCOL.md,
// "Rooms and their operators"). The room thread owns its settings; after each change it hands a
// copy to the registry, which checks /join against it, and for a registered room to the accounts
// thread, which stores it.
#include <memory>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "chat/places/room.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {

void Room::LoadSettings() {
  std::shared_ptr<const RoomSettings> kept = context().registry->RegisteredRoom(room_name());
  if (kept != nullptr) {
    settings_ = *kept;
    settings_.name = room_name();
    LOG(INFO) << "room " << room_name() << " keeps the settings of its owner " << settings_.owner;
    return;
  }
  settings_.room_key = room_key_;
  settings_.name = room_name();
}

bool Room::IsOp(const Connection& member) const {
  return op_clients_.contains(member.id()) || settings_.IsOpAccount(member.account());
}

bool Room::IsOwner(const Connection& member) const {
  return settings_.registered() && member.account() == settings_.owner;
}

void Room::GreetCreator(Connection& creator, const std::string& key) {
  if (settings_.registered()) return;  // its operators are its operator accounts
  op_clients_.insert(creator.id());
  if (!key.empty()) settings_.key = key;
  if (!creator.account().empty()) AddOpAccount(creator.account());
  if (!key.empty() || settings_.registered()) PublishSettings();
}

void Room::AddOpAccount(const std::string& account) {
  if (settings_.IsOpAccount(account)) return;
  settings_.op_accounts.push_back(account);
  if (settings_.registered()) return;
  if (context().registry->RoomsOwnedBy(account) >= RoomSettings::kMaxOwnedPerAccount) {
    LOG(WARNING) << "limit hit: the account " << account << " owns "
                 << RoomSettings::kMaxOwnedPerAccount << " rooms; room " << room_name()
                 << " is not kept";
    return;
  }
  settings_.owner = account;
  LOG(INFO) << "room " << room_name() << " is owned by the account " << account;
}

void Room::PublishSettings() {
  context().registry->PublishRoomSettings(std::make_shared<const RoomSettings>(settings_));
  if (context().accounts != nullptr && settings_.registered()) {
    context().accounts->SaveRoom(settings_);
  }
}

void Room::SendTopic(Connection& member) {
  if (settings_.topic.empty()) return;
  io().Send(member, replies::Topic(room_name(), settings_.topic_by, settings_.topic));
}

Connection* Room::MemberCalled(Connection& asker, const std::string& nick) {
  ClientId id = context().registry->IdOf(nick);
  Connection* member = id == 0 ? nullptr : io().Find(id);
  if (member == nullptr || member->departure()) {
    SendError(asker, ProtocolError(ErrorCode::kNoSuchNick,
                                   absl::StrCat(nick, " is not in ", room_name())));
    return nullptr;
  }
  return member;
}

void Room::OnModeration(Connection& member, const Command& command) {
  if (in_cluster()) return OperateInCluster(member, command);
  if (command.kind == Command::Kind::kTopic && command.text.empty()) {
    SendTopic(member);
    return io().Send(member, replies::Ok(Command::Kind::kTopic, room_name()));
  }
  if (!IsOp(member)) {
    return SendError(member, ProtocolError(ErrorCode::kNotOp,
                                           absl::StrCat("you are not an operator of ",
                                                        room_name())));
  }
  switch (command.kind) {
    case Command::Kind::kOp: return DoOp(member, command.name, true);
    case Command::Kind::kDeop: return DoOp(member, command.name, false);
    case Command::Kind::kKick:
      return DoKick(member, command.name, command.text.empty() ? "(no reason)" : command.text);
    case Command::Kind::kBan: return DoBan(member, command.name);
    case Command::Kind::kUnban: return DoUnban(member, command.text);
    case Command::Kind::kBans: return DoBans(member);
    case Command::Kind::kTopic: return DoTopic(member, command.text);
    case Command::Kind::kKey: return DoKey(member, command.key);
    default: return;
  }
}

void Room::DoOp(Connection& op, const std::string& nick, bool grant) {
  Connection* target = MemberCalled(op, nick);
  if (target == nullptr) return;
  const std::string& account = target->account();
  if (grant) {
    if (!account.empty() && !settings_.IsOpAccount(account)) {
      if (settings_.op_accounts.size() >= RoomSettings::kMaxOpAccounts) {
        return SendError(op, ProtocolError(ErrorCode::kLimit, "too many operator accounts"));
      }
      AddOpAccount(account);
      PublishSettings();
    } else if (account.empty()) {
      op_clients_.insert(target->id());
    }
  } else {
    if (IsOwner(*target)) {
      return SendError(op, ProtocolError(ErrorCode::kNotOp,
                                         absl::StrCat(nick, " owns ", room_name(),
                                                      " and stays operator")));
    }
    op_clients_.erase(target->id());
    auto it = absl::c_find(settings_.op_accounts, account);
    if (!account.empty() && it != settings_.op_accounts.end()) {
      settings_.op_accounts.erase(it);
      PublishSettings();
    }
  }
  LOG(INFO) << "room " << room_name() << ": " << op.nick() << (grant ? " opped " : " deopped ")
            << target->nick();
  io().Send(op, replies::Ok(grant ? Command::Kind::kOp : Command::Kind::kDeop, target->nick()));
  Announce(op.id(), grant ? replies::Op(room_name(), target->nick(), op.nick())
                          : replies::Deop(room_name(), target->nick(), op.nick()));
}

void Room::DoKick(Connection& op, const std::string& nick, const std::string& reason) {
  Connection* target = MemberCalled(op, nick);
  if (target == nullptr) return;
  if (target == &op) {
    return SendError(op, ProtocolError(ErrorCode::kBadArgs, "to leave, /leave"));
  }
  if (IsOwner(*target)) {
    return SendError(op, ProtocolError(ErrorCode::kNotOp,
                                       absl::StrCat(nick, " owns ", room_name())));
  }
  io().Send(op, replies::Ok(Command::Kind::kKick, target->nick()));
  Kick(op, *target, reason);
}

void Room::Kick(Connection& op, Connection& target, const std::string& reason) {
  std::string nick = target.nick();
  if (!MoveKicked(target, op.nick(), reason)) return;
  LOG(INFO) << "room " << room_name() << ": " << op.nick() << " kicked " << nick;
  Announce(op.id(), replies::Kick(room_name(), nick, op.nick(), reason));
}

bool Room::MoveKicked(Connection& target, const std::string& by, const std::string& reason) {
  // Its /history read will find it gone: its input must not stay held where it goes.
  if (history_reads_.erase(target.id()) > 0) target.set_input_on_hold(false);
  Admission kicked{Admission::Kind::kKicked, "", 0, by, reason};
  return TryMove(target, [&](std::unique_ptr<Connection>& moving) {
    return context().registry->ReturnToLobby(moving, context().lobby, kicked);
  });
}

}  // namespace roomchat
