// Fuzzes the whole reference service in simulation: arbitrary bytes on connections of every
// kind and arbitrary event-handler behaviour, invariants checked after every step
// (fuzz/service_harness.h says which). Seed corpus: fuzz/corpus/service/.
#include <cstddef>
#include <cstdint>

#include "fuzz/service_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wpsim::fuzzing::RunServiceInput(data, size);
  return 0;
}
