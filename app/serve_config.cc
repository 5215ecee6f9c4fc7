#include "app/serve_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "service/names.h"

namespace wpsim::app {

namespace {

std::string Where(std::string_view file, const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return std::string(file);
  return std::string(file) + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

Error Bad(std::string_view file, const YAML::Node& node, std::string message) {
  return MakeError("bad_config", Where(file, node) + ": " + message);
}

Status CheckKeys(std::string_view file, const YAML::Node& map,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Bad(file, kv.first, "unknown key '" + key + "' (expected one of: " + list + ")");
    }
  }
  return Status::Ok();
}

Result<std::string> String(std::string_view file, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) return Bad(file, node, std::string(what) + " must be a string");
  return node.as<std::string>();
}

Result<sim::Nanos> Seconds(std::string_view file, const YAML::Node& node, std::string_view what) {
  double v = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, v) || !(v >= 0) || v > 86400) {
    return Bad(file, node, std::string(what) + " must be a number of seconds between 0 and 86400");
  }
  return static_cast<sim::Nanos>(std::llround(v * 1e9));
}

Status ApplyUpstream(std::string_view file, const YAML::Node& node,
                     service::UpstreamOptions& upstream) {
  if (!node.IsMap()) return Bad(file, node, "upstream must be a mapping");
  if (Status s = CheckKeys(file, node, {"requestOrigin", "requestTimeoutSeconds",
                                        "retryDelaysSeconds", "validate"});
      !s.ok()) {
    return s;
  }
  if (const YAML::Node n = node["requestOrigin"]) {
    auto v = String(file, n, "requestOrigin");
    if (!v.ok()) return v.error();
    upstream.request_origin = *v;
  }
  if (const YAML::Node n = node["requestTimeoutSeconds"]) {
    auto v = Seconds(file, n, "requestTimeoutSeconds");
    if (!v.ok()) return v.error();
    if (*v == 0) return Bad(file, n, "requestTimeoutSeconds must be more than 0");
    upstream.request_timeout = *v;
  }
  if (const YAML::Node n = node["retryDelaysSeconds"]) {
    if (!n.IsSequence() || n.size() > 10) {
      return Bad(file, n, "retryDelaysSeconds must be a list of at most 10 numbers");
    }
    upstream.retry_delays.clear();
    for (const YAML::Node& d : n) {
      auto v = Seconds(file, d, "a retry delay");
      if (!v.ok()) return v.error();
      upstream.retry_delays.push_back(*v);
    }
  }
  if (const YAML::Node n = node["validate"]) {
    bool v = true;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return Bad(file, n, "validate must be true or false");
    upstream.validate = v;
  }
  return Status::Ok();
}

Result<size_t> Count(std::string_view file, const YAML::Node& node, std::string_view what) {
  uint64_t v = 0;
  if (!node.IsScalar() || !YAML::convert<uint64_t>::decode(node, v) || v > 100'000'000) {
    return Bad(file, node, std::string(what) + " must be a whole number between 0 and 100000000");
  }
  return static_cast<size_t>(v);
}

// `limits:` (service::ConnectionLimits; docs/reliability.md). 0 disables a bound.
Status ApplyLimits(std::string_view file, const YAML::Node& node,
                   service::ConnectionLimits& limits) {
  if (!node.IsMap()) return Bad(file, node, "limits must be a mapping");
  if (Status s = CheckKeys(file, node,
                           {"requestReadTimeoutSeconds", "httpIdleTimeoutSeconds",
                            "webSocketPingsUnansweredMax", "maxConnections",
                            "maxConnectionsPerPeer", "maxGroupsPerConnection",
                            "maxPipelinedRequests"});
      !s.ok()) {
    return s;
  }
  struct SecondsKey {
    const char* name;
    sim::Nanos* target;
  };
  for (const SecondsKey& k : {SecondsKey{"requestReadTimeoutSeconds", &limits.request_read_timeout},
                              SecondsKey{"httpIdleTimeoutSeconds", &limits.http_idle_timeout}}) {
    if (const YAML::Node n = node[k.name]) {
      auto v = Seconds(file, n, k.name);
      if (!v.ok()) return v.error();
      *k.target = *v;
    }
  }
  struct CountKey {
    const char* name;
    size_t* target;
  };
  for (const CountKey& k : {CountKey{"maxConnections", &limits.connections_max},
                            CountKey{"maxConnectionsPerPeer", &limits.connections_per_peer_max},
                            CountKey{"maxGroupsPerConnection", &limits.groups_per_connection_max},
                            CountKey{"maxPipelinedRequests", &limits.pipelined_requests_max}}) {
    if (const YAML::Node n = node[k.name]) {
      auto v = Count(file, n, k.name);
      if (!v.ok()) return v.error();
      *k.target = *v;
    }
  }
  if (const YAML::Node n = node["webSocketPingsUnansweredMax"]) {
    auto v = Count(file, n, "webSocketPingsUnansweredMax");
    if (!v.ok()) return v.error();
    if (*v > 1000) return Bad(file, n, "webSocketPingsUnansweredMax must be at most 1000");
    limits.websocket_pings_unanswered_max = static_cast<int>(*v);
  }
  return Status::Ok();
}

Status ApplyHub(std::string_view file, const YAML::Node& node, service::HubSettings& hub) {
  if (node.IsNull()) return Status::Ok();
  if (!node.IsMap()) return Bad(file, node, "a hub's settings must be a mapping");
  if (Status s = CheckKeys(file, node, {"eventHandlers", "allowAnonymous"}); !s.ok()) return s;
  if (const YAML::Node n = node["allowAnonymous"]) {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return Bad(file, n, "allowAnonymous must be true or false");
    hub.allow_anonymous = v;
  }
  const YAML::Node handlers = node["eventHandlers"];
  if (!handlers) return Status::Ok();
  if (!handlers.IsSequence()) return Bad(file, handlers, "eventHandlers must be a list");
  for (const YAML::Node& h : handlers) {
    if (!h.IsMap()) return Bad(file, h, "an event handler must be a mapping");
    if (Status s = CheckKeys(file, h, {"urlTemplate", "userEventPattern", "systemEvents"}); !s.ok()) {
      return s;
    }
    service::EventHandlerSettings settings;
    const YAML::Node url = h["urlTemplate"];
    if (!url) return Bad(file, h, "an event handler needs urlTemplate");
    auto u = String(file, url, "urlTemplate");
    if (!u.ok()) return u.error();
    settings.url_template = *u;
    if (const YAML::Node p = h["userEventPattern"]) {
      auto v = String(file, p, "userEventPattern");
      if (!v.ok()) return v.error();
      settings.user_event_pattern = *v;
    }
    if (const YAML::Node events = h["systemEvents"]) {
      if (!events.IsSequence()) return Bad(file, events, "systemEvents must be a list");
      for (const YAML::Node& e : events) {
        auto v = String(file, e, "a system event");
        if (!v.ok()) return v.error();
        settings.system_events.push_back(*v);
      }
    }
    if (Status s = service::ValidateEventHandler(settings); !s.ok()) {
      return Bad(file, h, s.error().message);
    }
    hub.event_handlers.push_back(std::move(settings));
  }
  return Status::Ok();
}

}  // namespace

Status ApplyServeConfig(std::string_view text, std::string_view file,
                        service::ServiceOptions& options) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return MakeError("bad_config", std::string(file) + ":" + std::to_string(e.mark.line + 1) +
                                       ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  try {
    if (root.IsNull()) return Status::Ok();
    if (!root.IsMap()) {
      return Bad(file, root, "the file must be a mapping with hubs, upstream and limits");
    }
    if (Status s = CheckKeys(file, root, {"hubs", "upstream", "limits"}); !s.ok()) return s;
    if (const YAML::Node up = root["upstream"]) {
      if (Status s = ApplyUpstream(file, up, options.upstream); !s.ok()) return s;
    }
    if (const YAML::Node limits = root["limits"]) {
      if (Status s = ApplyLimits(file, limits, options.limits); !s.ok()) return s;
    }
    if (const YAML::Node hubs = root["hubs"]) {
      if (!hubs.IsMap()) return Bad(file, hubs, "hubs must be a mapping from hub name to settings");
      for (const auto& kv : hubs) {
        const std::string name = kv.first.as<std::string>();
        // A name with `*` or `?` is a pattern for hubs without settings of their own (the longest
        // matching pattern wins; service/hub_config.cc FindHubSettings).
        std::string literal;
        for (char c : name) {
          if (c != '*' && c != '?') literal += c;
        }
        const bool pattern = literal.size() != name.size();
        if (!(pattern ? literal.empty() || service::IsValidHubName(literal)
                      : service::IsValidHubName(name))) {
          return Bad(file, kv.first, "invalid hub name '" + name + "'");
        }
        if (Status s = ApplyHub(file, kv.second, options.hubs[service::HubKey(name)]); !s.ok()) return s;
      }
    }
  } catch (const YAML::Exception& e) {
    return MakeError("bad_config", std::string(file) + ": " + e.what());
  }
  return Status::Ok();
}

Status LoadServeConfig(const std::string& path, service::ServiceOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("bad_config", "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ApplyServeConfig(text.str(), path, options);
}

}  // namespace wpsim::app
