#include "report/price_list.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace convoy::report {
namespace {

using nlohmann::json;

// The USD per hour of one SKU's on-demand terms: every price dimension must be an hourly USD
// figure and all must agree (an offer lists one; several identical ones are harmless).
double hourly_usd(const std::string& path, const std::string& sku, const json& terms) {
  std::optional<double> usd;
  for (const auto& [term_code, term] : terms.items()) {
    if (!term.is_object() || !term.contains("priceDimensions") || !term["priceDimensions"].is_object()) continue;
    for (const auto& [dim_code, dim] : term["priceDimensions"].items()) {
      const std::string unit = dim.value("unit", "");
      const json price = dim.value("pricePerUnit", json::object()).value("USD", json());
      char* end = nullptr;
      const std::string text = price.is_string() ? price.get<std::string>() : "";
      const double v = std::strtod(text.c_str(), &end);
      if (unit != "Hrs" && unit != "Hours" && unit != "hours")
        fail(path, ": product ", sku, " is priced per '", unit, "', not per hour");
      if (text.empty() || *end != '\0' || !(v >= 0))
        fail(path, ": product ", sku, ": pricePerUnit.USD ", price.dump(), " is not a price in US dollars");
      if (usd && *usd != v) fail(path, ": product ", sku, " has two on-demand prices, ", *usd, " and ", v);
      usd = v;
    }
  }
  if (!usd) fail(path, ": product ", sku, " has no on-demand price dimension");
  return *usd;
}

}  // namespace

PriceTable load_offer_file(const std::string& path, const std::string& region, const std::string& component) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_option("prices_from", path, ": cannot read the offer file");
  // Keep "products" entries of this component and region, and terms.OnDemand; drop the rest
  // while parsing. The callback sees each value once complete (object_end at its depth).
  // Terms of SKUs whose product was dropped go too, when products come first (AWS's order).
  std::string top_key, terms_key;
  std::set<std::string> kept_skus;
  bool products_read = false;
  const json::parser_callback_t keep = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key) {
      if (depth == 1) top_key = parsed.get<std::string>();
      if (depth == 2 && top_key == "terms") {
        terms_key = parsed.get<std::string>();
        return terms_key == "OnDemand";
      }
      if (depth == 3 && top_key == "terms" && products_read) return kept_skus.count(parsed.get<std::string>()) > 0;
      return true;
    }
    if (event == json::parse_event_t::object_end && depth == 2 && top_key == "products") {
      const json attributes = parsed.value("attributes", json::object());
      const bool wanted = attributes.value("regionCode", "") == region &&
                          attributes.value("component", "") == component && attributes.contains("instanceName");
      if (wanted) kept_skus.insert(parsed.value("sku", ""));
      return wanted;
    }
    if (event == json::parse_event_t::object_end && depth == 1 && top_key == "products") products_read = true;
    return true;
  };
  const json offer = json::parse(in, keep, /*allow_exceptions=*/false);
  if (offer.is_discarded() || !offer.is_object() || !offer.contains("products") || !offer.contains("terms"))
    fail_option("prices_from", path, ": not an AWS Price List offer file (a JSON object with \"products\" and "
         "\"terms\"); download AmazonSageMaker's from the Price List API");
  PriceTable table;
  table.source = "AWS Price List " + offer.value("offerCode", std::string("offer file")) + " " +
                 offer.value("version", std::string("")) + ", " + region + " " + component;
  table.read_on = offer.value("publicationDate", std::string("")).substr(0, 10);
  const json on_demand = offer["terms"].value("OnDemand", json::object());
  std::map<std::string, std::string> sku_of;  // instance type -> SKU, to refuse duplicates
  for (const auto& [sku, product] : offer["products"].items()) {
    const std::string type = product["attributes"]["instanceName"].get<std::string>();
    if (!on_demand.contains(sku)) fail(path, ": product ", sku, " (", type, ") has no on-demand terms");
    const double usd = hourly_usd(path, sku, on_demand[sku]);
    if (auto it = sku_of.find(type); it != sku_of.end() && table.usd_per_hour[type] != usd)
      fail(path, ": ", type, " has two ", component, " prices in ", region, " (products ", it->second, " and ", sku,
           "); pass the one you want with --price ", type, "=USD_PER_HOUR");
    sku_of[type] = sku;
    table.usd_per_hour[type] = usd;
  }
  if (table.usd_per_hour.empty())
    fail_option("prices_from", path, ": no ", component, " instance prices for region ", region,
         "; check --region (the offer file's regionCode values)");
  return table;
}

}  // namespace convoy::report
