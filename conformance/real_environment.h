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
// Neither can control the network or the clocks (partitions, latency, resets, clock skew) or
// inject bugs into the service.
//
// The scripted application server (a scenario's `upstream:` section) runs in the runner's
// process on a real port: for the in-process service on 127.0.0.1 (port 0 or
// --upstream-listen), its handler URLs naming the simulated host `app` pointed at it; for an
// external service on --upstream-listen, where the user pointed the hub's event handler
// (UpstreamServeConfig writes that configuration for `wpsim serve --config`). Against an external
// service every event-handler scenario uses its own hub (UpstreamHubName), because the
// service's handler configuration is per hub and scenarios declare different handlers.
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
// `upstream_listen`: --upstream-listen was given (an external service can then run
// event-handler scenarios; the in-process one always can).
std::vector<std::string> RealTargetSkipReasons(const Scenario& scenario, bool external_service,
                                               int64_t max_real_wait_ns,
                                               bool upstream_listen = false);

// The least real time a run of `scenario` takes: its declared waits, in the order they run.
int64_t DeclaredRealWaitNs(const Scenario& scenario);

// PEM text of the CA certificates a TLS client trusts: the system store (sim::kSystemCaFile,
// when it exists) plus `extra_ca_file` (when given; an unreadable file is an error).
Result<std::string> TrustedCaPem(const std::string& extra_ca_file);

// The hub an event-handler scenario uses against an external service: its hub, "_", and its
// name with the hub's name and "-" in front dropped, every character a hub name cannot hold as
// "_" ("upstream" + "upstream-connect-event-outcomes" -> "upstream_connect_event_outcomes").
// Fixed (no per-run suffix), so a service configuration can name it.
std::string UpstreamHubName(const Scenario& scenario);

// A `wpsim serve --config` file (docs/cli.md) giving each event-handler scenario's hub
// (UpstreamHubName) the handlers the scenario declares, with URLs pointed at `listen`, the
// application server `wpsim run --upstream-listen` hosts: `http://app/api/{event}` becomes
// `http://HOST:PORT/<hub>/api/{event}` (the hub in the path keeps the service's per-URL
// abuse-protection validations of different scenarios apart). Scenarios without `upstream:`
// are left out.
std::string UpstreamServeConfig(const std::vector<const Scenario*>& scenarios,
                                const std::string& listen);

// A handler URL template of a scenario with the simulated application server's origin
// (`http://app`, `http://app:80`) replaced by `origin` ("http://127.0.0.1:9000"); other URLs
// are returned as they are.
std::string PointAtAppServer(const std::string& url_template, const std::string& origin);

// A hub suffix that differs between runs ("_r" + 8 hex digits, valid in hub names).
std::string RandomHubSuffix();

}  // namespace wpsim::conformance
