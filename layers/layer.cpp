#include "layers/layer.h"

namespace convoy {

void move_tensor(Tensor& t, Device device) {
  if (t.defined() && !(t.device() == device)) t = t.to(device);
}

void move_param(Param& p, Device device) {
  move_tensor(p.value, device);
  if (!p.grad.defined() || !(p.grad.device() == device)) p.grad = Tensor::zeros(p.value.shape(), device);
}

void Layer::to(Device device) {
  for (Param* p : params()) move_param(*p, device);
  for (Buffer& b : buffers()) move_tensor(*b.value, device);
}

void Layer::name_params(const std::string& prefix) {
  prefix_ = prefix;
  for (Param* p : params()) p->name = prefix + p->name.substr(p->name.rfind('.') + 1);
}

}  // namespace convoy
