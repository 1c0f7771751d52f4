// The text rules of protocol v1 (docs/PROTOCOL.md, "Transport and framing"): what a line's bytes
// may hold. The line framer applies them to every line a client sends.
//
//   - valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF);
//   - no C0 control other than TAB (U+0000-U+001F except U+0009) and no DEL (U+007F);
//   - no C1 control (U+0080-U+009F, e.g. U+009B CSI, U+0085 NEL) and no line or paragraph
//     separator (U+2028, U+2029);
//   - bidirectional controls only balanced and properly nested within the line: an embedding or
//     override (LRE RLE LRO RLO, U+202A U+202B U+202D U+202E) is closed by a PDF (U+202C), an
//     isolate (LRI RLI FSI, U+2066-U+2068) by a PDI (U+2069); a PDF closes only an open embedding
//     or override, a PDI only an open isolate; nothing is left open at the end of the line, and at
//     most kMaxBidiDepth are open at once. So nothing a user sends can reorder what follows it on
//     someone else's screen. Right-to-left letters need no controls and are accepted.
//
// Pure functions; safe from any thread.
#ifndef ROOMCHAT_CHAT_PROTOCOL_TEXT_RULES_H_
#define ROOMCHAT_CHAT_PROTOCOL_TEXT_RULES_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace roomchat {

// What CheckLineText() says about a line that breaks a rule; the text of its ERR bad-encoding.
// The first is protocol v1's original text and stays byte for byte.
inline constexpr absl::string_view kNotUtf8OrControl =
    "lines must be UTF-8 without control characters other than TAB; dropped";
inline constexpr absl::string_view kC1OrSeparator =
    "C1 control characters and U+2028/U+2029 are not allowed; dropped";
inline constexpr absl::string_view kUnbalancedBidi =
    "bidirectional controls must be balanced within the line; dropped";

// How many embeddings, overrides and isolates may be open at once.
inline constexpr int kMaxBidiDepth = 16;

// Empty when `line` (without its terminator) follows every rule; otherwise one of the texts above.
// Invalid UTF-8 and C0 controls take precedence, so a line refused before the C1 and bidi rules
// existed is refused with the same text.
absl::string_view CheckLineText(absl::string_view line);

// True when `text` is valid UTF-8 (RFC 3629).
bool IsValidUtf8(absl::string_view text);

// True when `text` holds a C0 control byte other than TAB, or DEL.
bool HasControlByte(absl::string_view text);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_TEXT_RULES_H_
