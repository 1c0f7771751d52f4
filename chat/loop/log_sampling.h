// How a repeated event is logged without flooding the log: its first occurrences, then one in each
// 2^k (1, 2, 3, 4, 8, 16, ... with first = 3), each line saying how many so far.
//
// Thread contract: a pure function; safe from any thread.
#ifndef ROOMCHAT_CHAT_LOOP_LOG_SAMPLING_H_
#define ROOMCHAT_CHAT_LOOP_LOG_SAMPLING_H_

#include <cstdint>

namespace roomchat {

// Whether the `count`-th occurrence (counted from 1) is logged: the first `first`, then each
// power of two.
inline bool LogsOccurrence(uint64_t count, uint64_t first = 3) {
  return count <= first || (count & (count - 1)) == 0;
}

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_LOOP_LOG_SAMPLING_H_
