// Where a tensor lives and where work runs. Chosen at run time, so one binary compares
// backends; `auto` picks the GPU when one is present.
#pragma once
#include <string>
#include <string_view>

namespace convoy {

enum class DeviceKind { cpu, cuda };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;

  static Device cpu() { return {DeviceKind::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceKind::cuda, index}; }
  bool is_cpu() const { return kind == DeviceKind::cpu; }
  bool is_cuda() const { return kind == DeviceKind::cuda; }
  bool operator==(const Device&) const = default;
  std::string to_string() const;
};

// Parses "cpu", "cuda", "cuda:1" or "auto"; throws convoy::Error naming the text otherwise.
Device parse_device(std::string_view text);

// Throws an OptionError for option "device" unless `device` can be used: the CPU always, a CUDA
// device when it exists and works (the message gives the runtime's reason otherwise).
void require_usable(Device device);

// Number of usable CUDA devices; 0 when CUDA is compiled out or no driver/device works.
int cuda_device_count();
// Why no CUDA device is usable ("built without CUDA", or the CUDA error string); "" if one is.
std::string cuda_unavailable_reason();

}  // namespace convoy
