// Real targets (`local`, `remote`): which scenarios they can run, and the pieces of
// RealEnvironment (conformance/real_environment.cc, made by MakeRealEnvironment in targets.h)
// that the command line and tests need.
//
// Where the service is decides what a real target can do:
//  * in-process (`local` without a connection string): a fresh reference service per scenario on
//    127.0.0.1, built from the scenario's `service:` settings, so recovery windows, buffer
//    limits and access keys apply exactly as in sim;
//  * external (`local` with a connection string, `remote`): a running service we cannot
//    configure and share with other runs, so scenarios that configure it are skipped, and hub
//    names get a per-run suffix (RunnerOptions::hub_suffix) so earlier runs' leftovers (users
//    added to groups, open connections) cannot interfere.
// Neither can control the network or the clocks (partitions, latency, resets, clock skew),
// inject bugs into the service, or host the scripted application server (upstream).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "conformance/scenario.h"

namespace wpsim::conformance {

// Why `scenario` cannot run on a real target; empty when it can. `external_service`: the
// service is not started by the runner. `max_real_wait_ns` > 0: scenarios whose declared waits
// (`wait` steps, `at` offsets, `repeat` durations, settle) add up to more real time than this
// are skipped too (0: no limit).
std::vector<std::string> RealTargetSkipReasons(const Scenario& scenario, bool external_service,
                                               int64_t max_real_wait_ns);

// The least real time a run of `scenario` takes: its declared waits, in the order they run.
int64_t DeclaredRealWaitNs(const Scenario& scenario);

// PEM text of the CA certificates a TLS client trusts: the system store (sim::kSystemCaFile,
// when it exists) plus `extra_ca_file` (when given; an unreadable file is an error).
Result<std::string> TrustedCaPem(const std::string& extra_ca_file);

// A hub suffix that differs between runs ("_r" + 8 hex digits, valid in hub names).
std::string RandomHubSuffix();

}  // namespace wpsim::conformance
