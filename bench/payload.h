// The bench's message payload: "<sender:8 hex> <seq:12 hex> <send time ns:16 hex> xxx...", padded
// with 'x' to the requested size. Fixed-width hex keeps formatting and parsing cheap at millions of
// messages per second, and is valid text in every protocol (no spaces would break nothing either).
// Pure; safe from any thread.
#ifndef ROOMCHAT_BENCH_PAYLOAD_H_
#define ROOMCHAT_BENCH_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace roomchat {

inline constexpr size_t kMinPayloadBytes = 40;

struct PayloadFields {
  uint32_t sender;
  uint64_t seq;
  int64_t send_ns;
};

// Writes the payload for `fields` into `out` (resized to `bytes`, at least kMinPayloadBytes).
void FormatPayload(const PayloadFields& fields, size_t bytes, std::string* out);
// False if `payload` is not one of ours.
bool ParsePayload(absl::string_view payload, PayloadFields* fields);

}  // namespace roomchat

#endif  // ROOMCHAT_BENCH_PAYLOAD_H_
