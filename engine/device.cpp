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

void require_usable(Device device) {
  if (device.is_cpu()) return;
  const int n = cuda_device_count();
  if (n == 0) fail_option("device", device.to_string(), ": no usable CUDA device (", cuda_unavailable_reason(), "); use cpu");
  if (device.index >= n)
    fail_option("device", device.to_string(), ": there ", n == 1 ? "is " : "are ", n, " CUDA device", n == 1 ? "" : "s",
                " (cuda:0", n > 1 ? " to cuda:" + std::to_string(n - 1) : std::string(), ")");
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
  fail_option("device", "'", text, "' is not a device: use cpu, cuda, cuda:N or auto");
}

}  // namespace convoy
