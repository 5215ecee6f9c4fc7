// Fuzzes the OData filter compiler and evaluator (protocol/rest/odata_filter.h): any text must
// either compile or fail with a message that quotes it and a position inside it; a compiled
// filter must evaluate (deterministically, without failing) against varied connections.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/rest/odata_filter.h"

using wpsim::protocol::rest::FilterCompileResult;
using wpsim::protocol::rest::FilterSubject;
using wpsim::protocol::rest::ODataFilter;
using wpsim::protocol::rest::SortedGroups;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  FilterCompileResult result = ODataFilter::Compile(text);
  if (!result.ok()) {
    if (result.error().position > text.size()) std::abort();
    if (result.error().message.rfind("Invalid syntax for '", 0) != 0) std::abort();
    return 0;
  }
  const ODataFilter& filter = result.value();
  (void)filter.ToString();

  static const std::vector<std::string> kNoGroups;
  static const std::vector<std::string> kGroups = {"", "a", "g1", "group1", "room.1", "x\xC3\xA9"};
  const SortedGroups none(kNoGroups);
  const SortedGroups some(kGroups);
  const std::string user_ids[] = {"", "a", "user1", "USER1", " user1 ", "\xF0\x9F\x98\x80z"};
  for (int variant = 0; variant < 8; ++variant) {
    FilterSubject subject;
    subject.connection_id = variant % 2 == 0 ? "conn1" : "";
    if (variant % 3 != 0) subject.user_id = user_ids[static_cast<size_t>(variant) % 6];
    if (variant % 4 == 1) subject.protocol = "json.webpubsub.azure.v1";
    subject.groups = variant % 2 == 0 ? &some : (variant == 3 ? nullptr : &none);
    const bool first = filter.Matches(subject);
    if (filter.Matches(subject) != first) std::abort();
  }
  return 0;
}
