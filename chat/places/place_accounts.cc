// Place's account commands: /register, /login, /password, /logout (docs/PROTOCOL.md, "Accounts").
// The hashing is the accounts thread's; a place only checks, hands over, and applies the answer.
#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/places/place.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

absl::Status NickRegistered(absl::string_view nick) {
  return ProtocolError(ErrorCode::kNickRegistered, absl::StrCat(nick, " is registered already"));
}

absl::Status Unavailable() {
  return ProtocolError(ErrorCode::kUnavailable, "accounts are not available now; try later");
}

}  // namespace

void Place::ExecuteAccountCommand(Connection& member, const Command& command) {
  switch (command.kind) {
    case Command::Kind::kRegister: return DoRegister(member, command);
    case Command::Kind::kLogin: return DoLogin(member, command);
    case Command::Kind::kPassword: return DoPassword(member, command);
    case Command::Kind::kLogout: return DoLogout(member);
    default: return;
  }
}

absl::Status Place::CheckPasswordAllowed(Connection& member) const {
  if (context_.accounts == nullptr) return Unavailable();
  const std::string address = PeerAddress(member.peer());
  bool secure = member.tls() || context_.allow_plaintext_auth ||
                (context_.plaintext_auth_from_loopback && IsLoopbackAddress(address));
  if (!secure) {
    return ProtocolError(ErrorCode::kInsecure,
                         "passwords travel only over TLS; connect to the TLS port");
  }
  std::chrono::seconds wait = context_.login_guard->WaitFor(member.id(), address, Clock::now());
  if (wait.count() > 0) {
    return ProtocolError(ErrorCode::kAuthFailed,
                         absl::StrCat("too many failed logins; try again in ", wait.count(), " s"));
  }
  return absl::OkStatus();
}

absl::Status Place::BeginPasswordJob(Connection& member) {
  if (absl::Status allowed = CheckPasswordAllowed(member); !allowed.ok()) return allowed;
  if (!context_.login_guard->TryBegin(PeerAddress(member.peer()))) {
    return ProtocolError(ErrorCode::kAuthFailed,
                         "another password from your address is being checked; try again in a "
                         "moment");
  }
  return absl::OkStatus();
}

void Place::RefusePasswordJob(Connection& member) {
  context_.login_guard->Finished(PeerAddress(member.peer()));
  io_->Resume(member);
  SendError(member, Unavailable());
}

AccountService::Done Place::AnswerTo(Connection& member, HeldAnswer<absl::Status> answer,
                                     std::function<void(const absl::Status&)> first) {
  std::function<void(absl::Status)> routed = HoldFor<absl::Status>(member, std::move(answer));
  return [guard = context_.login_guard, address = PeerAddress(member.peer()),
          first = std::move(first), routed = std::move(routed)](absl::Status status) mutable {
    guard->Finished(address);
    if (first) first(status);
    routed(std::move(status));
  };
}

void Place::DoRegister(Connection& member, const Command& command) {
  if (!member.account().empty()) {
    return SendError(member, ProtocolError(ErrorCode::kBadArgs,
                                           absl::StrCat("you are logged in to ", member.nick(),
                                                        " already; /logout first")));
  }
  if (IsGuestNick(member.nick())) {
    return SendError(member, ProtocolError(ErrorCode::kBadName,
                                           "guest nicks cannot be registered; /nick NAME first"));
  }
  if (context_.registry->IsAccount(member.nick())) {
    return SendError(member, NickRegistered(member.nick()));
  }
  if (absl::Status begun = BeginPasswordJob(member); !begun.ok()) {
    return SendError(member, begun);
  }
  std::string account = NameKey(member.nick());
  context_.login_guard->Registering(PeerAddress(member.peer()), Clock::now());
  Registry* registry = context_.registry;
  const ClientId id = member.id();
  AccountService::Done done = AnswerTo(
      member,
      [account](Place& here, Connection& held, absl::Status status) {
        here.FinishRegister(held, account, std::move(status));
      },
      // The nick is protected once stored, even if its client is gone before it hears so.
      [registry, id, account](const absl::Status& status) {
        if (status.ok()) registry->Registered(id, account);
      });
  if (!context_.accounts->Register(account, member.nick(), command.password, std::move(done))) {
    RefusePasswordJob(member);
  }
}

void Place::FinishRegister(Connection& member, const std::string& account, absl::Status status) {
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return SendError(member, NickRegistered(member.nick()));
  }
  if (!status.ok()) {
    LOG(ERROR) << "cannot register account " << account << ": " << status;
    return SendError(member, Unavailable());
  }
  member.set_account(account);  // the registry knows (AnswerTo's first step)
  if (in_cluster()) ClusterAccountChanged(member);
  LOG(INFO) << "client " << member.id() << " registered account " << account;
  io_->Send(member, replies::Ok(Command::Kind::kRegister, member.nick()));
}

void Place::DoLogin(Connection& member, const Command& command) {
  if (absl::Status begun = BeginPasswordJob(member); !begun.ok()) {
    return SendError(member, begun);
  }
  std::string nick = command.name;
  std::string account = NameKey(nick);
  AccountService::Done done =
      AnswerTo(member, [nick, account](Place& here, Connection& held, absl::Status status) {
        here.FinishLogin(held, nick, account, std::move(status));
      });
  if (!context_.accounts->Verify(account, command.password, std::move(done))) {
    RefusePasswordJob(member);
  }
}

void Place::LoginFailed(Connection& member, absl::string_view account) {
  const std::string address = PeerAddress(member.peer());
  context_.login_guard->Failed(member.id(), address, Clock::now());
  // A nick that is no account may be a password typed in the wrong place: not logged.
  LOG(WARNING) << "failed login to "
               << (context_.registry->IsAccount(account) ? absl::StrCat("account ", account)
                                                         : std::string("an unknown account"))
               << " by client " << member.id() << " from " << address;
  SendError(member, ProtocolError(ErrorCode::kAuthFailed, "wrong nick or password"));
}

void Place::FinishLogin(Connection& member, const std::string& nick, const std::string& account,
                        absl::Status status) {
  if (status.code() == absl::StatusCode::kUnauthenticated) return LoginFailed(member, account);
  if (!status.ok()) {
    LOG(ERROR) << "cannot check a login to account " << account << ": " << status;
    return SendError(member, Unavailable());
  }
  if (in_cluster()) return ClusterLogin(member, nick, account);
  CompleteLogin(member, nick, account);
}

void Place::CompleteLogin(Connection& member, const std::string& nick,
                          const std::string& account) {
  std::string winner_room = is_room() ? NameKey(room_name_) : "";
  absl::StatusOr<std::string> old_nick = context_.registry->LogIn(
      member.id(), nick, account, [winner_room](std::string lost_nick) -> ClientTask {
        return [lost_nick = std::move(lost_nick), winner_room](Place& here, Connection& holder) {
          here.LoseNick(holder, lost_nick, winner_room);
        };
      });
  if (!old_nick.ok()) return;  // it is leaving
  context_.login_guard->Succeeded(member.id());
  member.set_nick(nick);
  member.set_account(account);
  LOG(INFO) << "client " << member.id() << " logged in to account " << account;
  io_->Send(member, replies::Ok(Command::Kind::kLogin, nick));
  // In a cluster the room hears it from Redis (the NICK entry of the login's claim).
  if (*old_nick != nick && !in_cluster()) Announce(member.id(), replies::Nick(*old_nick, nick));
}

void Place::LoseNick(Connection& member, const std::string& lost_nick,
                     const std::string& winner_room) {
  std::string now = context_.registry->NickOf(member.id());
  if (now.empty()) return;
  std::string before = member.nick();
  member.set_nick(now);
  member.set_account("");
  io_->Send(member, replies::Renamed(lost_nick, now,
                                     absl::StrCat("someone logged in to the account ", lost_nick)));
  // In a cluster, a winner in this room took the entry under the nick with it (its login's
  // claim moved it there): this member's room hears NICK, and the entry stays the winner's.
  if (in_cluster()) {
    return RegisterRenamed(member, before, is_room() && NameKey(room_name_) == winner_room);
  }
  if (before != now) Announce(member.id(), replies::Nick(before, now));
}

void Place::DoPassword(Connection& member, const Command& command) {
  // Insecure first: a password over plain text is refused before anything is said about it.
  if (absl::Status allowed = CheckPasswordAllowed(member); !allowed.ok()) {
    return SendError(member, allowed);
  }
  if (member.account().empty()) {
    return SendError(member, ProtocolError(ErrorCode::kAuthFailed, "you are not logged in"));
  }
  if (absl::Status begun = BeginPasswordJob(member); !begun.ok()) {
    return SendError(member, begun);
  }
  std::string account = member.account();
  AccountService::Done done =
      AnswerTo(member, [account](Place& here, Connection& held, absl::Status status) {
        if (status.code() == absl::StatusCode::kUnauthenticated) {
          return here.LoginFailed(held, account);
        }
        here.FinishPassword(held, std::move(status));
      });
  if (!context_.accounts->ChangePassword(account, command.password, command.new_password,
                                         std::move(done))) {
    RefusePasswordJob(member);
  }
}

void Place::FinishPassword(Connection& member, absl::Status status) {
  if (!status.ok()) {
    LOG(ERROR) << "cannot change the password of account " << member.account() << ": " << status;
    return SendError(member, Unavailable());
  }
  LOG(INFO) << "client " << member.id() << " changed the password of account "
            << member.account();
  io_->Send(member, replies::Ok(Command::Kind::kPassword));
}

void Place::DoLogout(Connection& member) {
  if (member.account().empty()) {
    return SendError(member, ProtocolError(ErrorCode::kAuthFailed, "you are not logged in"));
  }
  context_.registry->LogOut(member.id());
  LOG(INFO) << "client " << member.id() << " logged out of account " << member.account();
  member.set_account("");
  if (in_cluster()) ClusterAccountChanged(member);
  io_->Send(member, replies::Ok(Command::Kind::kLogout, member.nick()));
}

}  // namespace roomchat
