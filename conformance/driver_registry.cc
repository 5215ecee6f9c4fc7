// The step families, one line each (conformance/driver.h), and what is derived from their
// registrations: the step kinds' names (StepKindName) and shapes (shape::AllSteps). A new step
// kind is one AddStep line in its family's Register function; a new family adds its line here.
// The families' headers come with the scenario model (conformance/scenario.h includes them).
#include "base/result.h"
#include "conformance/driver.h"

namespace wpsim::conformance {

void FamilyRegistry::AddStep(shape::StepShape shape, Issue issue, Prepare prepare) {
  const StepKind kind = shape.kind;
  for (const auto& entry : steps) WPSIM_ASSERT(entry.second.shape.name != shape.name);
  WPSIM_ASSERT(steps.find(kind) == steps.end());
  steps.emplace(kind, StepEntry{std::move(shape), issue, prepare});
}

const FamilyRegistry& Families() {
  static const FamilyRegistry registry = [] {
    FamilyRegistry r;
    RegisterWebSocketFamily(r);
    RegisterJsonFamily(r);
    RegisterReliableFamily(r);
    RegisterMqttFamily(r);
    RegisterRestFamily(r);
    RegisterFlowFamily(r);
    RegisterNetworkFamily(r);  // before upstream: scheduled partitions, then the app server
    RegisterUpstreamFamily(r);
    RegisterDeliveryFamily(r);
    RegisterWireFamily(r);
    return r;
  }();
  return registry;
}

std::string_view StepKindName(StepKind kind) {
  const auto& steps = Families().steps;
  auto it = steps.find(kind);
  return it == steps.end() ? "?" : it->second.shape.name;
}

namespace shape {

const std::vector<StepShape>& AllSteps() {
  static const std::vector<StepShape> all = [] {
    std::vector<StepShape> out;
    for (const auto& entry : Families().steps) out.push_back(entry.second.shape);
    return out;
  }();
  return all;
}

}  // namespace shape
}  // namespace wpsim::conformance
