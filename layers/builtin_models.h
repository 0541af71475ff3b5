// The model configs shipped in models/*.json, compiled into the library: (name, JSON text).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace convoy {
const std::vector<std::pair<std::string, std::string>>& builtin_model_configs();
}
