// Fixture of tests/tools/mutate_test.py: one small program with a site for every mutation
// operator, and the constant contexts (constexpr, case labels, template arguments,
// static_assert, macros) where tools/mutate must not or cannot put a guard.
#include <array>
#include <cstdio>
#include <cstdlib>

#define CHECK_POSITIVE(x) ((x) > 0 ? 1 : 0)

enum class ReasonCode : unsigned char { kSuccess = 0, kNotAuthorized = 0x87, kBanned = 0x8A };

constexpr int LimitMax() { return 3 < 4 ? 10 : 20; }
static_assert(LimitMax() == 10);

int counter = 0;

void Count(int n) { counter += n; }

void Touch() {
  Count(1);
  Count(2);
}

int Status(int length, bool authorized) {
  if (!authorized) return 401;
  if (length > LimitMax()) return 413;
  return 200;
}

bool InRange(int x) { return x >= 0 && x < 5; }

int Classify(int code) {
  switch (code) {
    case 1000:
      return 1;
    case 1008:
      return 2;
    default:
      return 3;
  }
}

ReasonCode Reason(bool allowed) {
  return allowed ? ReasonCode::kSuccess : ReasonCode::kNotAuthorized;
}

int Sum(const std::array<int, 4>& values) {
  int total = 0;
  const std::array<int, 2> bias{0, 0};  // the 2 is a template argument: cannot be guarded
  for (int v : values) total += v;
  total += bias[0];
  return total + CHECK_POSITIVE(total);
}

bool IsControl(int opcode) { return opcode == 8 || opcode == 9; }

int main(int argc, char** argv) {
  const int x = argc > 1 ? std::atoi(argv[1]) : 10;
  Touch();
  std::printf("status=%d %d\n", Status(x, true), Status(x, false));
  std::printf("range=%d %d\n", InRange(x) ? 1 : 0, InRange(4) ? 1 : 0);
  std::printf("classify=%d\n", Classify(1000));
  std::printf("control=%d\n", IsControl(8) ? 1 : 0);
  std::printf("reason=%d\n", static_cast<int>(Reason(false)));
  std::printf("sum=%d counter=%d\n", Sum({1, 2, 3, 4}), counter);
  return 0;
}
