// Tensor: row-major (NCHW for images), owning storage behind an Allocator. Its elements are
// float32 unless made with another DType (engine/dtype.h); data() is the float32 view and
// data_as<T>() the typed one, and both refuse a tensor of another type.
// Copies are shallow (storage is shared); `clone()` and `to(device)` copy data. Data moves
// between host and device only by explicit calls: there is no hidden syncing.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dtype.h"

namespace convoy {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t operator[](int i) const { return dims_.at(i < 0 ? i + rank() : i); }
  int64_t numel() const;
  const std::vector<int64_t>& dims() const { return dims_; }
  bool operator==(const Shape&) const = default;
  std::string to_string() const;  // "(128, 3, 32, 32)"

 private:
  std::vector<int64_t> dims_;
};

class Storage {
 public:
  Storage(std::size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised storage of shape.numel() elements of `dtype` on `device`.
  explicit Tensor(Shape shape, Device device = Device::cpu(), DType dtype = DType::f32);
  static Tensor zeros(Shape shape, Device device = Device::cpu());
  static Tensor filled(Shape shape, float value, Device device = Device::cpu());
  static Tensor from_vector(Shape shape, const std::vector<float>& values);  // on the CPU

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t numel() const { return shape_.numel(); }
  int64_t dim(int i) const { return shape_[i]; }
  Device device() const { return device_; }
  DType dtype() const { return dtype_; }
  std::size_t bytes() const { return static_cast<std::size_t>(numel()) * element_size(dtype_); }
  float* data() { return data_as<float>(); }
  const float* data() const { return data_as<float>(); }
  // The bytes, for copies and for communication libraries that take the type as a tag.
  void* untyped_data() { return raw(); }
  const void* untyped_data() const { return raw(); }
  // The elements as T; throws unless the tensor holds T (see holds<T>() in engine/dtype.h).
  template <class T>
  T* data_as() {
    check_holds(holds<T>(dtype_), element_name<T>());
    return static_cast<T*>(raw());
  }
  template <class T>
  const T* data_as() const {
    check_holds(holds<T>(dtype_), element_name<T>());
    return static_cast<const T*>(raw());
  }

  Tensor reshape(Shape shape) const;  // same storage, numel must match
  Tensor clone() const;               // deep copy on the same device
  Tensor to(Device device) const;     // deep copy onto `device` (blocking)
  void copy_from(const Tensor& src);  // same numel and dtype; any devices (blocking)
  void fill(float value);             // float32; any device
  void zero() { fill(0.0f); }
  std::vector<float> to_vector() const;  // float32; copies to the host

 private:
  friend void ensure_shape(Tensor& t, const Shape& shape, Device device, DType dtype);
  void* raw() const {
    return storage_ ? static_cast<char*>(storage_->data()) + offset_ * element_size(dtype_) : nullptr;
  }
  void check_holds(bool ok, const char* wanted) const;  // throws naming both types
  Shape shape_;
  Device device_;
  DType dtype_ = DType::f32;
  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;
};

// Ensures `t` has `shape` and `dtype` on `device`. The storage is kept when the size is the same, and
// also when it is smaller than what the storage holds and no other tensor shares it (so a
// model's activation buffers sized for one batch serve every smaller batch, instead of being
// reallocated whenever the batch size changes: the inference server's micro-batches vary on
// every pass). Otherwise new, uninitialised storage is allocated.
void ensure_shape(Tensor& t, const Shape& shape, Device device, DType dtype = DType::f32);

}  // namespace convoy
