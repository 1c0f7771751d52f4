#include "chat/protocol/caps.h"

namespace roomchat {

absl::string_view CapName(Cap cap) {
  switch (cap) {
    case Cap::kAck: return "ack";
    case Cap::kReplay: return "replay";
    case Cap::kTags: return "tags";
  }
  return "";
}

std::optional<Cap> CapByName(absl::string_view name) {
  for (Cap cap : kAllCaps) {
    if (CapName(cap) == name) return cap;
  }
  return std::nullopt;
}

}  // namespace roomchat
