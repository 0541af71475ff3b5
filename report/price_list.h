// Prices from AWS's public Price List: the offer file of Amazon SageMaker, e.g.
//   https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonSageMaker/current/us-east-1/index.json
// (or `aws pricing get-products --service-code AmazonSageMaker`, which returns the same
// product and terms objects). The parts read:
//   "products": {SKU: {"attributes": {"instanceName": "ml.g5.xlarge", "component": "Training",
//                                     "regionCode": "us-east-1", ...}}}
//   "terms": {"OnDemand": {SKU: {TERM: {"priceDimensions": {DIM: {"unit": "Hrs",
//                                     "pricePerUnit": {"USD": "1.4080000000"}}}}}}}
// The file is read with a filtering parser that keeps only the products of one component and
// region and the on-demand terms, so a regional offer file of many megabytes is read in a
// fraction of its size in memory.
#pragma once
#include <string>

#include "report/prices.h"

namespace convoy::report {

// The hourly on-demand USD price of every instance type of `component` (e.g. "Training") in
// `region`. Throws convoy::Error naming the file when it is not an offer file, holds no such
// product, or a product's price is not one hourly USD figure.
PriceTable load_offer_file(const std::string& path, const std::string& region,
                           const std::string& component = "Training");

}  // namespace convoy::report
