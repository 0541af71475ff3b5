// What machine a run happened on, for reports: CPU model, hardware threads, GPU name.
#pragma once
#include <nlohmann/json.hpp>

#include "engine/device.h"

namespace convoy {
nlohmann::json machine_info(Device device, int threads);
}
