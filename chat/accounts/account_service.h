// AccountService: the accounts worker thread. It owns the account database (AccountDb) and does
// every password hash and verify, so that no lobby or room thread ever hashes or touches the disk;
// like the history store, it runs an EventLoop of its own, fed through the loop's task queue.
//
// Hashing is Argon2id at libsodium's interactive limits: each hash or verify takes 64 MiB and tens
// to hundreds of milliseconds (about 0.35 s on a loaded 2-core test machine), and the one worker
// does them one at a time. So `max_pending`, the bound on jobs waiting or running, bounds both the
// memory (one hash at a time) and the queueing delay (max_pending hashes); past it a request is
// refused at once and the caller answers ERR unavailable. Throttling guesses per connection and per
// address is the caller's (LoginThrottle); this bound protects the server, not the accounts.
//
// A login for a nick with no account costs one verify too, against a hash made at Open of a random
// password, and fails with the same status as a wrong password: neither the answer nor its time
// tells whether a nick is registered. (Register does tell, by design: AlreadyExists.)
//
// Passwords travel as Secret (moved, never copied) and are zeroed on the worker thread after use,
// or wherever a refused or dropped job ends. Nothing here logs a password, a hash or a room's key.
//
// Room settings are written on the same thread, coalesced by room: only the newest value waiting
// for each room is written. A failed write is logged (with the room's name) and retried on a timer.
//
// Thread contract: Register(), Verify(), ChangePassword(), SaveRoom(), account_keys() and rooms()
// are safe from any thread. Open() and Start() are called once by the owner, then Stop() once
// (the destructor calls it if the owner did not). Every Done runs on the worker thread; the
// caller posts what it needs back to its own thread.
#ifndef ROOMCHAT_CHAT_ACCOUNTS_ACCOUNT_SERVICE_H_
#define ROOMCHAT_CHAT_ACCOUNTS_ACCOUNT_SERVICE_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "chat/accounts/account_db.h"
#include "chat/accounts/password.h"
#include "chat/accounts/room_settings.h"
#include "chat/loop/event_loop.h"

namespace roomchat {

struct AccountServiceOptions {
  // The data directory (the server holds its lock: AccountDb does not take it).
  std::string data_dir;
  // Register/Verify/ChangePassword jobs waiting or running at most; more are refused.
  size_t max_pending = 64;
  // How long a failed room settings write waits before it is tried again.
  std::chrono::milliseconds room_save_retry{5000};
};

class AccountService {
 public:
  // Told the outcome of a job, on the worker thread.
  using Done = absl::AnyInvocable<void(absl::Status) &&>;

  // Opens the database (creating data_dir) and loads the account keys and registered rooms.
  static absl::StatusOr<std::unique_ptr<AccountService>> Open(
      const AccountServiceOptions& options);
  // The same over another store (in a cluster, Redis); options.data_dir is not used.
  static absl::StatusOr<std::unique_ptr<AccountService>> Create(
      const AccountServiceOptions& options, std::unique_ptr<AccountStore> store);
  ~AccountService();  // Stop()

  AccountService(const AccountService&) = delete;
  AccountService& operator=(const AccountService&) = delete;

  // Starts the worker thread; its first task makes the hash unknown nicks are verified against.
  // Jobs submitted before run once it has started.
  absl::Status Start();
  // Answers the jobs already accepted that have not started with Unavailable (without hashing:
  // a stop waits for one hash at most), writes the room settings waiting (one
  // try; a failure is logged), and ends the thread. Afterwards every job is refused and SaveRoom
  // logs that the settings are lost. Without Start(), the room settings are written here, on the
  // caller's thread, and accepted jobs are dropped without their Done.
  void Stop();

  // ---- Safe from any thread.
  // As stored when Open() ran: for the registry to know every registered nick and room.
  const std::vector<std::string>& account_keys() const { return account_keys_; }
  const std::vector<RoomSettings>& rooms() const { return rooms_; }

  // Each returns false at once, without calling `done`, when max_pending jobs are waiting or
  // running or the service has stopped; the caller answers ERR unavailable.
  //
  // Stores a new account: OK once stored; AlreadyExists if `account_key` is registered;
  // InvalidArgument for an empty key or password.
  bool Register(std::string account_key, std::string nick, std::string password, Done done);
  // OK when `password` is the account's; Unauthenticated when it is not OR there is no such
  // account (the same status and the same cost). A hash made with older limits is replaced.
  bool Verify(std::string account_key, std::string password, Done done);
  // Replaces the password: Unauthenticated as Verify when `old_password` is wrong;
  // InvalidArgument for an empty new password.
  bool ChangePassword(std::string account_key, std::string old_password, std::string new_password,
                      Done done);
  // Queues `settings` to be stored (an unregistered room's are deleted). Never refused: settings
  // are small and change rarely, and only the newest per room waits.
  void SaveRoom(RoomSettings settings);

 private:
  using Job = absl::AnyInvocable<absl::Status() &&>;

  AccountService(const AccountServiceOptions& options, std::unique_ptr<AccountStore> db,
                 std::unique_ptr<EventLoop> loop, std::vector<std::string> account_keys,
                 std::vector<RoomSettings> rooms);

  // Counts `job` against max_pending and queues it for the worker; false when refused.
  bool Submit(Job job, Done done);

  // ---- Worker thread only (or the caller of Stop() when the thread never started).
  absl::Status DoRegister(const std::string& account_key, const std::string& nick,
                          const Secret& password);
  void MakeUnknownAccountHash();  // unless made already
  // OK or Unauthenticated, after exactly one verify whether or not the account exists.
  absl::Status CheckPassword(const std::string& account_key, const Secret& password);
  absl::Status DoChangePassword(const std::string& account_key, const Secret& old_password,
                                const Secret& new_password);
  // Writes the room settings waiting; puts back the failed ones and arms the retry timer, unless
  // this is the `last_try` (at the stop), when failures are logged as lost.
  void SaveRooms(bool last_try);

  // Const after construction.
  const AccountServiceOptions options_;
  const std::unique_ptr<EventLoop> loop_;
  const std::vector<std::string> account_keys_;
  const std::vector<RoomSettings> rooms_;

  // Owned by the worker thread.
  std::unique_ptr<AccountStore> db_;
  // A hash of a random password that nobody knows: unknown nicks are verified against it. Made by
  // the worker's first task, so that Open() does not wait for a hash.
  absl::StatusOr<std::string> unknown_account_hash_ = absl::UnavailableError("not made yet");
  EventLoop::TimerId retry_timer_ = 0;

  absl::Mutex mu_;
  size_t pending_ ABSL_GUARDED_BY(mu_) = 0;  // accepted jobs whose Done has not been called
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Room settings to write, by room key: the newest value of each.
  absl::flat_hash_map<std::string, RoomSettings> rooms_to_save_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_ACCOUNTS_ACCOUNT_SERVICE_H_
