// write_file_atomic: complete files or nothing, never a temporary left behind.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "physgen/core/check.h"
#include "physgen/io/atomic_file.h"
#include "support/io_test_util.h"

namespace physgen {
namespace {

using test::expect_contains;
using test::message_of;
using test::TempDir;

TEST(AtomicFile, WritesContentAndLeavesNoTemporary) {
  TempDir dir;
  const auto path = dir.file("a.txt");
  write_file_atomic(path, std::string("hello\n"));
  EXPECT_EQ(test::slurp(path), "hello\n");
  write_file_atomic(path, [](std::ostream& os) { os << "replaced " << 42; });
  EXPECT_EQ(test::slurp(path), "replaced 42");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.txt"});
}

TEST(AtomicFile, LargeContentRoundTrips) {
  TempDir dir;
  std::string big(3 * (1 << 20) + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  write_file_atomic(dir.file("big.bin"), [&](std::ostream& os) {
    os.write(big.data(), 5);                                      // small write, buffered
    os.write(big.data() + 5, static_cast<std::streamsize>(big.size() - 5));  // large, write-through
  });
  EXPECT_EQ(read_file_bytes(dir.file("big.bin")), big);
}

TEST(AtomicFile, WriterThrowingKeepsOldFileAndRemovesTemporary) {
  TempDir dir;
  const auto path = dir.file("keep.txt");
  write_file_atomic(path, std::string("old content"));
  auto msg = message_of<IoError>([&] {
    write_file_atomic(path, [](std::ostream& os) {
      os << std::string(200000, 'x');  // more than the buffer: the temporary file has data
      throw std::runtime_error("simulated failure midway");
    });
  });
  expect_contains(msg, {path, "simulated failure midway"});
  EXPECT_EQ(test::slurp(path), "old content");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.txt"});
}

TEST(AtomicFile, PhysgenExceptionsFromWriterPropagateUnchanged) {
  TempDir dir;
  const auto path = dir.file("x.txt");
  auto msg = message_of<InvalidArgument>(
      [&] { write_file_atomic(path, [](std::ostream&) { throw InvalidArgument("bad dtype"); }); });
  EXPECT_EQ(msg, "bad dtype");
  EXPECT_TRUE(dir.entries().empty());
}

TEST(AtomicFile, MissingDirectoryIsNamed) {
  TempDir dir;
  const auto path = dir.file("no/such/dir/f.txt");
  auto msg = message_of<IoError>([&] { write_file_atomic(path, std::string("x")); });
  expect_contains(msg, {"cannot write " + path, "directory '" + dir.file("no/such/dir") + "' does not exist"});
}

TEST(AtomicFile, PermissionDeniedIsNamed) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permissions are not enforced";
  TempDir dir;
  const auto sub = dir.file("ro");
  ASSERT_EQ(::mkdir(sub.c_str(), 0555), 0);
  auto msg = message_of<IoError>([&] { write_file_atomic(sub + "/f.txt", std::string("x")); });
  expect_contains(msg, {sub + "/f.txt", "permission denied"});
}

TEST(AtomicFile, TargetIsADirectory) {
  TempDir dir;
  const auto sub = dir.file("d");
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  auto msg = message_of<IoError>([&] { write_file_atomic(sub, std::string("x")); });
  expect_contains(msg, {"cannot write " + sub});
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"d"});
}

TEST(AtomicFile, ReadMissingFileNamesIt) {
  TempDir dir;
  auto msg = message_of<IoError>([&] { read_file_bytes(dir.file("nope")); });
  expect_contains(msg, {dir.file("nope"), "no such file"});
  EXPECT_FALSE(file_exists(dir.file("nope")));
  EXPECT_FALSE(file_exists(dir.path()));
}

}  // namespace
}  // namespace physgen
