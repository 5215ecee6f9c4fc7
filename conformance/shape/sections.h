// The sections of a scenario file other than steps, each read into Context::scenario():
// settings (conformance/shape/settings.cc), clients (clients.cc), expectations, invariants and
// thresholds (expect.cc), and the network and upstream families' sections
// (conformance/steps/network.cc, upstream.cc).
#pragma once

#include "conformance/shape/binding.h"

namespace wpsim::conformance::shape {

// The top-level keys, in document order (for docs, schema and "valid keys").
const Table<Scenario>& RootTable();
// Reads the root mapping: the sections in dependency order (clients first, because everything
// else refers to them; steps before expectations, because expectations refer to step labels),
// whatever their order in the file. `read_steps` reads the steps section.
void ReadRoot(Context& c, const Node& root, const std::function<void(const Node&)>& read_steps);

const Table<SourceRef>& SourceTable();
const Table<RunSettings>& RunTable();
const Table<ServiceSettings>& ServiceTable();
void ReadService(Context& c, const Node& n);

const Table<Client>& ClientTable();  // every client key (kind-specific ones included)
void ReadClients(Context& c, const Node& n);

// Link settings (latency, bandwidth, loss, receive_window), as in network, a client's network
// and the delay step; ReadLink reads the ones present in `m`.
const Table<LinkSettings>& LinkTable();
LinkSettings ReadLink(Context& c, const Map& m);

// Token options (`token:` of clients, `auth:` of rest steps); a bare fault name is shorthand.
const Table<TokenOptions>& TokenTable();
std::optional<TokenOptions> ReadToken(Context& c, const Node& n, bool rest);

const Table<NetworkSettings>& NetworkTable();
void ReadNetwork(Context& c, const Node& n);

const Table<UpstreamSettings>& UpstreamTable();
void ReadUpstream(Context& c, const Node& n);
// The JSON schema of one scripted response (upstream.responses items): its keys, and exactly one
// action among them (scenarios/schema.json).
nlohmann::json UpstreamResponseSchema();
// The upstream_event expectation's fields (the upstream family owns it).
const Table<UpstreamEventExpect>& UpstreamEventTable();
void ReadUpstreamEvent(Context& c, const Map& m, const Node& kind_node, UpstreamEventExpect& u);

// The swarm and eventually sections (conformance/shape/liveness.cc).
const Table<SwarmSettings>& SwarmTable();
void ReadSwarm(Context& c, const Node& n);
const Table<EventuallySettings>& EventuallyTable();
void ReadEventually(Context& c, const Node& n);

void ReadExpectations(Context& c, const Node& n);
void ReadInvariants(Context& c, const Node& n);
void ReadThresholds(Context& c, const Node& n);

}  // namespace wpsim::conformance::shape
