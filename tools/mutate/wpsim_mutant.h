// Mutant schemata runtime for tools/mutate (docs/mutation.md). Only the transformed copy of the
// tree in build-mutate/ includes this header, as the first line of every mutated file; nothing
// in the project's own build uses it.
//
// Every mutant is compiled in, guarded by wpsim_mutant_on(ID). The process reads the mutant to
// switch on from the environment once (WPSIM_MUTANT=<hex id>; unset or 0: none, the original
// program). With WPSIM_MUTANT_COVERAGE=<file>, each guard that is evaluated records its id and
// the ids are written to <file> (one hex id a line) when the process exits: a mutant whose guard
// a scenario never evaluates cannot change that scenario's run, so the runner skips the pair.
#pragma once

// The rewritten expressions are correct C++ but may look odd to the compiler (an unsigned
// compared with < 0 after a constant was decremented, a duplicated operand); the project
// builds with -Werror, so these warnings are silenced for the mutated files only.
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wparentheses"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wbool-compare"
#pragma GCC diagnostic ignored "-Wint-in-bool-context"
#pragma GCC diagnostic ignored "-Wshift-count-overflow"
#pragma GCC diagnostic ignored "-Wshift-count-negative"
#pragma GCC diagnostic ignored "-Wunused-value"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wtautological-compare"
#pragma GCC diagnostic ignored "-Wduplicated-branches"
#pragma GCC diagnostic ignored "-Woverflow"
#pragma GCC diagnostic ignored "-Wnarrowing"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wreturn-type"
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#pragma GCC diagnostic ignored "-Wpedantic"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace wpsim_mutant {

class State {
 public:
  State() {
    if (const char* v = std::getenv("WPSIM_MUTANT")) active_ = std::strtoull(v, nullptr, 16);
    coverage_path_ = std::getenv("WPSIM_MUTANT_COVERAGE");
  }
  ~State() {
    if (coverage_path_ == nullptr) return;
    std::FILE* f = std::fopen(coverage_path_, "w");
    if (f == nullptr) return;
    if (overflow_) std::fprintf(f, "overflow\n");
    for (uint64_t id : seen_) {
      if (id != 0) std::fprintf(f, "%012llx\n", static_cast<unsigned long long>(id));
    }
    std::fclose(f);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  bool On(uint64_t id) {
    if (coverage_path_ != nullptr) Record(id);
    return id == active_;
  }

 private:
  // Open addressing; ids are 48-bit hashes and never 0. A full table writes "overflow", and the
  // runner then treats the run as reaching every mutant (more runs, never a missed one).
  static constexpr uint64_t kSlots = uint64_t{1} << 17;
  void Record(uint64_t id) {
    uint64_t slot = (id * 0x9E3779B97F4A7C15ull) >> 47;
    for (uint64_t probe = 0; probe < kSlots; ++probe) {
      uint64_t& cell = seen_[(slot + probe) & (kSlots - 1)];
      if (cell == id) return;
      if (cell == 0) {
        cell = id;
        return;
      }
    }
    overflow_ = true;
  }

  uint64_t active_ = 0;
  const char* coverage_path_ = nullptr;
  bool overflow_ = false;
  uint64_t seen_[kSlots] = {};
};

inline State& Get() {
  static State state;
  return state;
}

}  // namespace wpsim_mutant

inline bool wpsim_mutant_on(uint64_t id) { return wpsim_mutant::Get().On(id); }

namespace wpsim_mutant {

// Relational boundary mutants: each operand is evaluated once, with its own type, so the
// comparison converts exactly as the original does (a < b, or a <= b when switched on).
template <class A, class B>
bool Lt(uint64_t id, A&& a, B&& b) {
  return wpsim_mutant_on(id) ? a <= b : a < b;
}
template <class A, class B>
bool Le(uint64_t id, A&& a, B&& b) {
  return wpsim_mutant_on(id) ? a < b : a <= b;
}
template <class A, class B>
bool Gt(uint64_t id, A&& a, B&& b) {
  return wpsim_mutant_on(id) ? a >= b : a > b;
}
template <class A, class B>
bool Ge(uint64_t id, A&& a, B&& b) {
  return wpsim_mutant_on(id) ? a > b : a >= b;
}

}  // namespace wpsim_mutant
