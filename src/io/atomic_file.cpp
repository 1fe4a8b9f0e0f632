#include "physgen/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <streambuf>
#include <vector>

#include "physgen/core/check.h"

namespace physgen {
namespace {

std::string errno_reason(int err) { return std::strerror(err); }

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Explains a failed open() of the temporary file in terms of the target path.
std::string open_failure_reason(const std::string& path, int err) {
  const std::string dir = parent_dir(path);
  struct stat st {};
  if (err == ENOENT || err == ENOTDIR) {
    if (::stat(dir.c_str(), &st) != 0) return "directory '" + dir + "' does not exist";
    if (!S_ISDIR(st.st_mode)) return "'" + dir + "' is not a directory";
  }
  if (err == EACCES || err == EPERM) return "permission denied in directory '" + dir + "'";
  if (err == EROFS) return "directory '" + dir + "' is on a read-only file system";
  return errno_reason(err);
}

// A write-through stream buffer over a POSIX file descriptor that remembers the
// first error (so the caller can report errno after the writer returns).
class FdStreambuf : public std::streambuf {
 public:
  explicit FdStreambuf(int fd) : fd_(fd), buffer_(1 << 16) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  int error() const { return error_; }
  bool flush_all() { return drain() && error_ == 0; }

 protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n >= static_cast<std::streamsize>(buffer_.size())) {
      if (!drain() || !write_all(s, static_cast<size_t>(n))) return 0;
      return n;
    }
    return std::streambuf::xsputn(s, n);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const size_t n = static_cast<size_t>(pptr() - pbase());
    const bool ok = write_all(pbase(), n);
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return ok;
  }
  bool write_all(const char* p, size_t n) {
    if (error_ != 0) return false;
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

// Removes the temporary file unless released (after a successful rename).
struct TempGuard {
  std::string path;
  int fd = -1;
  bool armed = true;
  ~TempGuard() {
    if (fd >= 0) ::close(fd);
    if (armed) ::unlink(path.c_str());
  }
};

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw IoError("cannot write " + path + ": " + reason);
}

void fsync_directory(const std::string& dir) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;  // best effort: the rename itself already happened
  (void)::fsync(dfd);
  ::close(dfd);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  check_arg(!path.empty(), "path", path, "a non-empty file name");
  TempGuard tmp;
  tmp.path = path + ".tmp." + std::to_string(::getpid());
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (tmp.fd < 0) {
    const int err = errno;
    tmp.armed = false;  // nothing was created
    fail(path, open_failure_reason(path, err));
  }
  {
    FdStreambuf buf(tmp.fd);
    std::ostream os(&buf);
    try {
      writer(os);
    } catch (const InvalidArgument&) {
      throw;
    } catch (const IoError&) {
      throw;
    } catch (const std::exception& e) {
      fail(path, error_message(e));
    } catch (...) {
      fail(path, "the writer threw a non-standard exception");
    }
    const bool stream_ok = static_cast<bool>(os);
    if (!buf.flush_all()) fail(path, errno_reason(buf.error()));
    if (!stream_ok) fail(path, "the output stream reported an error");
  }
  if (::fsync(tmp.fd) != 0) fail(path, "fsync failed: " + errno_reason(errno));
  const int fd = tmp.fd;
  tmp.fd = -1;
  if (::close(fd) != 0) fail(path, "close failed: " + errno_reason(errno));
  if (::rename(tmp.path.c_str(), path.c_str()) != 0) {
    const int err = errno;
    fail(path, err == EISDIR ? "it is a directory" : "rename failed: " + errno_reason(err));
  }
  tmp.armed = false;
  fsync_directory(parent_dir(path));
}

void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  write_file_atomic(path, [&](std::ostream& os) {
    os.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  });
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

void rename_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) fail(to, "rename of " + from + " failed: " + errno_reason(errno));
  fsync_directory(parent_dir(to));
}

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw IoError("cannot remove " + path + ": " + errno_reason(errno));
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string read_file_bytes(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw IoError("cannot read " + path + ": " +
                  (err == ENOENT ? std::string("no such file") : errno_reason(err)));
  }
  if (S_ISDIR(st.st_mode)) throw IoError("cannot read " + path + ": it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path + ": " + errno_reason(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("cannot read " + path + ": read error");
  return ss.str();
}

}  // namespace physgen
