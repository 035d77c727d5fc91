// What mongowire-cli --trace and --pcap record: every frame a client sends and receives,
// printed annotated (header, flags, sections, each session and transaction field with its
// spec section) and/or written to a pcap file that Wireshark's MongoDB dissector decodes.
// Frames are recorded as the connection saw them: nothing is added or removed (SASL
// payloads are already hidden by the connection while it authenticates).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mongowire/events.hpp"
#include "proto/wire/pcap.hpp"

namespace mongowire::tools {

class frame_capture {
 public:
  // `trace`: where annotated frames go (null: none). `pcap_path`: empty for no pcap file;
  // throws std::runtime_error naming the file when it cannot be created.
  frame_capture(std::FILE* trace, const std::string& pcap_path);
  ~frame_capture();
  frame_capture(const frame_capture&) = delete;
  frame_capture& operator=(const frame_capture&) = delete;

  // For client_options::on_frame (the capture must outlive the client).
  frame_event_handler handler();
  void record(const frame_event& e);
  // The first error writing the pcap file (empty: none).
  const std::string& error() const noexcept { return error_; }

 private:
  void trace(const frame_event& e);
  void write_pcap(const frame_event& e);

  std::FILE* trace_;
  std::FILE* pcap_file_ = nullptr;
  std::string pcap_path_;
  std::vector<std::uint8_t> pcap_bytes_;
  std::optional<detail::wire::pcap_writer> pcap_;
  std::optional<std::chrono::steady_clock::time_point> first_frame_;
  std::string error_;
};

}  // namespace mongowire::tools
