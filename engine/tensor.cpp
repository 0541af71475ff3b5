#include "engine/tensor.h"

#include <algorithm>
#include <sstream>

#include "engine/allocator.h"
#include "engine/error.h"
#include "kernels/elementwise.h"
#include "engine/context.h"

namespace convoy {

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : dims_) n *= d;
  return n;
}

std::string Shape::to_string() const {
  std::ostringstream os;
  os << "(";
  for (std::size_t i = 0; i < dims_.size(); ++i) os << (i ? ", " : "") << dims_[i];
  os << ")";
  return os.str();
}

Storage::Storage(std::size_t bytes, Device device) : bytes_(bytes), device_(device) {
  ptr_ = allocator_for(device).allocate(bytes);
}

Storage::~Storage() {
  if (ptr_) allocator_for(device_).deallocate(ptr_, bytes_);
}

Tensor::Tensor(Shape shape, Device device, DType dtype) : shape_(std::move(shape)), device_(device), dtype_(dtype) {
  for (int64_t d : shape_.dims())
    if (d < 0) fail("tensor shape ", shape_.to_string(), " has a negative dimension");
  storage_ = std::make_shared<Storage>(bytes(), device);
}

void Tensor::check_holds(bool ok, const char* wanted) const {
  if (!ok) fail("tensor ", shape_.to_string(), " holds ", to_string(dtype_), " elements, read as ", wanted);
}

Tensor Tensor::zeros(Shape shape, Device device) { return filled(std::move(shape), 0.0f, device); }

Tensor Tensor::filled(Shape shape, float value, Device device) {
  Tensor t(std::move(shape), device);
  t.fill(value);
  return t;
}

Tensor Tensor::from_vector(Shape shape, const std::vector<float>& values) {
  Tensor t(std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.numel())
    fail("from_vector: ", values.size(), " values for shape ", t.shape().to_string());
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor Tensor::reshape(Shape shape) const {
  if (shape.numel() != numel())
    fail("cannot reshape ", shape_.to_string(), " to ", shape.to_string(), ": element counts differ");
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const { return to(device_); }

Tensor Tensor::to(Device device) const {
  Tensor t(shape_, device, dtype_);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  if (src.numel() != numel())
    fail("copy_from: source ", src.shape().to_string(), " and destination ", shape_.to_string(),
         " differ in size");
  if (src.dtype_ != dtype_)
    fail("copy_from: source holds ", to_string(src.dtype_), ", destination ", to_string(dtype_));
  copy_bytes(device_, raw(), src.device_, src.raw(), bytes());
}

void Tensor::fill(float value) {
  if (!defined() || numel() == 0) return;
  kernels::fill(exec_for(device_), numel(), value, data());
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> out(static_cast<std::size_t>(numel()));
  copy_bytes(Device::cpu(), out.data(), device_, data(), out.size() * sizeof(float));
  return out;
}

void ensure_shape(Tensor& t, const Shape& shape, Device device, DType dtype) {
  if (t.defined() && t.device() == device && t.dtype() == dtype) {
    if (t.numel() == shape.numel()) {
      if (!(t.shape() == shape)) t = t.reshape(shape);
      return;
    }
    const std::size_t need = static_cast<std::size_t>(shape.numel()) * element_size(dtype);
    bool negative = false;
    for (int64_t d : shape.dims()) negative = negative || d < 0;
    if (!negative && t.storage_.use_count() == 1 && t.offset_ == 0 && need <= t.storage_->bytes()) {
      t.shape_ = shape;
      return;
    }
  }
  t = Tensor(shape, device, dtype);
}

}  // namespace convoy
