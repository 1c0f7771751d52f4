#include <cstdint>
#include <cstdio>
#include <string>

#include "chat/web/web_assets.h"

namespace roomchat {

std::string EtagOf(absl::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a, 64 bits
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char quoted[24];
  std::snprintf(quoted, sizeof(quoted), "\"%016llx\"", static_cast<unsigned long long>(hash));
  return quoted;
}

}  // namespace roomchat
