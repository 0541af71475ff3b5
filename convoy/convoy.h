// convoy's public C++ API in one include: what a program that embeds the engine needs to
// load or build a model, train it with callbacks, predict, and read CIFAR-10 style data.
// docs/embedding.md walks through a complete example. Every header reached from here is
// installed (and is therefore public); the rest of the source tree is internal and may
// change without notice.
//
// Contracts shared by the whole API:
//   - Errors are thrown as convoy::Error (engine/error.h), with a message that names what
//     was wrong and where (file, record, tensor, flag). Nothing in the library calls exit().
//   - Tensors are float32 and row-major (NCHW); copies are shallow, `clone()`/`to()` copy.
//     Data moves between host and device only by explicit calls.
//   - A Context carries the device and the mode; there is no global device state. CPU work
//     uses OpenMP with convoy::set_num_threads(n) threads.
//   - Same seed, same thread count and same device give bit-identical results.
//   - Objects are not thread-safe unless their header says so: use one Model/Context per
//     thread, or guard them.
#pragma once

#include "convoy/version.h"  // CONVOY_VERSION_MAJOR/MINOR/PATCH, CONVOY_VERSION_STRING

// Runtime: errors, devices, tensors, the execution context, CPU threads.
#include "engine/error.h"    // convoy::Error, convoy::fail
#include "engine/device.h"   // Device, parse_device, cuda_device_count
#include "engine/tensor.h"   // Shape, Tensor
#include "engine/context.h"  // Context::make(device)
#include "engine/threads.h"  // set_num_threads, num_threads

// Models: build from a JSON config or a built-in name, save and load .convoy files.
#include "layers/model.h"    // Model::from_spec, Model::from_config, forward
#include "train/model_io.h"  // save_model, load_model

// Data: CIFAR-10 sources (binary batches, archives, image folders, synthetic) and batches.
#include "data/dataset.h"       // Dataset, CifarData, channel_stats
#include "data/sources.h"       // load_cifar, read_cifar_batch_file, parse_cifar_batch
#include "data/batch_loader.h"  // BatchLoader (normalised float batches)

// Training and evaluation.
#include "train/trainer.h"   // train_model + TrainCallbacks, run_training
#include "train/evaluate.h"  // evaluate, predict_probabilities

// Inference: a loaded model that turns CIFAR-format uint8 images into class probabilities.
#include "serve/predictor.h"  // serve::Predictor::load(path), predict(images, count)
