// A TCP port nothing listens on right now, for tests that start servers on loopback.
#pragma once

#include <string>

namespace racksmith::testing {

/// A port the kernel picks on `address` (an IPv4 address in 127.0.0.0/8) and then frees.
int FreeLoopbackPort(const std::string& address = "127.0.0.1");

}  // namespace racksmith::testing
