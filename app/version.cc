#include "app/version.h"

#include "app/build_info.h"  // generated: WPSIM_GIT_COMMIT
#include "sim/tls/tls.h"

namespace wpsim::app {

std::string VersionText() {
  std::string text = std::string("wpsim ") + WPSIM_VERSION + "\n";
  text += std::string("commit   ") + WPSIM_GIT_COMMIT + "\n";
  text += std::string("build    ") + WPSIM_BUILD_TYPE + ", " + WPSIM_COMPILER + ", C++" +
          std::to_string(__cplusplus / 100 % 100) + ", " + WPSIM_SYSTEM +
          (WPSIM_SANITIZED ? ", ASan+UBSan" : "") + "\n";
  text += "mbedTLS  " + std::string(sim::TlsLibraryVersion());
  return text;
}

}  // namespace wpsim::app
