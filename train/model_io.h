// Saving and loading a Model as a .convoy file (engine/model_file.h): the architecture
// config, class names, normalisation constants, every parameter and buffer by name.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "layers/model.h"

namespace convoy {

void save_model(const std::string& path, Model& model, const nlohmann::json& meta = nlohmann::json::object());
// The model on the CPU; errors name the file and the tensor that does not fit.
Model load_model(const std::string& path);
// Loads `path` into an existing model of the same architecture (checkpoint resume).
void load_model_weights(const std::string& path, Model& model);

}  // namespace convoy
