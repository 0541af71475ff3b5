#include "engine/device.h"

#include <charconv>

#include "engine/cuda_backend.h"
#include "engine/error.h"

namespace convoy {

std::string Device::to_string() const {
  if (is_cpu()) return "cpu";
  // The emulated device says so wherever a device is named: a log or report from it must
  // never pass for a GPU's.
  return "cuda:" + std::to_string(index) + (cuda_backend::emulated() ? " (emulated)" : "");
}

Device parse_device(std::string_view text) {
  if (text == "cpu") return Device::cpu();
  if (text == "auto") return cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu();
  if (text == "cuda" || text == "gpu") return Device::cuda(0);
  if (text.starts_with("cuda:")) {
    int index = -1;
    auto digits = text.substr(5);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec == std::errc() && p == digits.data() + digits.size() && index >= 0) return Device::cuda(index);
  }
  fail("unknown device '", text, "': use cpu, cuda, cuda:N or auto");
}

}  // namespace convoy
