// Element types a Tensor can hold. float32 is what layers compute in; the others carry what
// is not a float: 16-bit gradients on the wire (fp16, bf16, stored as their bit patterns),
// int32 labels, uint8 raw images and uint64 sample ids. A Tensor's typed accessors check the
// type, so no storage is read as a type it does not hold.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace convoy {

enum class DType : uint8_t { f32, f16, bf16, i32, u8, u64 };

constexpr std::size_t element_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::f16:
    case DType::bf16: return 2;
    case DType::i32: return 4;
    case DType::u8: return 1;
    case DType::u64: return 8;
  }
  return 0;
}

constexpr const char* to_string(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::i32: return "int32";
    case DType::u8: return "uint8";
    case DType::u64: return "uint64";
  }
  return "?";
}

// Whether elements of type `t` may be accessed as C++ type T (16-bit floats as uint16_t).
template <class T>
constexpr bool holds(DType t) {
  using U = std::remove_const_t<T>;
  if constexpr (std::is_same_v<U, float>) return t == DType::f32;
  else if constexpr (std::is_same_v<U, uint16_t>) return t == DType::f16 || t == DType::bf16;
  else if constexpr (std::is_same_v<U, int32_t>) return t == DType::i32;
  else if constexpr (std::is_same_v<U, uint8_t>) return t == DType::u8;
  else if constexpr (std::is_same_v<U, uint64_t>) return t == DType::u64;
  else return false;
}

// The C++ element type's name, for errors.
template <class T>
constexpr const char* element_name() {
  using U = std::remove_const_t<T>;
  if constexpr (std::is_same_v<U, float>) return "float";
  else if constexpr (std::is_same_v<U, uint16_t>) return "uint16_t";
  else if constexpr (std::is_same_v<U, int32_t>) return "int32_t";
  else if constexpr (std::is_same_v<U, uint8_t>) return "uint8_t";
  else if constexpr (std::is_same_v<U, uint64_t>) return "uint64_t";
  else return "an unsupported type";
}

}  // namespace convoy
