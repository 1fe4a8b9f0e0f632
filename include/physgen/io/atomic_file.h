#pragma once
// Crash-safe file writes and whole-file reads.
//
// Every file physgen writes (ensembles, sidecars, checkpoints, images, plot
// scripts) goes through write_file_atomic: the bytes go to a temporary file
// `PATH.tmp.<pid>` in the same directory, which is flushed, fsync'ed and then
// renamed over PATH. A reader therefore sees either the complete old file or
// the complete new one, never a torn write, even if the process is killed.
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>

namespace physgen {

/// Writes a file atomically: `writer` streams the content into a temporary
/// file `path + ".tmp.<pid>"` beside `path`; on success the temporary file is
/// flushed, fsync'ed and renamed over `path` (the directory is fsync'ed too).
///
/// On any failure (directory missing, permission denied, disk full, `writer`
/// throwing) the temporary file is removed, an existing `path` is left
/// untouched, and IoError("cannot write PATH: REASON") is thrown. Exceptions of
/// physgen's own types (InvalidArgument, IoError) thrown by `writer` propagate
/// unchanged; any other exception is wrapped into an IoError naming `path`.
/// Not for concurrent writes of the same path from two threads of one process.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer);

/// Writes `bytes` to `path` atomically (see the stream overload).
void write_file_atomic(const std::string& path, const std::string& bytes);

/// Writes `size` bytes at `data` to `path` atomically (see the stream overload).
void write_file_atomic(const std::string& path, const void* data, std::size_t size);

/// The whole content of `path`; IoError("cannot read PATH: REASON") if it is
/// missing, a directory or unreadable.
std::string read_file_bytes(const std::string& path);

/// Renames `from` over `to` (atomic on one file system) and fsyncs the directory;
/// IoError("cannot write TO: rename of FROM failed: REASON").
void rename_file(const std::string& from, const std::string& to);

/// Removes `path` if it exists; IoError if it exists and cannot be removed.
void remove_file(const std::string& path);

/// True if `path` names an existing regular file (or a symlink to one).
bool file_exists(const std::string& path);

}  // namespace physgen
