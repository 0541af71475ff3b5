#include "report/prices.h"

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace convoy::report {

std::optional<double> PriceTable::find(const std::string& key) const {
  auto it = usd_per_hour.find(key);
  if (it == usd_per_hour.end()) return std::nullopt;
  return it->second;
}

void PriceTable::merge(const PriceTable& other) {
  for (const auto& [key, usd] : other.usd_per_hour) usd_per_hour[key] = usd;
  if (!other.source.empty()) source = source.empty() ? other.source : source + "; " + other.source;
  if (read_on.empty()) read_on = other.read_on;
}

void PriceTable::set_from_flag(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    fail_option("price", "'", text, "': use TYPE=USD_PER_HOUR, e.g. ml.g4dn.xlarge=0.736 or local=0.10");
  const std::string value = text.substr(eq + 1);
  char* end = nullptr;
  const double usd = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || *end != '\0' || !(usd >= 0))
    fail_option("price", "'", text, "': '", value, "' is not a non-negative number of US dollars per hour");
  usd_per_hour[text.substr(0, eq)] = usd;
}

PriceTable load_price_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail_option("prices", path, ": cannot read the price table");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("usd_per_hour") || !j["usd_per_hour"].is_object())
    fail_option("prices", path, ": expected a JSON object with \"usd_per_hour\": {TYPE: USD or null}");
  PriceTable t;
  if (j.contains("read_on") && j["read_on"].is_string()) t.read_on = j["read_on"];
  if (j.contains("source") && j["source"].is_string()) t.source = j["source"];
  for (const auto& [type, usd] : j["usd_per_hour"].items()) {
    if (usd.is_null()) continue;  // not known
    if (!usd.is_number() || usd.get<double>() < 0)
      fail_option("prices", path, ": usd_per_hour[\"", type, "\"] must be a non-negative number or null, got ", usd.dump());
    t.usd_per_hour[type] = usd.get<double>();
  }
  return t;
}

}  // namespace convoy::report
