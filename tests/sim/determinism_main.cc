// wpsim_sim_determinism: runs the fixed scenario of determinism_scenario.h N times with
// perturbation and prints its seed and trace hash ("trace_hash=<16 hex>"). Exits non-zero when
// the runs disagree, or when --expect is given and the hash differs from it (ctest passes the
// hash recorded in determinism_golden.txt, so every build configuration is compared with the
// same value: RelWithDebInfo against ASan Debug, GCC against clang).
//   wpsim_sim_determinism [--runs N] [--seed S] [--expect HEX] [--trace-out FILE.jsonl]
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "tests/sim/determinism_scenario.h"

int main(int argc, char** argv) {
  int runs = 3;
  uint64_t seed = 20260101;
  const char* expect = nullptr;
  const char* trace_out = nullptr;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--runs") == 0 && has_value) {
      runs = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--seed") == 0 && has_value) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--expect") == 0 && has_value) {
      expect = argv[++i];
    } else if (std::strcmp(argv[i], "--trace-out") == 0 && has_value) {
      trace_out = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--runs N] [--seed S] [--expect HEX] [--trace-out FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  if (runs < 1) runs = 1;
  std::printf("seed=%" PRIu64 "\n", seed);
  uint64_t first = 0;
  bool agree = true;
  for (int r = 0; r < runs; ++r) {
    wpsim::sim::Trace keep(trace_out != nullptr && r == 0 ? 10'000'000 : 0);
    const wpsim::sim::scenario::Outcome o = wpsim::sim::scenario::Run(seed, true, &keep);
    if (!o.ok) {
      std::fprintf(stderr, "run %d failed: %s\n", r + 1, o.error.c_str());
      return 1;
    }
    std::printf("run %d: trace_events=%" PRIu64 " scheduler_events=%" PRIu64
                " bytes_delivered=%" PRIu64 " hash=%016" PRIx64 "\n",
                r + 1, o.trace_events, o.scheduler_events, o.bytes_delivered, o.trace_hash);
    if (r == 0) {
      first = o.trace_hash;
      if (trace_out != nullptr) {
        std::ofstream out(trace_out);
        keep.WriteJsonLines(out);
      }
    } else if (o.trace_hash != first) {
      agree = false;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, first);
  std::printf("trace_hash=%s\n", hex);
  if (!agree) {
    std::fprintf(stderr, "FAIL: runs with the same seed produced different trace hashes\n");
    return 1;
  }
  if (expect != nullptr && std::string(expect) != hex) {
    std::fprintf(stderr,
                 "FAIL: trace hash %s differs from the recorded %s (tests/sim/"
                 "determinism_golden.txt). If the simulation changed on purpose, record the new "
                 "hash there; otherwise this build is not deterministic with the others.\n",
                 hex, expect);
    return 1;
  }
  return 0;
}
