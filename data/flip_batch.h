// Horizontally flipped copies of a whole batch, for test-time augmentation: each image's
// columns reversed, in whichever form the batch holds (uint8 raw or normalised floats);
// labels, ids and position are copied along.
#pragma once
#include "data/batch_loader.h"

namespace convoy::data {

void flip_batch(const Batch& in, Batch& out);

}  // namespace convoy::data
