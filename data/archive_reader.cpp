#include "data/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "engine/error.h"

namespace convoy::data::detail {

namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string archive_message(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unknown libarchive error";
}

}  // namespace

std::vector<ArchiveMember> read_archive_members(const std::string& path,
                                                const std::function<bool(const std::string&)>& want) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, ": missing (no such archive)");
  std::unique_ptr<archive, ArchiveCloser> a(archive_read_new());
  if (!a) fail(path, ": cannot allocate a libarchive reader");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 20) != ARCHIVE_OK)
    fail(path, ": cannot open as a tar archive: ", archive_message(a.get()));

  std::vector<ArchiveMember> members;
  for (int64_t index = 0;; ++index) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN)
      fail(path, ": corrupt or truncated archive at member ", index,
           members.empty() ? std::string() : " (after " + members.back().name + ")", ": ", archive_message(a.get()));
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = raw_name ? raw_name : "";
    if (archive_entry_filetype(entry) != AE_IFREG || (want && !want(name))) {
      if (archive_read_data_skip(a.get()) < ARCHIVE_WARN)
        fail(path, ": corrupt or truncated archive in member ", name, ": ", archive_message(a.get()));
      continue;
    }
    ArchiveMember m;
    m.name = name;
    // The size in the header is untrusted: reserve at most 64 MiB ahead (a CIFAR member is
    // 30 MB); a larger member grows as its bytes actually arrive.
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0)
      m.bytes.reserve(static_cast<size_t>(std::min<int64_t>(archive_entry_size(entry), int64_t{64} << 20)));
    uint8_t buffer[1 << 16];
    for (;;) {
      la_ssize_t got = archive_read_data(a.get(), buffer, sizeof buffer);
      if (got == 0) break;
      if (got < 0)
        fail(path, ": corrupt or truncated archive in member ", name, " after ", m.bytes.size(),
             " bytes: ", archive_message(a.get()));
      m.bytes.insert(m.bytes.end(), buffer, buffer + got);
    }
    if (archive_entry_size_is_set(entry) && static_cast<int64_t>(m.bytes.size()) != archive_entry_size(entry))
      fail(path, ": truncated archive: member ", name, " holds ", m.bytes.size(), " of ",
           archive_entry_size(entry), " bytes");
    members.push_back(std::move(m));
  }
  return members;
}

}  // namespace convoy::data::detail
