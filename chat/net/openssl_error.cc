#include "chat/net/openssl_error.h"

#include <openssl/err.h>

namespace roomchat {

std::string TakeOpenSslError(absl::string_view if_none) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return std::string(if_none);
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace roomchat
