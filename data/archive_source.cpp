// Archives read in place with libarchive (never extracted to disk): the official
// cifar-10-binary.tar.gz, or a .tar.gz/.tgz of an image-folder tree. Which one it is follows
// from the member names: any */data_batch_K.bin or */test_batch.bin means binary batches.
#include <map>

#include "data/archive_reader.h"
#include "data/source_parts.h"
#include "engine/error.h"

namespace convoy::data::detail {

namespace {

std::string base_name(const std::string& member) {
  size_t slash = member.rfind('/');
  return slash == std::string::npos ? member : member.substr(slash + 1);
}

bool is_batch_name(const std::string& base) {
  return (base.starts_with("data_batch_") && base.ends_with(".bin")) || base == "test_batch.bin";
}

std::vector<std::string> split_path(std::string name) {
  while (name.starts_with("./")) name = name.substr(2);
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string::npos) slash = name.size();
    if (slash > start) parts.push_back(name.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// The (split, class, file) of an image member: split/class/file or top/split/class/file.
bool image_member_parts(const std::string& name, std::string& split, std::string& cls, std::string& file) {
  std::vector<std::string> p = split_path(name);
  if (p.size() < 3 || p.size() > 4) return false;
  size_t s = p.size() - 3;
  if (p[s] != "train" && p[s] != "test") return false;
  if (!is_image_file_name(p[s + 2]) || p[s + 1].starts_with(".")) return false;
  split = p[s], cls = p[s + 1], file = p[s + 2];
  return true;
}

CifarData binary_from_members(const std::string& path, std::vector<ArchiveMember>& members, const LoadOptions& options) {
  std::map<std::string, ArchiveMember*> by_base;
  for (ArchiveMember& m : members) by_base[base_name(m.name)] = &m;
  std::string folder = "cifar-10-batches-bin/";
  for (ArchiveMember& m : members)
    if (is_batch_name(base_name(m.name))) folder = m.name.substr(0, m.name.size() - base_name(m.name).size());
  auto member = [&](const std::string& base) -> ArchiveMember& {
    auto it = by_base.find(base);
    if (it == by_base.end()) fail(path, ": member ", folder, base, " is missing from the archive");
    return *it->second;
  };
  auto parse = [&](ArchiveMember& m) {
    Dataset d = parse_cifar_batch(path + ": member " + m.name, m.bytes.data(), m.bytes.size());
    m.bytes = {};  // release as we go
    return d;
  };

  std::vector<std::string> classes = cifar10_class_names();
  if (auto it = by_base.find("batches.meta.txt"); it != by_base.end())
    classes = parse_class_names(path + ": member " + it->second->name,
                                std::string(it->second->bytes.begin(), it->second->bytes.end()));
  CifarData data;
  data.source = "archive of binary batches " + path;
  for (int k = 1; k <= options.train_batches; ++k) append_dataset(data.train, parse(member("data_batch_" + std::to_string(k) + ".bin")));
  data.train.class_names = classes;
  data.train.origin = path + ": " + folder + "data_batch_1.." + std::to_string(options.train_batches) + ".bin";
  if (options.load_test) {
    data.test = parse(member("test_batch.bin"));
    data.test.class_names = classes;
    data.test.origin = path + ": " + folder + "test_batch.bin";
  }
  return data;
}

CifarData images_from_members(const std::string& path, std::vector<ArchiveMember>& members, const LoadOptions& options) {
  std::vector<ImageFile> files;
  files.reserve(members.size());
  for (ArchiveMember& m : members) {
    ImageFile f;
    if (!image_member_parts(m.name, f.split, f.class_name, f.file)) continue;
    f.where = path + ": member " + m.name;
    f.bytes = std::move(m.bytes);
    files.push_back(std::move(f));
  }
  members.clear();
  ImageTree tree = organise_image_tree(std::move(files), options, path);
  CifarData data;
  data.source = "image archive " + path;
  data.train = decode_image_split(tree.train, tree.class_names, path + ": train/");
  if (options.load_test) data.test = decode_image_split(tree.test, tree.class_names, path + ": test/");
  return data;
}

}  // namespace

CifarData load_archive(const std::string& path, const LoadOptions& options) {
  check_train_batches(options);
  std::vector<ArchiveMember> members = read_archive_members(path, [](const std::string& name) {
    std::string base = base_name(name), split, cls, file;
    return is_batch_name(base) || base == "batches.meta.txt" || image_member_parts(name, split, cls, file);
  });
  for (const ArchiveMember& m : members)
    if (is_batch_name(base_name(m.name))) return binary_from_members(path, members, options);
  if (members.empty())
    fail(path, ": holds neither CIFAR-10 binary batches (cifar-10-batches-bin/data_batch_K.bin) nor an "
               "image-folder tree (train/<class>/*.jpg|png, test/<class>/*)");
  return images_from_members(path, members, options);
}

}  // namespace convoy::data::detail
