// Human-readable annotated dump of one wire frame, for protocol students and debugging.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "proto/wire/frame.hpp"

namespace mongowire::detail::wire {

// Multi-line description: header fields, opcode name, flag names, each section (kind,
// offset, size, identifier), each document as canonical extended JSON, and the checksum.
// Never reads past `frame`; a malformed frame is described up to its header, followed by
// the decoding error.
std::string describe_frame(std::span<const std::uint8_t> frame,
                           std::size_t max_message_size = default_max_message_size);

}  // namespace mongowire::detail::wire
