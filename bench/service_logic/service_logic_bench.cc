// Micro-benchmarks of the service's pure-logic pieces: OData filter evaluation over a 10,000-
// connection fan-out, wildcard and literal permission checks, and REST routing. Heap
// allocations are counted (global operator new) and reported per item.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "protocol/rest/odata_filter.h"
#include "protocol/rest/router.h"
#include "service/permissions.h"

namespace {
size_t g_allocations = 0;
}  // namespace

void* operator new(size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // malloc-backed operator new above
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace {

using wpsim::protocol::rest::FilterSubject;
using wpsim::protocol::rest::ODataFilter;
using wpsim::protocol::rest::SortedGroups;

constexpr size_t kSubjects = 10'000;

// 10,000 connections: user ids "user<i % 2500>" (every tenth anonymous), three sorted groups
// each out of 50, connection ids "conn-<i>".
struct Population {
  std::vector<std::string> connection_ids;
  std::vector<std::string> user_ids;
  std::vector<std::vector<std::string>> groups;
  std::vector<SortedGroups> group_sets;
  std::vector<FilterSubject> subjects;

  Population() {
    connection_ids.reserve(kSubjects);
    user_ids.reserve(kSubjects);
    groups.reserve(kSubjects);
    group_sets.reserve(kSubjects);
    for (size_t i = 0; i < kSubjects; ++i) {
      connection_ids.push_back("conn-" + std::to_string(i));
      user_ids.push_back("user" + std::to_string(i % 2500));
      std::vector<std::string> g = {"group" + std::to_string(i % 50),
                                    "group" + std::to_string((i * 7 + 3) % 50),
                                    "room." + std::to_string(i % 13)};
      std::sort(g.begin(), g.end());
      groups.push_back(std::move(g));
    }
    for (size_t i = 0; i < kSubjects; ++i) group_sets.emplace_back(groups[i]);
    for (size_t i = 0; i < kSubjects; ++i) {
      FilterSubject s;
      s.connection_id = connection_ids[i];
      if (i % 10 != 0) s.user_id = user_ids[i];
      s.protocol = "json.webpubsub.azure.v1";
      s.groups = &group_sets[i];
      subjects.push_back(s);
    }
  }
};

const Population& People() {
  static const Population population;
  return population;
}

const char* const kFilters[] = {
    "'group1' in groups",
    "userId in ('user1', 'user2', 'user3') and 'group1' in groups",
    "userId eq 'user1' and connectionId ne '123'",
    "'group1' in groups or 'group2' in groups or 'group3' in groups",
    "tolower(userId) eq 'user42' or contains(concat(userId, connectionId), '9-1') or "
    "(length(groups) ge 3 and substring(connectionId, 5) eq '77')",
};

void BM_FilterFanOut10k(benchmark::State& state) {
  const Population& people = People();
  wpsim::protocol::rest::FilterCompileResult compiled =
      ODataFilter::Compile(kFilters[state.range(0)]);
  if (!compiled.ok()) {
    state.SkipWithError(compiled.error().message.c_str());
    return;
  }
  const ODataFilter& filter = compiled.value();
  size_t matched = 0;
  for (const FilterSubject& s : people.subjects) matched += filter.Matches(s) ? 1 : 0;  // warm up
  const size_t allocations_before = g_allocations;
  for (auto _ : state) {
    matched = 0;
    for (const FilterSubject& s : people.subjects) matched += filter.Matches(s) ? 1 : 0;
    benchmark::DoNotOptimize(matched);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kSubjects));
  state.counters["matched"] = static_cast<double>(matched);
  state.counters["allocs_per_eval"] = static_cast<double>(g_allocations - allocations_before) /
                                      static_cast<double>(state.iterations() * kSubjects);
  state.SetLabel(kFilters[state.range(0)]);
}
BENCHMARK(BM_FilterFanOut10k)->DenseRange(0, 4)->Unit(benchmark::kMicrosecond);

void BM_FilterCompile(benchmark::State& state) {
  for (auto _ : state) {
    wpsim::protocol::rest::FilterCompileResult f = ODataFilter::Compile(kFilters[1]);
    benchmark::DoNotOptimize(f.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FilterCompile);

// Ten wildcard roles: nine send patterns (the per-action maximum) and one join pattern.
wpsim::service::ConnectionPermissions TenWildcardRoles() {
  std::vector<std::string> roles;
  for (int i = 0; i < 9; ++i) {
    roles.push_back("webpubsub.sendToGroups.tenant" + std::to_string(i) + ".*.room-?");
  }
  roles.push_back("webpubsub.joinLeaveGroups.public.**");
  return wpsim::service::ConnectionPermissions::FromRoles(roles);
}

void BM_PermissionCheckTenWildcardRoles(benchmark::State& state) {
  const wpsim::service::ConnectionPermissions permissions = TenWildcardRoles();
  // A mix: matches the last pattern, matches none (all nine tried), matches the first.
  const std::string groups[] = {"tenant8.project.room-7", "tenant9.project.room-7",
                                "tenant0.p.room-a", "tenant3.deep.er.room-1"};
  size_t allowed = 0;
  const size_t allocations_before = g_allocations;
  for (auto _ : state) {
    for (const std::string& g : groups) allowed += permissions.CanSendTo(g) ? 1 : 0;
  }
  benchmark::DoNotOptimize(allowed);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 4));
  state.counters["allocs_per_check"] = static_cast<double>(g_allocations - allocations_before) /
                                       static_cast<double>(state.iterations() * 4);
}
BENCHMARK(BM_PermissionCheckTenWildcardRoles);

void BM_PermissionCheckThousandLiterals(benchmark::State& state) {
  wpsim::service::ConnectionPermissions permissions;
  for (int i = 0; i < 1000; ++i) {
    (void)permissions.Grant(wpsim::service::GroupAction::kSendTo, "group-" + std::to_string(i));
  }
  const std::string groups[] = {"group-0", "group-999", "group-500", "nope"};
  size_t allowed = 0;
  for (auto _ : state) {
    for (const std::string& g : groups) allowed += permissions.CanSendTo(g) ? 1 : 0;
  }
  benchmark::DoNotOptimize(allowed);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 4));
}
BENCHMARK(BM_PermissionCheckThousandLiterals);

void BM_RouteSendToGroup(benchmark::State& state) {
  for (auto _ : state) {
    wpsim::protocol::rest::RouteResult r = wpsim::protocol::rest::RouteRequest(
        "POST", "/api/hubs/chat/groups/room%201/:send?api-version=2024-12-01&excluded=c1");
    benchmark::DoNotOptimize(r.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouteSendToGroup);

}  // namespace
