// Internal: the scratch string every encoder of this module builds into before copying the
// finished message into one exactly-sized SharedBytes (one allocation per encoded message).
#pragma once

#include <string>

#include "base/shared_bytes.h"

namespace wpsim::protocol::webpubsub::internal {

// Cleared scratch buffer; capacity is kept between calls. thread_local so that tests or tools
// running encoders on several threads stay correct (wpsim itself is single-threaded).
inline std::string& ScratchBuffer() {
  thread_local std::string buffer;
  buffer.clear();
  return buffer;
}

inline SharedBytes ToShared(const std::string& text) { return SharedBytes::Copy(text); }

}  // namespace wpsim::protocol::webpubsub::internal
