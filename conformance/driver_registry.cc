// The step families, one line each (conformance/driver.h). A new step or expectation kind is
// registered by its family's Register function; a new family adds its line here.
#include "conformance/driver.h"
#include "conformance/steps/delivery_run.h"
#include "conformance/steps/mqtt_run.h"
#include "conformance/steps/network_run.h"
#include "conformance/steps/rest_run.h"
#include "conformance/steps/upstream_run.h"
#include "conformance/steps/websocket_run.h"

namespace wpsim::conformance {

const FamilyRegistry& Families() {
  static const FamilyRegistry registry = [] {
    FamilyRegistry r;
    RegisterWebSocketFamily(r);
    RegisterMqttFamily(r);
    RegisterRestFamily(r);
    RegisterNetworkFamily(r);  // before upstream: scheduled partitions, then the app server
    RegisterUpstreamFamily(r);
    RegisterDeliveryFamily(r);
    return r;
  }();
  return registry;
}

}  // namespace wpsim::conformance
