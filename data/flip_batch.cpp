#include "data/flip_batch.h"

#include <algorithm>

#include "engine/error.h"

namespace convoy::data {
namespace {

// Every row of `rows` rows of kImageSide values, reversed from `in` into `out`.
template <typename T>
void mirror_rows(const std::vector<T>& in, std::vector<T>& out) {
  out.resize(in.size());
  const size_t rows = in.size() / kImageSide;
  for (size_t r = 0; r < rows; ++r) std::reverse_copy(in.begin() + r * kImageSide, in.begin() + (r + 1) * kImageSide,
                                                      out.begin() + r * kImageSide);
}

}  // namespace

void flip_batch(const Batch& in, Batch& out) {
  const size_t pixels = static_cast<size_t>(in.size) * kImageBytes;
  if (!in.images.empty() && in.images.size() != pixels)
    fail("flip_batch: ", in.images.size(), " normalised values for a batch of ", in.size);
  if (!in.raw.empty() && in.raw.size() != pixels)
    fail("flip_batch: ", in.raw.size(), " raw bytes for a batch of ", in.size);
  mirror_rows(in.images, out.images);
  mirror_rows(in.raw, out.raw);
  out.labels = in.labels;
  out.ids = in.ids;
  out.size = in.size;
  out.index = in.index;
  out.epoch = in.epoch;
}

}  // namespace convoy::data
