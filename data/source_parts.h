// Internal to data/: the individual CIFAR-10 sources behind load_cifar (data/sources.cpp
// picks one from the spec) and the small helpers they share. Not part of the public API.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/sources.h"

namespace convoy::data::detail {

// airplane automobile bird cat deer dog frog horse ship truck
const std::vector<std::string>& cifar10_class_names();

// Class names from the text of batches.meta.txt (one per non-empty line). `name` is used in
// errors; an empty text gives the CIFAR-10 names.
std::vector<std::string> parse_class_names(const std::string& name, const std::string& text);

// Appends `part` to `into` (images and labels; class names are left alone).
void append_dataset(Dataset& into, const Dataset& part);

// Throws unless 1 <= options.train_batches <= 5.
void check_train_batches(const LoadOptions& options);

// A folder holding data_batch_1..5.bin and test_batch.bin (the caller resolved any
// cifar-10-batches-bin/ subfolder).
CifarData load_batch_folder(const std::string& folder, const LoadOptions& options);
// A tar archive (.tar.gz/.tgz/.tar), read in place: the official cifar-10-binary.tar.gz
// (members */data_batch_K.bin) or an image-folder tree (optionally under one top-level folder).
CifarData load_archive(const std::string& path, const LoadOptions& options);
// An image-folder tree train/<class>/*, test/<class>/* on disk.
CifarData load_image_folder(const std::string& root, const LoadOptions& options);

// One image of an image-folder tree, on disk or in an archive.
struct ImageFile {
  std::string where;           // for errors: the path, or "archive.tar.gz: member"
  std::string split;           // "train" or "test"
  std::string class_name;      // the folder name
  std::string file;            // the file name
  std::vector<uint8_t> bytes;  // the encoded image (filled before decoding)
  int32_t label = -1;          // set by organise_image_tree
};

// True for the file names an image-folder tree takes (.jpg .jpeg .png, any case; no dot files).
bool is_image_file_name(const std::string& file);

struct ImageTree {
  std::vector<std::string> class_names;
  std::vector<ImageFile> train, test;
};
// Labels (CIFAR-10 order when every folder is a CIFAR-10 class name, else sorted folder
// order), sorts each split by (class, file name), keeps the class-balanced K/5 of train
// (positions p with p % 5 < K within each class) and checks that nothing is empty.
ImageTree organise_image_tree(std::vector<ImageFile> files, const LoadOptions& options, const std::string& origin);
// Decodes every file (bytes already read) in parallel into a Dataset.
Dataset decode_image_split(const std::vector<ImageFile>& files, const std::vector<std::string>& class_names,
                           const std::string& origin);
// The generated set.
CifarData load_synthetic(const LoadOptions& options);

}  // namespace convoy::data::detail
