// Reading members of a (compressed) tar archive into memory with libarchive, in place: no
// extraction to disk. Reading is sequential; callers decode the bytes afterwards (in parallel).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace convoy::data::detail {

struct ArchiveMember {
  std::string name;            // path inside the archive, as stored (e.g. "train/cat/0001.jpg")
  std::vector<uint8_t> bytes;
};

// Every regular-file member whose name passes `want` (all when empty). A corrupt, truncated
// or unreadable archive is a convoy::Error naming `path` (and the member, where known).
std::vector<ArchiveMember> read_archive_members(const std::string& path,
                                                const std::function<bool(const std::string&)>& want = {});

}  // namespace convoy::data::detail
