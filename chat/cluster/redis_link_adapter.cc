// RedisLink's hiredis hooks: the adapter that puts a connection's socket in the link's EventLoop,
// and the callbacks hiredis calls with replies and connection events (all on the link thread).
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <sys/epoll.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "chat/cluster/redis_link.h"
#include "glog/logging.h"

namespace roomchat {

void RedisLink::Conn::OnIo(uint64_t /*key*/, uint32_t happened) {
  redisAsyncContext* ac = ctx;
  if (ac == nullptr) return;
  const bool error = (happened & (EPOLLERR | EPOLLHUP)) != 0;
  // Until connected, hiredis completes (or fails) the connect on a write event.
  if (!connected) {
    if ((happened & EPOLLOUT) || error) redisAsyncHandleWrite(ac);
    return;
  }
  if ((happened & EPOLLIN) || error) redisAsyncHandleRead(ac);
  if (ctx == ac && (happened & EPOLLOUT)) redisAsyncHandleWrite(ac);
}

void RedisLink::UpdateWatch(Conn& conn, uint32_t events) {
  if (events == conn.events) return;
  EventLoop& loop = *conn.link->loop_;
  conn.events = events;
  if (events == 0) {
    if (conn.key != 0) loop.Unwatch(conn.fd, conn.key);
    conn.key = 0;
    return;
  }
  absl::Status status;
  if (conn.key == 0) {
    conn.key = conn.link->next_key_++;
    status = loop.Watch(conn.fd, events, conn.key, &conn);
  } else {
    status = loop.Modify(conn.fd, events, conn.key);
  }
  if (!status.ok()) LOG(ERROR) << "redis " << conn.role << " connection: " << status;
}

void RedisLink::AddRead(void* privdata) {
  Conn& conn = *static_cast<Conn*>(privdata);
  UpdateWatch(conn, conn.events | EPOLLIN);
}

void RedisLink::DelRead(void* privdata) {
  Conn& conn = *static_cast<Conn*>(privdata);
  UpdateWatch(conn, conn.events & ~static_cast<uint32_t>(EPOLLIN));
}

void RedisLink::AddWrite(void* privdata) {
  Conn& conn = *static_cast<Conn*>(privdata);
  if (conn.connected && !conn.flushing && !(conn.events & EPOLLOUT)) {
    conn.write_pending = true;  // written at the end of the round (FlushWrites)
    return;
  }
  UpdateWatch(conn, conn.events | EPOLLOUT);
}

void RedisLink::DelWrite(void* privdata) {
  Conn& conn = *static_cast<Conn*>(privdata);
  UpdateWatch(conn, conn.events & ~static_cast<uint32_t>(EPOLLOUT));
}

void RedisLink::Cleanup(void* privdata) {
  Conn& conn = *static_cast<Conn*>(privdata);
  UpdateWatch(conn, 0);
  conn.write_pending = false;
  conn.ctx = nullptr;
  conn.connected = false;
  conn.ready = false;
  conn.fd = -1;
}

void RedisLink::ConnectCallback(const redisAsyncContext* ac, int status) {
  Conn& conn = *static_cast<Conn*>(ac->data);
  conn.link->OnConnected(conn, status == REDIS_OK);
}

void RedisLink::DisconnectCallback(const redisAsyncContext* ac, int /*status*/) {
  Conn& conn = *static_cast<Conn*>(ac->data);
  std::string why = absl::StrCat(conn.role, " connection closed",
                                 ac->err != 0 ? absl::StrCat(": ", ac->errstr) : "");
  conn.link->LinkDown(why, &conn);
}

void RedisLink::ReplyCallback(redisAsyncContext* ac, void* reply, void* /*privdata*/) {
  static_cast<Conn*>(ac->data)->link->OnReply(reply);
}

void RedisLink::SubscriberCallback(redisAsyncContext* ac, void* reply, void* /*privdata*/) {
  static_cast<Conn*>(ac->data)->link->OnSubscriberReply(reply);
}

void RedisLink::ScriptLoadCallback(redisAsyncContext* ac, void* reply, void* /*privdata*/) {
  if (reply == nullptr) return;
  const redisReply& loaded = *static_cast<const redisReply*>(reply);
  if (loaded.type == REDIS_REPLY_ERROR) {
    Conn& conn = *static_cast<Conn*>(ac->data);
    LOG(ERROR) << "redis at " << conn.link->address_
               << " refused a script: " << std::string(loaded.str, loaded.len);
  }
}

void RedisLink::PongCallback(redisAsyncContext* ac, void* reply, void* /*privdata*/) {
  if (reply == nullptr) return;  // the context is being freed
  Conn& conn = *static_cast<Conn*>(ac->data);
  conn.ready = true;
  conn.link->MaybeUp();
}

}  // namespace roomchat
