// Traces of sensitive commands (command-logging-and-monitoring.md, "Security": authenticate,
// saslStart, saslContinue, createUser, updateUser, ..., hello with speculativeAuthenticate must
// not leak to external sources or logs). The frame observer gets a copy of such a request, and
// of its reply, whose string and binary values are zeroed: the trace still shows the commands,
// their field names and sizes, but no password, nonce, salt or proof.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace mongowire::detail::auth {

// True when `frame` is a request (OP_MSG or OP_QUERY) whose command is sensitive. A frame
// that does not parse is not sensitive (the observer sees it as it is).
bool is_sensitive_request(std::span<const std::uint8_t> frame);

// A copy of `frame` (OP_MSG, OP_QUERY or OP_REPLY) with every string and binary value of its
// documents zeroed, lengths kept, the OP_MSG checksum recomputed. A frame that does not
// parse is copied with nothing of it kept but its header.
std::vector<std::uint8_t> redacted_frame(std::span<const std::uint8_t> frame);

}  // namespace mongowire::detail::auth
