// Where CIFAR-10 comes from. `load_cifar(spec)` accepts:
//   - a folder holding data_batch_1.bin .. data_batch_5.bin, test_batch.bin (+ batches.meta.txt),
//     or such a folder's `cifar-10-batches-bin/` subfolder;
//   - the official cifar-10-binary.tar.gz as downloaded, read in place (libarchive);
//   - an image-folder tree train/<class>/* and test/<class>/* (JPEG or PNG), or a .tar.gz of one;
//   - "synthetic": a generated CIFAR-format set with learnable class structure, for smoke runs.
// Every problem is a convoy::Error naming the file, the record and what is wrong.
#pragma once
#include <string>

#include "data/dataset.h"

namespace convoy::data {

struct LoadOptions {
  int train_batches = 5;        // use only data_batch_1..K (K in 1..5); image folders: the first K/5 of train
  bool load_test = true;
  int synthetic_train = 10000;  // sizes of the synthetic set
  int synthetic_test = 2000;
  uint64_t synthetic_seed = 1;
};

CifarData load_cifar(const std::string& spec, const LoadOptions& options = {});

// One binary batch file: validates size (multiple of 3073), labels (<= 9) and names the
// file and record in every error.
Dataset read_cifar_batch_file(const std::string& path);
// The same from bytes already in memory (an archive member); `name` is used in errors.
Dataset parse_cifar_batch(const std::string& name, const uint8_t* bytes, size_t size);

// The default data location when --data is absent: $CONVOY_DATA, else ./data/. If that
// holds no CIFAR-10, downloads the official binary archive there and checks its MD5;
// offline, the error says exactly what to pass instead.
std::string default_data_spec();

}  // namespace convoy::data
