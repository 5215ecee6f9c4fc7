// Fuzzes the JSON report reader (reports/json_report.h), the input of `wpsim report compare`
// and `merge`: any bytes must either parse or fail with a message; a report that parses must
// write back and read again to the same JSON (the writer is deterministic).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "reports/json_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto report = wpsim::reports::ReadJsonReport(text);
  if (!report.ok()) {
    if (report.error().message.empty()) std::abort();
    return 0;
  }
  const std::string once = wpsim::reports::WriteJson(report.value());
  auto again = wpsim::reports::ReadJsonReport(once);
  if (!again.ok()) std::abort();
  if (wpsim::reports::WriteJson(again.value()) != once) std::abort();
  return 0;
}
