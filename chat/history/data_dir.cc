#include "chat/history/data_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace roomchat {
namespace {

absl::Status MakeDirectory(const std::string& path) {
  if (mkdir(path.c_str(), 0700) == 0) return absl::OkStatus();
  int error = errno;
  struct stat info;
  if (error == EEXIST && stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a directory"));
  }
  return absl::ErrnoToStatus(error, absl::StrCat("cannot create directory ", path));
}

}  // namespace

absl::Status MakeDataDir(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("empty directory name");
  for (size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1)) {
    if (dir[slash - 1] == '/') continue;  // "a//b"
    if (absl::Status made = MakeDirectory(dir.substr(0, slash)); !made.ok()) return made;
  }
  return MakeDirectory(dir);
}

// Two servers writing one store would give the same ids twice and lose whole groups to the clash.
absl::StatusOr<int> LockDataDir(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("empty directory name");
  std::string path = absl::StrCat(dir, dir.back() == '/' ? "" : "/", "roomchat.lock");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, " is in use by another roomchat server (", path, " is locked)"));
    }
    return absl::ErrnoToStatus(error, absl::StrCat("cannot lock ", path));
  }
  return fd;
}

}  // namespace roomchat
