// Fetching the official CIFAR-10 archive: a child `curl -fL` (or `wget`) writes to a
// temporary name beside the target, the MD5 is checked, then the file is renamed into place.
// Nothing is printed; the child's messages go into the error on failure.
#pragma once
#include <string>

namespace convoy::data {

inline constexpr const char* kCifar10Url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
inline constexpr const char* kCifar10Md5 = "c32a1d4ab5d03f1284b67883e8d87530";

// Downloads `url` to `target` and checks `md5_hex`; on any failure nothing is left at
// `target` (nor the temporary) and a convoy::Error says what failed.
void download_verified(const std::string& url, const std::string& target, const std::string& md5_hex);

}  // namespace convoy::data
