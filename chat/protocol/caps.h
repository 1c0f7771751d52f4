// Capabilities: what a client may turn on with "/cap req NAME..." beyond protocol v1
// (docs/PROTOCOL.md, "Capabilities and history"). A connection that asks for nothing sees v1 byte for
// byte. Pure; safe from any thread.
#ifndef ROOMCHAT_CHAT_PROTOCOL_CAPS_H_
#define ROOMCHAT_CHAT_PROTOCOL_CAPS_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"

namespace roomchat {

enum class Cap : uint8_t {
  kAck = 1 << 0,     // "ACK <room> <id>" for each of the client's chat lines, once stored
  kReplay = 1 << 1,  // /join and /create are followed by the room's recent lines
  kTags = 1 << 2,    // chat lines come with "@id=..;time=.. " before them
};

// Every capability, in the order "/cap" lists them.
inline constexpr Cap kAllCaps[] = {Cap::kAck, Cap::kReplay, Cap::kTags};

// The name a client asks for, e.g. "tags".
absl::string_view CapName(Cap cap);
// The capability called `name` (exact, lower case), if any.
std::optional<Cap> CapByName(absl::string_view name);

// A set of capabilities; a plain value.
class CapSet {
 public:
  CapSet() = default;
  bool Has(Cap cap) const { return (bits_ & static_cast<uint8_t>(cap)) != 0; }
  void Add(Cap cap) { bits_ |= static_cast<uint8_t>(cap); }
  bool empty() const { return bits_ == 0; }
  bool operator==(CapSet other) const { return bits_ == other.bits_; }

 private:
  uint8_t bits_ = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_CAPS_H_
