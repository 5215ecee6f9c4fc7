// The step families, one line each (conformance/driver.h). A new step or expectation kind is
// registered by its family's Register function; a new family adds its line here. The families'
// headers come with the scenario model (conformance/scenario.h includes them).
#include "conformance/driver.h"

namespace wpsim::conformance {

const FamilyRegistry& Families() {
  static const FamilyRegistry registry = [] {
    FamilyRegistry r;
    RegisterWebSocketFamily(r);
    RegisterJsonFamily(r);
    RegisterReliableFamily(r);
    RegisterMqttFamily(r);
    RegisterRestFamily(r);
    RegisterNetworkFamily(r);  // before upstream: scheduled partitions, then the app server
    RegisterUpstreamFamily(r);
    RegisterDeliveryFamily(r);
    RegisterWireFamily(r);
    return r;
  }();
  return registry;
}

}  // namespace wpsim::conformance
