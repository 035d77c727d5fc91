#include "frame_capture.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "proto/wire/describe.hpp"

namespace mongowire::tools {

frame_capture::frame_capture(std::FILE* trace, const std::string& pcap_path) : trace_(trace), pcap_path_(pcap_path) {
  if (pcap_path.empty()) return;
  pcap_file_ = std::fopen(pcap_path.c_str(), "wb");
  if (!pcap_file_) throw std::runtime_error("cannot create pcap file " + pcap_path);
  pcap_.emplace(pcap_bytes_);
  if (std::fwrite(pcap_bytes_.data(), 1, pcap_bytes_.size(), pcap_file_) != pcap_bytes_.size()) {
    std::fclose(pcap_file_);  // the destructor does not run when the constructor throws
    throw std::runtime_error("cannot write pcap file " + pcap_path);
  }
  pcap_bytes_.clear();
}

frame_capture::~frame_capture() {
  if (pcap_file_) std::fclose(pcap_file_);
}

frame_event_handler frame_capture::handler() {
  return [this](const frame_event& e) { record(e); };
}

void frame_capture::record(const frame_event& e) {
  if (trace_) trace(e);
  if (pcap_) write_pcap(e);
}

void frame_capture::trace(const frame_event& e) {
  const auto now = std::chrono::steady_clock::now();
  if (!first_frame_) first_frame_ = now;
  const double seconds = std::chrono::duration<double>(now - *first_frame_).count();
  // The local port tells connections apart (pool and monitor connection ids are counted apart).
  fmt::print(trace_, "{} {}:{} {} {}:{} at +{:.6f} s\n", e.outgoing ? ">>> sent" : "<<< received", e.local_address,
             e.local_port, e.outgoing ? "->" : "<-", e.remote_address, e.remote_port, seconds);
  fmt::print(trace_, "{}\n", detail::wire::describe_frame(e.frame));
  std::fflush(trace_);
}

// Written (and flushed) frame by frame: a program that dies still leaves a readable file.
void frame_capture::write_pcap(const frame_event& e) {
  using namespace std::chrono;
  const auto client = detail::wire::pcap_endpoint::parse(e.local_address, e.local_port);
  const auto server = detail::wire::pcap_endpoint::parse(e.remote_address, e.remote_port);
  const auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  if (!client || !server || !pcap_->add_frame(*client, *server, e.outgoing, e.frame, us)) {
    if (error_.empty())
      error_ = fmt::format("pcap {}: connection {} has no usable IP endpoints ({} / {})", pcap_path_, e.connection_id,
                           e.local_address, e.remote_address);
    return;
  }
  if (std::fwrite(pcap_bytes_.data(), 1, pcap_bytes_.size(), pcap_file_) != pcap_bytes_.size() && error_.empty())
    error_ = "cannot write pcap file " + pcap_path_;
  std::fflush(pcap_file_);
  pcap_bytes_.clear();
}

}  // namespace mongowire::tools
