// Non-finite numbers in a model or a loss: a run whose loss or weights became NaN or infinite
// has diverged, and must end with an error rather than be saved as a success; a model file
// holding such weights must not be loaded for evaluation or serving.
#pragma once
#include <string>

#include "engine/error.h"
#include "engine/tensor.h"
#include "layers/model.h"

namespace convoy {

// Thrown by training when the loss or a parameter is no longer finite. run_training adds
// where the last finite checkpoint is; nothing past it is written.
class TrainingDiverged : public Error {
 public:
  using Error::Error;
};

// "" when every element of `t` is finite; else "element I is nan" (or inf, -inf).
std::string non_finite_element(const Tensor& t);
// "" when every parameter and buffer of `model` is finite; else "parameter 'NAME': element I
// is nan" for the first one that is not (tensors on any device are copied to the host).
std::string first_non_finite(Model& model);
// "nan", "inf" or "-inf" for a non-finite value.
std::string non_finite_name(double v);

}  // namespace convoy
