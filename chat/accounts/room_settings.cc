#include "chat/accounts/room_settings.h"

#include <openssl/crypto.h>

#include "absl/algorithm/container.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {

absl::string_view RoomBanKindName(RoomBan::Kind kind) {
  switch (kind) {
    case RoomBan::Kind::kAccount: return "account";
    case RoomBan::Kind::kNick: return "nick";
    case RoomBan::Kind::kAddress: return "address";
  }
  return "nick";  // Not reached: the switch covers every kind.
}

bool RoomBanKindByName(absl::string_view name, RoomBan::Kind* kind) {
  for (RoomBan::Kind candidate :
       {RoomBan::Kind::kAccount, RoomBan::Kind::kNick, RoomBan::Kind::kAddress}) {
    if (name == RoomBanKindName(candidate)) {
      *kind = candidate;
      return true;
    }
  }
  return false;
}

bool RoomSettings::IsOpAccount(absl::string_view account) const {
  return !account.empty() && absl::c_linear_search(op_accounts, account);
}

bool RoomSettings::operator==(const RoomSettings& other) const {
  return room_key == other.room_key && name == other.name && owner == other.owner &&
         op_accounts == other.op_accounts && topic == other.topic &&
         topic_by == other.topic_by && key == other.key && bans == other.bans;
}

namespace {

bool Matches(const RoomBan& ban, const RoomVisitor& visitor) {
  switch (ban.kind) {
    case RoomBan::Kind::kAccount:
      return (!visitor.account.empty() && ban.value == visitor.account) ||
             (!visitor.former_account.empty() && ban.value == visitor.former_account);
    case RoomBan::Kind::kNick: return ban.value == visitor.nick_key;
    case RoomBan::Kind::kAddress: return ban.value == visitor.address;
  }
  return false;
}

bool SameKey(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

absl::Status AdmitToRoom(const RoomSettings& settings, const RoomVisitor& visitor,
                         absl::string_view key) {
  if (settings.IsOpAccount(visitor.account)) return absl::OkStatus();
  for (const RoomBan& ban : settings.bans) {
    if (Matches(ban, visitor)) {
      return ProtocolError(ErrorCode::kBanned,
                           absl::StrCat("you are banned from ", settings.name));
    }
  }
  if (!settings.key.empty() && !SameKey(settings.key, key)) {
    return ProtocolError(ErrorCode::kBadKey,
                         key.empty() ? absl::StrCat(settings.name, " needs a key: /join ",
                                                    settings.name, " KEY")
                                     : absl::StrCat("wrong key for ", settings.name));
  }
  return absl::OkStatus();
}

std::string PeerAddress(absl::string_view peer) {
  if (absl::ConsumePrefix(&peer, "[")) {
    absl::string_view address = peer.substr(0, peer.find(']'));
    absl::ConsumePrefix(&address, "::ffff:");  // an IPv4 client of an IPv6 socket: as IPv4
    return std::string(address);
  }
  size_t colon = peer.rfind(':');
  return std::string(colon == absl::string_view::npos ? peer : peer.substr(0, colon));
}

}  // namespace roomchat
