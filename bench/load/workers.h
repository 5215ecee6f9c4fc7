// Several driver processes for one load: the shares of the shards, and --workers N (forked
// shards on this machine, started together by a pipe barrier, figures merged).
#pragma once

#include <cstdint>
#include <cstdio>

#include "base/result.h"
#include "bench/load/driver.h"
#include "reports/load_report.h"

namespace wpsim::load {

// Shard `index` of `count` of the whole load `whole`: its share of the subscribers and of the
// publishers (at least one), the index and count set.
Options ShardOptions(const Options& whole, uint32_t index, uint32_t count);

// Runs `whole` in `workers` forked processes (shards 0..workers-1, each with its share and
// ceil(inflight / workers) in flight); once every worker's connections are ready, the parent
// sends all of them one start instant (now + settle). Returns the merged figures; each worker's
// summary line goes to `worker_lines` when not null. An error when a worker wrote no report.
// Fork before any thread is started (the caller's process is copied).
Result<reports::LoadReport> RunWorkers(const Options& whole, const Target& target, SubKind sub, PubKind pub,
                                       uint32_t workers, FILE* worker_lines);

}  // namespace wpsim::load
