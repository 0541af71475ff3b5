#include "train/machine_info.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/cuda_backend.h"
#include "engine/threads.h"

namespace convoy {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// "MemTotal:  24570384 kB" -> GiB; 0 when unknown.
double memory_gib() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemTotal:", 0) == 0) {
      std::istringstream fields(line.substr(9));
      double kib = 0;
      fields >> kib;
      return kib / (1024.0 * 1024.0);
    }
  }
  return 0;
}

nlohmann::json read_resource_config() {
  std::string root = env_or_empty("CONVOY_SM_ROOT");
  if (root.empty()) root = "/opt/ml";
  std::ifstream in(root + "/input/config/resourceconfig.json");
  if (!in) return nullptr;
  // A damaged file must not stop training: the report then just says less.
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json platform_info() {
  nlohmann::json p;
  const nlohmann::json resource = read_resource_config();
  const std::string job = env_or_empty("TRAINING_JOB_NAME");
  std::string instance = env_or_empty("CONVOY_INSTANCE_TYPE");
  if (instance.empty()) instance = env_or_empty("SM_CURRENT_INSTANCE_TYPE");
  if (instance.empty() && resource.is_object() && resource.value("current_instance_type", "") != "")
    instance = resource.value("current_instance_type", "");
  // SageMaker training jobs set TRAINING_JOB_NAME; a resourceconfig.json alone (a local run
  // of the container contract) is not a SageMaker job.
  p["platform"] = job.empty() ? "local" : "sagemaker";
  if (!job.empty()) p["training_job_name"] = job;
  if (!instance.empty()) p["instance_type"] = instance;
  if (resource.is_object()) {
    if (resource.contains("hosts") && resource["hosts"].is_array()) p["host_count"] = resource["hosts"].size();
    if (resource.contains("current_host") && resource["current_host"].is_string())
      p["current_host"] = resource["current_host"];
  }
  return p;
}

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
  j["memory_gib"] = memory_gib();
  j["threads"] = threads;
  j["device"] = device.to_string();
  if (device.is_cuda()) j["gpu"] = cuda_backend::device_name(device.index);
  j.update(platform_info());
  return j;
}

}  // namespace convoy
