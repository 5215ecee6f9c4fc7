// The scenario model: the typed, fully resolved form of one scenario file (docs/scenarios.md).
//
// Theory of operation. The loader (conformance/loader.h) turns YAML into this model and rejects
// anything it cannot resolve, so a runner never meets a dangling reference:
//  * Clients keep their document order; `Scenario::clients[i]` has a stable index i. A client
//    with `count: N` is a cohort; every connection the runner opens is a *member*, and members
//    are flattened into `Scenario::members` (client order, then member order). Every reference
//    to clients in steps and expectations is resolved to sorted-by-appearance member indices.
//  * Steps are stored flat in pre-order (`Scenario::steps[id].id == id`). Block steps
//    (parallel, repeat) list their children's ids; `root_steps` lists the top level. Labels
//    (`as:`) are resolved to step ids at load time; unlabeled steps still have ids.
//  * Inline checks on steps (`expect_status`, `expect_ack`, `expect_connack`, ...) are turned
//    into ordinary `Expectation`s that point at the step's id, so the runner evaluates one
//    list only.
//  * Every map is std::map or a vector: iteration order never depends on hashing or pointers,
//    and the model holds no pointers at all, so it can be copied freely.
//
// Layout. The types several families share (positions, clients, client references, payloads,
// windows, counts) are in conformance/scenario_types.h; each step family's step and expectation
// types are in its own header, conformance/steps/<family>.h, next to the module that reads, runs
// and judges them (docs/architecture.md). A step holds its family's type in a StepArgs (the model
// lists no step kinds: they exist by their registration); an expectation kind is one ExpectKind /
// ExpectArgs alternative.
//
// Execution semantics the runner implements (documented for authors in docs/scenarios.md):
//  * Steps run in order. A step is *issued* at max(previous step's completion, run start +
//    `at`). It *completes* when its awaited outcome arrives: a connect when the connection is
//    established or refused; a client request with an ackId when the ack arrives; a REST call
//    when the response arrives; an MQTT SUBSCRIBE/UNSUBSCRIBE when SUBACK/UNSUBACK arrives and a
//    QoS>0 PUBLISH when its acknowledgement flow ends; everything else immediately. `async: true`
//    makes a step complete on issue. Completion is bounded by the step's `timeout` (default
//    `run.step_timeout`); a timed-out step fails the scenario.
//  * A step addressed to a cohort is issued for every member, in member order, at the same
//    instant; it completes when all members' operations complete.
//  * `parallel` issues all children at the same instant (their relative order is left to the
//    scheduler; in sim with perturbation the seed decides) and completes when all complete.
//  * `repeat` runs its children `count` times (or for `duration`); with `rate`, iteration k is
//    issued at its intended time (block start + k / rate) whether or not earlier iterations
//    completed (open loop); latencies are measured from the intended time (coordinated-
//    omission correction).
//  * After the last step the runner waits `run.settle`, then evaluates expectations. The whole
//    run is bounded by `run.time_limit`.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "conformance/scenario_types.h"
#include "conformance/steps/delivery.h"
#include "conformance/steps/flow.h"
#include "conformance/steps/json.h"
#include "conformance/steps/mqtt.h"
#include "conformance/steps/network.h"
#include "conformance/steps/reliable.h"
#include "conformance/steps/rest.h"
#include "conformance/steps/upstream.h"
#include "conformance/steps/websocket.h"
#include "conformance/steps/wire.h"
#include "conformance/units.h"
#include "reports/threshold.h"

namespace wpsim::conformance {

// ---------------------------------------------------------------------------------------------
// Scenario-level settings

struct SourceRef {
  std::string seed;     // seed document id, "000".."004"
  std::string section;  // section title in that document
};

enum class Target { kSim, kLocal, kRemote };
std::string_view TargetName(Target target);

struct RunSettings {
  int64_t step_timeout_ns = 10 * kNanosPerSecond;
  int64_t settle_ns = 500 * kNanosPerMilli;
  int64_t time_limit_ns = 120 * kNanosPerSecond;
  bool perturb = false;  // sim: break scheduler ties and jitter delays from the seed
};

enum class AnonymousPolicy { kDeny, kAllow };

struct ServiceSettings {
  bool present = false;
  std::optional<int64_t> recovery_window_ns;
  std::optional<uint32_t> reliable_buffer_messages;
  std::optional<uint64_t> reliable_buffer_bytes;
  std::optional<int64_t> keepalive_ns;  // service WebSocket ping interval
  std::optional<AnonymousPolicy> anonymous;
  std::vector<std::string> inject_bug;  // names of the reference service's --inject-bug switches
  std::optional<std::string> access_key;
  std::optional<uint64_t> max_message_bytes;
  std::optional<int64_t> mqtt_session_window_ns;
  std::optional<int64_t> upstream_timeout_ns;
  std::optional<int64_t> token_clock_skew_ns;  // tolerance when validating exp/nbf
};

// ---------------------------------------------------------------------------------------------
// Steps

// A step's arguments: a value of one family's step type (ConnectStep, JoinStep, ...; declared in
// conformance/steps/<family>.h), held by value and copied with the model. The model lists no step
// types: a kind exists by its family's registration line (FamilyRegistry::AddStep<T>,
// conformance/driver.h), which names its YAML key, its reader and how it runs.

// A step kind is the identity of its step type: one StepType per type, compared by address.
struct StepType {
  void* (*clone)(const void* value);
  void (*destroy)(void* value);
  const ClientRef* (*clients)(const void* value);  // the addressees, or null (see Step::Clients)
};
using StepKind = const StepType*;

namespace detail {
// Every step addressed to clients names them in `ClientRef clients` (the network and barrier
// steps' optional references are restrictions, not addressees).
template <typename T>
concept AddressedToClients = requires(const T& t) {
  { t.clients } -> std::same_as<const ClientRef&>;
};
template <typename T>
inline constexpr StepType kStepType = {
    [](const void* v) -> void* { return new T(*static_cast<const T*>(v)); },
    [](void* v) { delete static_cast<T*>(v); },
    [](const void* v) -> const ClientRef* {
      if constexpr (AddressedToClients<T>) {
        return &static_cast<const T*>(v)->clients;
      } else {
        (void)v;
        return nullptr;
      }
    },
};
}  // namespace detail

template <typename T>
StepKind StepKindOf() {
  return &detail::kStepType<T>;
}

// The YAML key of a registered kind: "connect", "send_to_group", ... ("?" for none); derived from
// the registrations (conformance/driver_registry.cc).
std::string_view StepKindName(StepKind kind);

class StepArgs {
 public:
  StepArgs() = default;
  template <typename T, typename = std::enable_if_t<!std::is_same_v<std::decay_t<T>, StepArgs>>>
  StepArgs(T&& value)  // NOLINT(google-explicit-constructor): `step.args = JoinStep{...}`
      : type_(StepKindOf<std::decay_t<T>>()), value_(new std::decay_t<T>(std::forward<T>(value))) {}
  StepArgs(const StepArgs& o)
      : type_(o.type_), value_(o.value_ ? o.type_->clone(o.value_) : nullptr) {}
  StepArgs(StepArgs&& o) noexcept : type_(o.type_), value_(o.value_) {
    o.type_ = nullptr;
    o.value_ = nullptr;
  }
  StepArgs& operator=(StepArgs o) noexcept {
    std::swap(type_, o.type_);
    std::swap(value_, o.value_);
    return *this;
  }
  ~StepArgs() {
    if (value_) type_->destroy(value_);
  }

  StepKind kind() const { return type_; }  // null while empty
  template <typename T>
  bool Is() const {
    return type_ == StepKindOf<T>();
  }
  template <typename T>
  const T& As() const {
    WPSIM_ASSERT(Is<T>());
    return *static_cast<const T*>(value_);
  }
  template <typename T>
  T& As() {
    WPSIM_ASSERT(Is<T>());
    return *static_cast<T*>(value_);
  }
  template <typename T>
  const T* If() const {
    return Is<T>() ? static_cast<const T*>(value_) : nullptr;
  }
  const ClientRef* Clients() const { return value_ ? type_->clients(value_) : nullptr; }

 private:
  StepKind type_ = nullptr;
  void* value_ = nullptr;
};

struct Step {
  uint32_t id = 0;
  SourcePos pos;
  std::string label;  // `as:`; empty if none
  std::string case_id;
  std::optional<int64_t> at_ns;       // issue no earlier than block start + at
  std::optional<int64_t> timeout_ns;  // completion bound; default run.step_timeout
  bool async = false;                 // complete on issue
  std::optional<uint32_t> parent;     // enclosing parallel/repeat
  std::vector<uint32_t> children;     // parallel / repeat only
  StepArgs args;

  StepKind kind() const { return args.kind(); }
  template <typename T>
  bool Is() const {
    return args.Is<T>();
  }
  template <typename T>
  const T& As() const {
    return args.As<T>();
  }
  // The members this step acts for (null for control and network steps).
  const ClientRef* Clients() const { return args.Clients(); }
};

// ---------------------------------------------------------------------------------------------
// Expectations

enum class ExpectKind {
  kReceive,
  kNeverReceive,
  kAck,
  kClosed,
  kConnected,
  kHttpStatus,
  kConnack,
  kSuback,
  kPuback,
  kUpstreamEvent,
  kWire,
};
inline constexpr int kExpectKindCount = 11;
std::string_view ExpectKindName(ExpectKind kind);

using ExpectArgs = std::variant<ReceiveExpect, NeverReceiveExpect, AckExpect, ClosedExpect,
                                ConnectedExpect, HttpStatusExpect, ConnackExpect, SubackExpect,
                                PubackExpect, UpstreamEventExpect, WireExpect>;
static_assert(std::variant_size_v<ExpectArgs> == kExpectKindCount);

struct Expectation {
  SourcePos pos;
  std::string label;    // `as:`
  std::string case_id;  // conformance case id ("JSON-ACK-003"), see docs/conformance.md
  std::optional<uint32_t> from_step;  // synthesized from an inline check on this step
  ExpectArgs args;
  bool eventually = false;  // from the `eventually:` section: judged after the liveness phase

  ExpectKind kind() const { return static_cast<ExpectKind>(args.index()); }
  template <typename T>
  const T& As() const {
    return std::get<T>(args);
  }
};

enum class InvariantKind {
  kNoDeliveryOutsideGroup,  // a group message only reaches members of the group
  kPerPublisherOrder,       // messages from one publisher arrive in publish order
  kNoDuplicates,            // no connection receives the same message twice
  kSequenceIdsContiguous,   // reliable: sequenceIds 1, 2, 3... per logical connection
};
std::string_view InvariantKindName(InvariantKind kind);

struct Invariant {
  SourcePos pos;
  InvariantKind kind = InvariantKind::kNoDuplicates;
  std::string case_id;
  std::optional<ClientRef> clients;  // nullopt: every member
};

// A latency/error/throughput objective, k6-style: "p99 < 20ms", "ack_rtt.p99 < 5ms",
// "error_rate < 0.1%", "throughput > 1000/s" (grammar: reports/threshold.h, which evaluates it).
struct Threshold {
  SourcePos pos;
  std::string expression;     // as written
  reports::Threshold parsed;  // metric, statistic, comparison, limit in canonical units
  std::string case_id;
  std::optional<ClientRef> clients;  // only deliveries to these members
  std::optional<uint32_t> step;      // only operations issued by this step (e.g. a repeat)
};

// What a scenario needs from the target; a runner skips it on targets lacking these, with
// the reasons given by RealTargetSkipReasons (conformance/real_environment.h).
struct Requirements {
  bool network_control = false;   // network section, partition/heal/delay/reset steps
  bool clock_control = false;     // set_clock_skew
  bool fault_injection = false;   // service.inject_bug
  bool service_config = false;    // service settings other than access_key
  bool scripted_upstream = false; // upstream section
};

// The liveness phase (`eventually:`): once the steps are done every fault heals
// (HealAllFaults), the run goes on for `within` (at least run.settle), and then the eventual
// expectations must hold; their failures read "eventually (within ... of the heal at ...): ...".
// Two built-in liveness checks can be switched on there instead of written out by hand
// (conformance/steps/delivery.cc, MakeLivenessChecks).
struct EventuallySettings {
  bool present = false;
  SourcePos pos;
  int64_t within_ns = 5'000'000'000;
  // Every acknowledged publish (sendToGroup with a success or Duplicate ack, REST send answered
  // 2xx) reached every member present throughout (in the group or connected before the publish
  // was issued, and never taken out by a step or a lost transport).
  bool all_acked_delivered = false;
  // Every reliable client whose transport was lost recovered, and then has every message
  // published to it while it was a member (replays it dropped count as had).
  bool recovered_caught_up = false;
};

struct Scenario {
  std::string file;  // path as given to the loader
  std::string name;
  SourcePos name_pos;
  SourceRef source;
  std::string description;
  std::vector<std::string> tags;
  std::string hub;
  std::optional<uint64_t> seed;
  std::vector<Target> targets;  // empty: every target
  RunSettings run;
  NetworkSettings network;
  ServiceSettings service;
  UpstreamSettings upstream;
  std::vector<Client> clients;
  std::vector<Member> members;
  std::vector<Step> steps;  // pre-order; steps[i].id == i
  std::vector<uint32_t> root_steps;
  std::map<std::string, uint32_t, std::less<>> step_labels;
  std::vector<Expectation> expectations;
  std::vector<Invariant> invariants;
  std::vector<Threshold> thresholds;
  SwarmSettings swarm;
  EventuallySettings eventually;

  std::optional<uint32_t> FindClient(std::string_view name) const;
  std::optional<uint32_t> FindStep(std::string_view label) const;
  const Client& ClientOf(uint32_t member) const { return clients[members[member].client]; }
  Requirements Needs() const;
  bool HasTag(std::string_view tag) const;
};

}  // namespace wpsim::conformance
