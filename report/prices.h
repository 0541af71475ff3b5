// Hourly prices for the cost column: a small editable JSON table (sagemaker/prices.json)
//   {"read_on": "YYYY-MM-DD" | null, "source": "...", "region": "us-east-1",
//    "usd_per_hour": {"ml.g4dn.xlarge": 0.736 | null, ...}}
// where null means "not known", plus --price TYPE=USD_PER_HOUR overrides. The key for a
// local machine is "local".
#pragma once
#include <map>
#include <optional>
#include <string>

namespace convoy::report {

struct PriceTable {
  std::map<std::string, double> usd_per_hour;
  std::string read_on;   // "" when the table has no date
  std::string source;    // where the figures came from

  std::optional<double> find(const std::string& key) const;
  // `other`'s prices replace this table's for the same keys; sources are joined.
  void merge(const PriceTable& other);
  // "TYPE=USD" (from --price); throws convoy::Error naming the text when malformed.
  void set_from_flag(const std::string& text);
};

// Reads a table file; throws convoy::Error naming the file and the entry on any problem.
PriceTable load_price_table(const std::string& path);

}  // namespace convoy::report
