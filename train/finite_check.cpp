#include "train/finite_check.h"

#include <cmath>
#include <vector>

namespace convoy {

std::string non_finite_name(double v) {
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

std::string non_finite_element(const Tensor& t) {
  const std::vector<float> values = t.to_vector();
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) return "element " + std::to_string(i) + " is " + non_finite_name(values[i]);
  return {};
}

std::string first_non_finite(Model& model) {
  for (Param* p : model.params())
    if (std::string what = non_finite_element(p->value); !what.empty()) return "parameter '" + p->name + "': " + what;
  for (Buffer& b : model.buffers())
    if (std::string what = non_finite_element(*b.value); !what.empty()) return "buffer '" + b.name + "': " + what;
  return {};
}

}  // namespace convoy
