#include "train/machine_info.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "engine/cuda_backend.h"
#include "engine/threads.h"

namespace convoy {

nlohmann::json machine_info(Device device, int threads) {
  nlohmann::json j;
  std::string cpu = "unknown";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto pos = line.find(':');
      if (pos != std::string::npos) cpu = line.substr(pos + 2);
      break;
    }
  }
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  j["hostname"] = host;
  j["cpu"] = cpu;
  j["hardware_threads"] = hardware_threads();
  j["threads"] = threads;
  j["device"] = device.to_string();
  if (device.is_cuda()) j["gpu"] = cuda_backend::device_name(device.index);
  return j;
}

}  // namespace convoy
