// The upstream family: the scripted application server (the `upstream` section decides each reply
// to the service's event-handler requests) and the upstream_event expectation.
//
// The family's types are part of the scenario model (conformance/scenario.h includes this
// header); their YAML shape, running and evaluation live in conformance/steps/upstream.cc (the
// section's readers are declared with the other sections, conformance/shape/sections.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"

namespace wpsim::conformance {

struct UpstreamHandler {
  SourcePos pos;
  std::string url_template;                 // may contain {event} and {hub}
  std::string user_event_pattern;           // "*", "a", "a,b" ("" = no user events)
  std::vector<std::string> system_events;   // connect, connected, disconnected
};

enum class UpstreamActionKind {
  kAccept,   // 204, or 200 with overrides for connect
  kReject,   // status 4xx/5xx with optional body
  kReply,    // 200 with a body and content type (user events)
  kFail,     // the transport fails (connection reset before a response)
  kTimeout,  // never answers (the service's upstream timeout decides)
};
std::string_view UpstreamActionKindName(UpstreamActionKind kind);

struct UpstreamMatch {
  std::optional<ClientRef> clients;      // the event's connection is one of these members
  std::optional<std::string> user_id;    // ce-userId
  std::optional<std::string> data_contains;  // substring of the request body
  std::optional<std::string> subprotocol;    // offered (connect) or selected (others)
};

struct UpstreamResponse {
  SourcePos pos;
  std::vector<std::string> events;  // event names; "*" matches every event
  UpstreamMatch match;
  UpstreamActionKind action = UpstreamActionKind::kAccept;
  int status = 204;
  std::string body;          // raw bytes
  std::string content_type;  // empty = none
  // connect overrides (action accept)
  std::optional<std::string> user_id;
  std::optional<std::vector<std::string>> groups;
  std::optional<std::vector<std::string>> roles;
  std::optional<std::string> subprotocol;
  std::optional<std::string> connection_state;  // ce-connectionState response header
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t delay_ns = 0;
  std::optional<uint32_t> times;  // the rule applies to the first N matching events only
};

enum class ValidationReply { kAllowAny, kAllowOrigin, kDeny };

struct UpstreamSettings {
  bool present = false;
  std::vector<UpstreamHandler> handlers;
  ValidationReply validation = ValidationReply::kAllowAny;
  std::vector<UpstreamResponse> responses;  // first match wins; no match = accept (204)
};

struct UpstreamEventExpect {
  std::string event;  // connect, connected, disconnected or a user event name
  std::optional<ClientRef> clients;
  CountSpec count;    // per member (or in total without clients); default at_least 1
  std::optional<nlohmann::json> body;  // subset match of a JSON body
  std::optional<std::string> body_text;  // exact body
  std::vector<std::pair<std::string, std::string>> headers;  // must be present, exact value
  TimeWindow window;
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterUpstreamFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
