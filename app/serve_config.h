// `wpsim serve --config FILE`: hub settings and event handlers from YAML (format in
// docs/cli.md "wpsim serve --config"). Kept in app/ so service/ does not depend on yaml-cpp.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "service/options.h"

namespace wpsim::app {

// Reads `text` (the file's contents; `file` names it in errors) into options.hubs,
// options.upstream and options.limits. Errors say file:line:column and what was expected.
Status ApplyServeConfig(std::string_view text, std::string_view file,
                        service::ServiceOptions& options);
Status LoadServeConfig(const std::string& path, service::ServiceOptions& options);

}  // namespace wpsim::app
