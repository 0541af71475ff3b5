// The layer contract (after dlib and Caffe): a pure shape step, explicit forward and
// backward passes, no autograd.
//   forward(ctx, x, y, saved): computes y (resized by the layer with ensure_shape);
//     saved == nullptr means inference; otherwise the layer stores in *saved what its
//     backward needs (shallow tensor handles: x, y, batch statistics).
//   backward(ctx, dy, saved, dx): ASSIGNS *dx (dx == nullptr: the first layer, skip it)
//     and ADDS parameter gradients into Param::grad.
// A layer never branches on the device: it calls the dispatching kernels in kernels/*.h.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/context.h"
#include "engine/tensor.h"

namespace convoy {

enum class Init { uniform_fan_in, ones, zeros };

struct Param {
  std::string name;   // unique within the model, e.g. "3.weight"
  Tensor value;
  Tensor grad;
  bool weight_decay = true;
  Init init = Init::uniform_fan_in;  // PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  int64_t fan_in = 1;
};

// A named non-trainable state tensor (batch-norm running statistics).
struct Buffer {
  std::string name;
  Tensor* value;
};

struct Saved {
  Tensor x, y;
  std::vector<Tensor> extra;
  std::vector<Saved> children;  // composite layers keep their children's here
  bool fused_with_next = false;  // Sequential ran this layer and the next as one op (layers/fusion.h)
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string_view type() const = 0;
  virtual Shape output_shape(const Shape& in) const = 0;
  virtual std::vector<Param*> params() { return {}; }
  virtual std::vector<Buffer> buffers() { return {}; }
  virtual void forward(Context& ctx, const Tensor& x, Tensor& y, Saved* saved) = 0;
  virtual void backward(Context& ctx, const Tensor& dy, const Saved& saved, Tensor* dx) = 0;
  // Moves parameters and buffers to `device` (gradients are re-created there).
  virtual void to(Device device);
  // Gives every parameter and buffer a name under `prefix` (done once by the model).
  virtual void name_params(const std::string& prefix);

 protected:
  std::string prefix_;  // set by name_params, e.g. "3."
};

// Helpers shared by the layer implementations.
void move_param(Param& p, Device device);
void move_tensor(Tensor& t, Device device);

}  // namespace convoy
