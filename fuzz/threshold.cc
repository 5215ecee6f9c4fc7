// Fuzzes the threshold parser (reports/threshold.h; `p99 < 50ms`, `error_rate < 0.1%`, ...):
// any text must either parse or fail with a column inside the text (1-based, at most one past
// the end) and a message; a parsed threshold must evaluate against an empty histogram without
// failing the process.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "reports/threshold.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  wpsim::reports::ThresholdSyntaxError detail;
  auto threshold = wpsim::reports::ParseThreshold(text, &detail);
  if (!threshold.ok()) {
    if (detail.message.empty() || detail.column == 0 || detail.column > text.size() + 1) std::abort();
    return 0;
  }
  wpsim::reports::Histogram empty;
  wpsim::reports::ThresholdInput input;
  input.latency = &empty;
  input.operations = 10;
  input.errors = 1;
  input.duration_ns = 1'000'000'000;
  (void)wpsim::reports::EvaluateThreshold(threshold.value(), input);
  return 0;
}
