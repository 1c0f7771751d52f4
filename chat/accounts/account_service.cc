#include "chat/accounts/account_service.h"

#include <sodium.h>

#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// One status for a wrong password and for a nick with no account, so the two cannot be told apart.
absl::Status WrongPassword() {
  return absl::UnauthenticatedError("wrong password or no such account");
}

// The hash unknown nicks are verified against: of 32 random bytes nobody ever sees.
absl::StatusOr<std::string> HashOfUnknownPassword() {
  if (absl::Status ready = InitSodium(); !ready.ok()) return ready;
  std::string random(32, '\0');
  randombytes_buf(random.data(), random.size());
  Secret password(absl::BytesToHexString(random));
  WipeSecret(random);
  return HashPassword(password.view());
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccountService>> AccountService::Open(
    const AccountServiceOptions& options) {
  absl::StatusOr<std::unique_ptr<AccountDb>> db = AccountDb::Open(options.data_dir);
  if (!db.ok()) return db.status();
  return Create(options, *std::move(db));
}

absl::StatusOr<std::unique_ptr<AccountService>> AccountService::Create(
    const AccountServiceOptions& options, std::unique_ptr<AccountStore> db) {
  absl::StatusOr<std::vector<std::string>> account_keys = db->AccountKeys();
  if (!account_keys.ok()) return account_keys.status();
  absl::StatusOr<std::vector<RoomSettings>> rooms = db->LoadRooms();
  if (!rooms.ok()) return rooms.status();
  if (absl::Status ready = InitSodium(); !ready.ok()) return ready;
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create("accounts");
  if (!loop.ok()) return loop.status();
  return std::unique_ptr<AccountService>(new AccountService(
      options, std::move(db), *std::move(loop), *std::move(account_keys), *std::move(rooms)));
}

AccountService::AccountService(const AccountServiceOptions& options,
                               std::unique_ptr<AccountStore> db,
                               std::unique_ptr<EventLoop> loop,
                               std::vector<std::string> account_keys,
                               std::vector<RoomSettings> rooms)
    : options_(options), loop_(std::move(loop)), account_keys_(std::move(account_keys)),
      rooms_(std::move(rooms)), db_(std::move(db)) {}

AccountService::~AccountService() { Stop(); }

absl::Status AccountService::Start() {
  // The first task, ahead of every job: a server starts without waiting for a hash.
  loop_->Post([this] { MakeUnknownAccountHash(); });
  try {
    thread_ = std::thread([this] {
      loop_->Run();
      SaveRooms(/*last_try=*/true);  // what was waiting at the stop
    });
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start the accounts thread: ", e.what()));
  }
  return absl::OkStatus();
}

void AccountService::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;  // from here nothing more is posted, so Quit() comes after every post
  }
  if (!thread_.joinable()) {
    SaveRooms(/*last_try=*/true);  // no worker ever ran: the caller's is the only thread on db_
    return;
  }
  loop_->Quit();
  thread_.join();
}

bool AccountService::Submit(Job job, Done done) {
  absl::MutexLock lock(&mu_);
  if (stopped_ || pending_ >= options_.max_pending) return false;
  ++pending_;
  // Posted under mu_, so that Stop() cannot slip between the check and the post.
  loop_->Post([this, job = std::move(job), done = std::move(done)]() mutable {
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      stopping = stopped_;
    }
    // At a stop, jobs that have not started are answered without their hash: a shutdown does
    // not wait for max_pending hashes.
    absl::Status status = stopping ? absl::UnavailableError("accounts: the server is stopping")
                                   : std::move(job)();
    {
      absl::MutexLock lock(&mu_);
      --pending_;  // before Done, which may submit the next job
    }
    std::move(done)(std::move(status));
  });
  return true;
}

bool AccountService::Register(std::string account_key, std::string nick, std::string password,
                              Done done) {
  return Submit(
      [this, account_key = std::move(account_key), nick = std::move(nick),
       password = Secret(std::move(password))]() mutable {
        return DoRegister(account_key, nick, password);
      },
      std::move(done));
}

bool AccountService::Verify(std::string account_key, std::string password, Done done) {
  return Submit(
      [this, account_key = std::move(account_key),
       password = Secret(std::move(password))]() mutable -> absl::Status {
        absl::Status status = CheckPassword(account_key, password);
        if (!status.ok()) return status;
        // A hash made with older limits is replaced while the password is at hand.
        absl::StatusOr<std::optional<std::string>> hash = db_->PasswordHash(account_key);
        if (hash.ok() && hash->has_value() && NeedsRehash(**hash)) {
          absl::StatusOr<std::string> rehashed = HashPassword(password.view());
          absl::Status stored = rehashed.ok() ? db_->SetPasswordHash(account_key, *rehashed)
                                              : rehashed.status();
          if (!stored.ok()) LOG(WARNING) << "accounts: cannot rehash a password: " << stored;
        }
        return status;
      },
      std::move(done));
}

bool AccountService::ChangePassword(std::string account_key, std::string old_password,
                                    std::string new_password, Done done) {
  return Submit(
      [this, account_key = std::move(account_key), old_password = Secret(std::move(old_password)),
       new_password = Secret(std::move(new_password))]() mutable {
        return DoChangePassword(account_key, old_password, new_password);
      },
      std::move(done));
}

absl::Status AccountService::DoRegister(const std::string& account_key, const std::string& nick,
                                        const Secret& password) {
  if (account_key.empty() || password.view().empty()) {
    return absl::InvalidArgumentError("accounts: register: empty account name or password");
  }
  absl::StatusOr<std::optional<std::string>> existing = db_->PasswordHash(account_key);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return absl::AlreadyExistsError(absl::StrCat("accounts: ", nick, " is registered"));
  }
  absl::StatusOr<std::string> hash = HashPassword(password.view());
  if (!hash.ok()) return hash.status();
  return db_->CreateAccount(account_key, nick, *hash, absl::ToUnixMillis(absl::Now()));
}

void AccountService::MakeUnknownAccountHash() {
  if (!unknown_account_hash_.ok()) unknown_account_hash_ = HashOfUnknownPassword();
}

absl::Status AccountService::CheckPassword(const std::string& account_key,
                                           const Secret& password) {
  absl::StatusOr<std::optional<std::string>> hash = db_->PasswordHash(account_key);
  if (!hash.ok()) return hash.status();
  MakeUnknownAccountHash();  // in case jobs queued before Start() came first
  if (!unknown_account_hash_.ok()) return unknown_account_hash_.status();
  const std::string& stored = hash->has_value() ? **hash : *unknown_account_hash_;
  bool matches = VerifyPassword(stored, password.view());  // the same work either way
  if (!matches || !hash->has_value()) return WrongPassword();
  return absl::OkStatus();
}

absl::Status AccountService::DoChangePassword(const std::string& account_key,
                                              const Secret& old_password,
                                              const Secret& new_password) {
  if (new_password.view().empty()) {
    return absl::InvalidArgumentError("accounts: change password: empty new password");
  }
  if (absl::Status checked = CheckPassword(account_key, old_password); !checked.ok()) {
    return checked;
  }
  absl::StatusOr<std::string> hash = HashPassword(new_password.view());
  if (!hash.ok()) return hash.status();
  return db_->SetPasswordHash(account_key, *hash);
}

void AccountService::SaveRoom(RoomSettings settings) {
  absl::MutexLock lock(&mu_);
  if (stopped_) {
    LOG(ERROR) << "accounts: the settings of room " << settings.name
               << " came after the stop and are not stored";
    return;
  }
  // The first waiting room wakes the worker; later ones ride along (or wait for the retry timer
  // while a failed write is waiting for it).
  bool wake = rooms_to_save_.empty();
  std::string room_key = settings.room_key;
  rooms_to_save_.insert_or_assign(std::move(room_key), std::move(settings));
  if (wake) loop_->Post([this] { SaveRooms(/*last_try=*/false); });
}

void AccountService::SaveRooms(bool last_try) {
  absl::flat_hash_map<std::string, RoomSettings> saving;
  {
    absl::MutexLock lock(&mu_);
    saving.swap(rooms_to_save_);
  }
  std::vector<RoomSettings> failed;
  for (auto& [room_key, settings] : saving) {
    absl::Status saved = db_->SaveRoom(settings);
    if (saved.ok()) continue;
    if (last_try || absl::IsInvalidArgument(saved)) {  // the latter would fail again
      LOG(ERROR) << "accounts: the settings of room " << settings.name
                 << " could not be stored and are lost: " << saved;
      continue;
    }
    LOG(WARNING) << "accounts: the settings of room " << settings.name
                 << " could not be stored; trying again in "
                 << options_.room_save_retry.count() << " ms: " << saved;
    failed.push_back(std::move(settings));
  }
  if (failed.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    // A newer value queued meanwhile replaces the one that failed.
    for (RoomSettings& settings : failed) {
      std::string room_key = settings.room_key;
      rooms_to_save_.try_emplace(std::move(room_key), std::move(settings));
    }
  }
  if (retry_timer_ == 0) {
    retry_timer_ = loop_->RunAfter(options_.room_save_retry, [this] {
      retry_timer_ = 0;
      SaveRooms(/*last_try=*/false);
    });
  }
}

}  // namespace roomchat
