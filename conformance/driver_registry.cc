// The step families, one line each (conformance/driver.h), and what is derived from their
// registrations: the step kinds' names (StepKindName) and shapes (shape::AllSteps). A new step
// kind is its type in the family's header and one AddStep<T> line in the family's Register
// function; a new family adds its line here.
// The families' headers come with the scenario model (conformance/scenario.h includes them).
#include "base/result.h"
#include "conformance/driver.h"

namespace wpsim::conformance {

void FamilyRegistry::Add(shape::StepShape shape, Issue issue, Prepare prepare) {
  for (const StepEntry& entry : steps) WPSIM_ASSERT(entry.shape.name != shape.name);
  const bool added = index_.emplace(shape.kind, steps.size()).second;
  WPSIM_ASSERT(added);
  steps.push_back(StepEntry{std::move(shape), issue, prepare});
}

const FamilyRegistry::StepEntry* FamilyRegistry::Find(StepKind kind) const {
  auto it = index_.find(kind);
  return it == index_.end() ? nullptr : &steps[it->second];
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
  const FamilyRegistry::StepEntry* entry = Families().Find(kind);
  return entry == nullptr ? "?" : entry->shape.name;
}

namespace shape {

const std::vector<StepShape>& AllSteps() {
  static const std::vector<StepShape> all = [] {
    std::vector<StepShape> out;
    for (const auto& entry : Families().steps) out.push_back(entry.shape);
    return out;
  }();
  return all;
}

}  // namespace shape
}  // namespace wpsim::conformance
