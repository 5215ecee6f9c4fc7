// `wpsim --version`: the version and the details of this build.
#pragma once

#include <string>

namespace wpsim::app {

// "wpsim 0.1.0\ncommit ...\nbuild ...\nmbedTLS ...": what `wpsim --version` prints (CLI11
// adds the final newline).
std::string VersionText();

}  // namespace wpsim::app
