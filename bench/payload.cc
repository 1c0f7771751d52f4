#include "bench/payload.h"

namespace roomchat {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void PutHex(uint64_t value, int digits, char* out) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[value & 0xf];
    value >>= 4;
  }
}

bool GetHex(absl::string_view text, uint64_t* value) {
  uint64_t result = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    result = (result << 4) | static_cast<uint64_t>(digit);
  }
  *value = result;
  return true;
}

}  // namespace

void FormatPayload(const PayloadFields& fields, size_t bytes, std::string* out) {
  if (bytes < kMinPayloadBytes) bytes = kMinPayloadBytes;
  if (out->size() != bytes) out->assign(bytes, 'x');
  char* p = out->data();
  PutHex(fields.sender, 8, p);
  p[8] = ' ';
  PutHex(fields.seq, 12, p + 9);
  p[21] = ' ';
  PutHex(static_cast<uint64_t>(fields.send_ns), 16, p + 22);
  p[38] = ' ';
}

bool ParsePayload(absl::string_view payload, PayloadFields* fields) {
  if (payload.size() < kMinPayloadBytes - 1 || payload[8] != ' ' || payload[21] != ' ') {
    return false;
  }
  uint64_t sender, seq, send_ns;
  if (!GetHex(payload.substr(0, 8), &sender) || !GetHex(payload.substr(9, 12), &seq) ||
      !GetHex(payload.substr(22, 16), &send_ns)) {
    return false;
  }
  fields->sender = static_cast<uint32_t>(sender);
  fields->seq = seq;
  fields->send_ns = static_cast<int64_t>(send_ns);
  return true;
}

}  // namespace roomchat
