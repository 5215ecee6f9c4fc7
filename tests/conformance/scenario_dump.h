// A complete JSON image of a loaded Scenario (every member of every struct of
// conformance/scenario.h, positions included), for tests that check two loaders, or two
// versions of one, produce the same model. Not a user format: field names are the C++ ones and
// enums are their integer values.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <variant>

#include "conformance/scenario.h"

namespace nlohmann {
template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) {
    if (v) {
      j = *v;
    } else {
      j = nullptr;
    }
  }
};
template <typename... Ts>
struct adl_serializer<std::variant<Ts...>> {
  static void to_json(json& j, const std::variant<Ts...>& v) {
    std::visit([&](const auto& x) { j = json{{"index", v.index()}, {"value", x}}; }, v);
  }
};
}  // namespace nlohmann

namespace wpsim::sim {
inline void to_json(nlohmann::json& j, const Distribution& d) { j = d.ToString(); }
}  // namespace wpsim::sim

namespace wpsim::reports {
inline void to_json(nlohmann::json& j, const Threshold& t) {
  j = {{"text", t.text}, {"metric", t.metric}, {"stat", t.stat}, {"percentile", t.percentile},
       {"op", t.op},     {"limit", t.limit}};
}
}  // namespace wpsim::reports

// to_json only (the scenario model is never read back from this form).
#define WPSIM_DUMP(Type, ...)                                                         \
  inline void to_json(nlohmann::json& nlohmann_json_j, const Type& nlohmann_json_t) { \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))          \
  }

namespace wpsim::conformance {

WPSIM_DUMP(SourcePos, file, line, column)
// Keys added in session 7 (token header, omit and pad_to; MQTT auto_ack and auto_ping; the exact
// close reason; expect_token) are dumped only when set, so the models recorded before them keep
// their digests.
#define WPSIM_DUMP_EXTRA(Type, extra, ...)                                            \
  inline void to_json(nlohmann::json& nlohmann_json_j, const Type& nlohmann_json_t) { \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))          \
    extra(nlohmann_json_j, nlohmann_json_t);                                          \
  }
inline void TokenOptionsExtra(nlohmann::json& j, const TokenOptions& t) {
  if (t.header) j["header"] = *t.header;
  if (!t.omit.empty()) j["omit"] = t.omit;
  if (t.pad_to_bytes) j["pad_to_bytes"] = *t.pad_to_bytes;
}
WPSIM_DUMP_EXTRA(TokenOptions, TokenOptionsExtra, fault, via, lifetime_ns, audience,
                 role_as_string, group_claim, claims, rest_audience)
WPSIM_DUMP(MqttUserProperty, name, value)
WPSIM_DUMP(MqttPublishProperties, content_type, message_expiry_s, payload_format_indicator,
           response_topic, correlation_data, topic_alias, user_properties)
WPSIM_DUMP(MqttWill, topic, payload, qos, retain, delay_s, properties)
inline void MqttOptionsExtra(nlohmann::json& j, const MqttOptions& o) {
  if (!o.auto_ack) j["auto_ack"] = false;
  if (!o.auto_ping) j["auto_ping"] = false;
}
WPSIM_DUMP_EXTRA(MqttOptions, MqttOptionsExtra, client_id, clean_start, session_expiry_s,
                 keepalive_s, username, password, will, receive_maximum, maximum_packet_size,
                 topic_alias_maximum, request_problem_information, request_response_information,
                 user_properties)
WPSIM_DUMP(LinkSettings, latency, bandwidth_bps, loss, receive_window_bytes)
WPSIM_DUMP(Client, pos, name, kind, count, is_cohort, first_member, user, roles, groups, token,
           subprotocols, query, headers, url_style, sequence_ack, network, mqtt)
WPSIM_DUMP(Member, client, index, name, user)
WPSIM_DUMP(ClientRef, pos, text, members)
WPSIM_DUMP(SourceRef, seed, section)
WPSIM_DUMP(RunSettings, step_timeout_ns, settle_ns, time_limit_ns, perturb)
WPSIM_DUMP(ScheduledPartition, pos, at_ns, duration_ns, clients, upstream, direction)
WPSIM_DUMP(NetworkSettings, present, defaults, upstream, stream_timeout_ns, partitions)
WPSIM_DUMP(ServiceSettings, present, recovery_window_ns, reliable_buffer_messages,
           reliable_buffer_bytes, keepalive_ns, anonymous, inject_bug, access_key,
           max_message_bytes, mqtt_session_window_ns, upstream_timeout_ns, token_clock_skew_ns)
WPSIM_DUMP(UpstreamHandler, pos, url_template, user_event_pattern, system_events)
WPSIM_DUMP(UpstreamMatch, clients, user_id, data_contains, subprotocol)
WPSIM_DUMP(UpstreamResponse, pos, events, match, action, status, body, content_type, user_id,
           groups, roles, subprotocol, connection_state, headers, delay_ns, times)
WPSIM_DUMP(UpstreamSettings, present, handlers, validation, responses)
WPSIM_DUMP(Payload, data_type, has_data, data, filler_bytes)
WPSIM_DUMP(AckSpec, mode, id)
inline void ConnectStepExtra(nlohmann::json& j, const ConnectStep& c) {
  if (c.auto_ack) j["auto_ack"] = *c.auto_ack;
  if (c.auto_ping) j["auto_ping"] = *c.auto_ping;
}
WPSIM_DUMP_EXTRA(ConnectStep, ConnectStepExtra, clients, subprotocols, token, clean_start,
                 session_expiry_s, keepalive_s)
WPSIM_DUMP(DisconnectStep, clients, code, send_code, reason, mqtt_reason_code, session_expiry_s,
           user_properties)
WPSIM_DUMP(KillStep, clients)
WPSIM_DUMP(RecoverStep, clients, fault)
WPSIM_DUMP(JoinStep, clients, group, ack)
WPSIM_DUMP(LeaveStep, clients, group, ack)
WPSIM_DUMP(SendToGroupStep, clients, group, payload, no_echo, ack)
WPSIM_DUMP(EventStep, clients, event, payload, ack)
WPSIM_DUMP(SequenceAckStep, clients, sequence_id)
WPSIM_DUMP(PingStep, clients)
WPSIM_DUMP(SendRawStep, clients, binary, bytes)
WPSIM_DUMP(MqttSubscription, topic, qos, no_local, retain_as_published, retain_handling)
WPSIM_DUMP(SubscribeStep, clients, subscriptions, subscription_identifier, user_properties)
WPSIM_DUMP(UnsubscribeStep, clients, topics, user_properties)
WPSIM_DUMP(PublishStep, clients, topic, payload, filler_bytes, qos, retain, properties)
WPSIM_DUMP(ConnectionTarget, client, literal_id)
WPSIM_DUMP(RestStep, client, op, group, groups, user, connection, excluded, excluded_ids, filter,
           message_ttl_seconds, reason, permission, target_name, max_page_size, top,
           continuation_token, all_pages, roles, minutes_to_expire, client_type, has_body, body,
           content_type, method, path, query_params, request_headers, api_version, omit_api_version,
           auth)
WPSIM_DUMP(WaitStep, duration_ns)
WPSIM_DUMP(BarrierStep, clients, quiesce)
inline void to_json(nlohmann::json& j, const ParallelStep&) { j = nlohmann::json::object(); }
WPSIM_DUMP(Rate, count, period_ns)
WPSIM_DUMP(RepeatStep, count, rate, duration_ns, index_var)
WPSIM_DUMP(PartitionStep, clients, all, upstream, direction)
WPSIM_DUMP(HealStep, clients, all, upstream)
WPSIM_DUMP(DelayStep, clients, all, upstream, link)
WPSIM_DUMP(ResetStep, clients)
WPSIM_DUMP(ClockSkewStep, clients, skew_ns)
WPSIM_DUMP(InvokeStep, clients, invocation_id, target, event, payload)
WPSIM_DUMP(CancelInvocationStep, clients, invocation_id)
WPSIM_DUMP(StreamStartStep, clients, group, stream_id, idle_timeout_ms, no_echo)
WPSIM_DUMP(StreamDataStep, clients, stream_id, sequence, payload)
WPSIM_DUMP(StreamEndStep, clients, stream_id, error_message, user_error_code)
WPSIM_DUMP(WireHeader, name, value)
WPSIM_DUMP(HttpRequestStep, clients, upgrade, subprotocols, token, rest_auth, method, target,
           headers, omit_headers, body, raw, pipeline, send_bytes, same_connection)
WPSIM_DUMP(WireFrameArgs, fin, rsv, opcode, mask, payload, length, raw)
WPSIM_DUMP(WsFrameStep, clients, frames)
WPSIM_DUMP(MqttPacketStep, clients, bytes)
WPSIM_DUMP(WaitUntilStep, clients, received)
// Step::args as the models were recorded (a variant in this order: {"index": i, "value": ...}).
// A new step type is appended here with its WPSIM_DUMP line above.
template <typename... Ts>
struct StepTypeList {};
using DumpedStepTypes =
    StepTypeList<ConnectStep, DisconnectStep, KillStep, RecoverStep, JoinStep, LeaveStep,
                 SendToGroupStep, EventStep, SequenceAckStep, PingStep, SendRawStep, SubscribeStep,
                 UnsubscribeStep, PublishStep, RestStep, WaitStep, BarrierStep, ParallelStep,
                 RepeatStep, PartitionStep, HealStep, DelayStep, ResetStep, ClockSkewStep,
                 InvokeStep, CancelInvocationStep, StreamStartStep, StreamDataStep, StreamEndStep,
                 HttpRequestStep, WsFrameStep, MqttPacketStep, WaitUntilStep>;
template <typename... Ts>
nlohmann::json DumpStepArgs(const StepArgs& a, StepTypeList<Ts...>) {
  nlohmann::json j;
  size_t i = 0;
  ((a.Is<Ts>() ? (void)(j = {{"index", i}, {"value", a.As<Ts>()}}) : (void)0, ++i), ...);
  if (j.is_null()) throw std::logic_error("step type missing in tests/conformance/scenario_dump.h");
  return j;
}
inline void to_json(nlohmann::json& j, const StepArgs& a) {
  j = DumpStepArgs(a, DumpedStepTypes{});
}
WPSIM_DUMP(Step, id, pos, label, case_id, at_ns, timeout_ns, async, parent, children, args)
WPSIM_DUMP(NullableString, is_null, value)
WPSIM_DUMP(SequenceIdMatch, present, value)
// The keys issue 16 added (the client SDK 1.1 answers) are dumped only when set, so the models
// recorded before them keep their digests.
// clang-format off
#define WPSIM_DUMP_IF_SET(v1) \
  if (nlohmann_json_t.v1) nlohmann_json_j[#v1] = nlohmann_json_t.v1;
inline void to_json(nlohmann::json& nlohmann_json_j, const MessageMatcher& nlohmann_json_t) {
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(
      NLOHMANN_JSON_TO, pos, type, from, group, data_type, data, data_contains, user_id,
      from_user_id, event, connection_id, message, ack_id, success, error, sequence_id,
      reconnection_token, frame, text, binary, topic, qos, retain, payload, content_type,
      message_expiry_s, response_topic, correlation_data, user_properties,
      subscription_identifier, payload_format_indicator))
  NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(WPSIM_DUMP_IF_SET, error_message, invocation_id,
                                           stream_id, stream_sequence_id, end_of_stream,
                                           expected_sequence_id, user_error_code))
}
#undef WPSIM_DUMP_IF_SET
// clang-format on
WPSIM_DUMP(CountSpec, exactly, at_least, at_most)
WPSIM_DUMP(TimeWindow, after_step, until_step, within_ns)
WPSIM_DUMP(ReceiveExpect, clients, match, in_order, count, total, window)
WPSIM_DUMP(NeverReceiveExpect, clients, match, window)
WPSIM_DUMP(AckExpect, step, client, ack_id, success, error, message, message_contains, window)
inline void ClosedExpectExtra(nlohmann::json& j, const ClosedExpect& c) {
  if (c.reason) j["reason"] = *c.reason;
}
WPSIM_DUMP_EXTRA(ClosedExpect, ClosedExpectExtra, clients, code, reason_contains, mqtt_reason_code,
                 http_status, by_service, window)
WPSIM_DUMP(ConnectedExpect, clients, user_id, reconnection_token, subprotocol, connection_id,
           window)
WPSIM_DUMP(GeneratedTokenExpect, user, roles, groups, lifetime_ns)
inline void HttpStatusExpectExtra(nlohmann::json& j, const HttpStatusExpect& h) {
  if (h.token) j["token"] = *h.token;
}
WPSIM_DUMP_EXTRA(HttpStatusExpect, HttpStatusExpectExtra, step, statuses, body, error_code)
WPSIM_DUMP(ConnackExpect, clients, reason_code, session_present, assigned_client_id,
           user_properties)
WPSIM_DUMP(SubackExpect, step, reason_codes)
WPSIM_DUMP(PubackExpect, step, reason_code)
WPSIM_DUMP(UpstreamEventExpect, event, clients, count, body, body_text, headers, window)
WPSIM_DUMP(WireHeaderCheck, name, kind, value)
WPSIM_DUMP(WireResponseCheck, statuses, headers, body, body_contains, json)
WPSIM_DUMP(WireFrameCheck, opcode, fin, payload, payload_contains, close_code, reason,
           reason_contains)
WPSIM_DUMP(WireMqttCheck, type, flags, packet_id, reason_codes, session_present,
           properties_present, properties_absent, v5)
WPSIM_DUMP(WireExpect, clients, responses, frames, packets, nothing_within_ns, ends)
inline void to_json(nlohmann::json& j, const Expectation& e) {
  j = {{"pos", e.pos}, {"label", e.label}, {"case_id", e.case_id}, {"from_step", e.from_step}, {"args", e.args}};
  if (e.eventually) j["eventually"] = true;  // only then: the other files' digests stay put
}
WPSIM_DUMP(SwarmSettings, present, pos, faults, max_faults, window_ns, max_duration_ns, max_latency_ns,
           max_loss, min_receive_window, max_clock_skew_ns, clients)
WPSIM_DUMP(EventuallySettings, present, pos, within_ns, all_acked_delivered, recovered_caught_up)
WPSIM_DUMP(Invariant, pos, kind, case_id, clients)
WPSIM_DUMP(Threshold, pos, expression, parsed, case_id, clients, step)

inline nlohmann::json DumpScenario(const Scenario& s) {
  nlohmann::json j = {{"file", s.file},
          {"name", s.name},
          {"name_pos", s.name_pos},
          {"source", s.source},
          {"description", s.description},
          {"tags", s.tags},
          {"hub", s.hub},
          {"seed", s.seed},
          {"targets", s.targets},
          {"run", s.run},
          {"network", s.network},
          {"service", s.service},
          {"upstream", s.upstream},
          {"clients", s.clients},
          {"members", s.members},
          {"steps", s.steps},
          {"root_steps", s.root_steps},
          {"step_labels", s.step_labels},
          {"expectations", s.expectations},
          {"invariants", s.invariants},
          {"thresholds", s.thresholds}};
  // Only when present, so that the digests of files without them did not change.
  if (s.swarm.present) j["swarm"] = s.swarm;
  if (s.eventually.present) j["eventually"] = s.eventually;
  return j;
}

}  // namespace wpsim::conformance
