// OP_MSG encoder and zero-copy parser (mongodb/specifications source/message/OP_MSG.md).
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "mongowire/bson.hpp"
#include "proto/wire/frame.hpp"

namespace mongowire::detail::wire {

// Builds one OP_MSG frame into a caller-owned vector. begin() clears the vector but keeps
// its capacity, so a reused vector stops allocating once it has held the largest frame.
// Errors are sticky: after the first failure every call returns it, finish() included, so
// a caller may check only finish().
class op_msg_encoder {
 public:
  explicit op_msg_encoder(std::vector<std::uint8_t>& out,
                          std::size_t max_message_size = default_max_message_size) noexcept;

  // maxMessageSizeBytes from the hello reply (clamped to INT32_MAX).
  void set_max_message_size(std::size_t bytes) noexcept;
  std::size_t max_message_size() const noexcept { return max_message_size_; }

  // Starts a frame: header + flagBits. checksum_present is decided by finish(), not here.
  void begin(std::int32_t request_id, std::int32_t response_to = 0, std::uint32_t flags = 0);
  // The kind-0 section (exactly one per message, OP_MSG.md "sections").
  error_code body(bson::view command);
  // The kind-0 section from `command` minus its top-level field `omitted_key` (copied byte
  // for byte, no allocation): pair it with add_sequence_from_array(omitted_key, ...).
  error_code body_without(bson::view command, std::string_view omitted_key) {
    return body_without(command, std::span(&omitted_key, 1));
  }
  // The same without each of `omitted_keys` (bulkWrite sends ops and nsInfo as two sequences).
  error_code body_without(bson::view command, std::span<const std::string_view> omitted_keys);
  // A kind-1 section. Identifiers must be unique per message and contain no NUL.
  error_code add_sequence(std::string_view identifier, std::span<const bson::view> docs);
  // A kind-1 section holding each element of the BSON array `array` (every element must be
  // a document), copied straight from the array's bytes: "Command Arguments As Payload".
  error_code add_sequence_from_array(std::string_view identifier, bson::view array);
  // Fills messageLength and, when asked, sets checksumPresent and appends the CRC-32C.
  // client_errc::message_too_large when the frame exceeds max_message_size();
  // client_errc::invalid_message when body() was never called (or called twice).
  error_code finish(bool with_checksum = false);

  // The finished frame (valid until the next begin() or any change to the vector).
  std::span<const std::uint8_t> frame() const noexcept { return {out_.data(), out_.size()}; }
  error_code error() const noexcept { return error_; }

 private:
  error_code record(error_code ec) noexcept;
  bool has_identifier(std::string_view identifier) const noexcept;
  error_code begin_sequence(std::string_view identifier);
  void end_sequence() noexcept;

  std::vector<std::uint8_t>& out_;
  std::size_t max_message_size_;
  std::size_t sequence_start_ = 0;
  bool has_body_ = false;
  bool finished_ = false;
  error_code error_;
};

// Documents of one kind-1 section, already validated by op_msg_view::parse.
class document_sequence {
 public:
  class iterator {
   public:
    using value_type = bson::view;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const std::uint8_t* p) noexcept : p_(p) {}
    bson::view operator*() const noexcept { return {p_, load_u32le(p_)}; }
    iterator& operator++() noexcept {
      p_ += load_u32le(p_);
      return *this;
    }
    iterator operator++(int) noexcept {
      auto copy = *this;
      ++*this;
      return copy;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.p_ == b.p_; }

   private:
    const std::uint8_t* p_ = nullptr;
  };

  document_sequence() = default;
  document_sequence(std::string_view identifier, std::span<const std::uint8_t> documents, std::size_t offset) noexcept
      : identifier_(identifier), documents_(documents), offset_(offset) {}

  std::string_view identifier() const noexcept { return identifier_; }
  // The concatenated documents (no separators).
  std::span<const std::uint8_t> document_bytes() const noexcept { return documents_; }
  // Byte offset of the section's kind byte inside the frame.
  std::size_t offset() const noexcept { return offset_; }
  iterator begin() const noexcept { return iterator(documents_.data()); }
  iterator end() const noexcept { return iterator(documents_.data() + documents_.size()); }
  std::size_t size() const noexcept;  // number of documents (walks them)
  bool empty() const noexcept { return documents_.empty(); }

 private:
  std::string_view identifier_;
  std::span<const std::uint8_t> documents_;
  std::size_t offset_ = 0;
};

// A parsed OP_MSG frame. Non-owning: it points into the frame, which must outlive it.
class op_msg_view {
 public:
  // Iterates the kind-1 sections in wire order.
  class sequence_iterator {
   public:
    using value_type = document_sequence;
    using difference_type = std::ptrdiff_t;
    sequence_iterator() = default;
    sequence_iterator(const std::uint8_t* frame, std::size_t pos, std::size_t end) noexcept;
    document_sequence operator*() const noexcept;
    sequence_iterator& operator++() noexcept;
    sequence_iterator operator++(int) noexcept {
      auto copy = *this;
      ++*this;
      return copy;
    }
    friend bool operator==(const sequence_iterator& a, const sequence_iterator& b) noexcept { return a.pos_ == b.pos_; }

   private:
    void skip_body_sections() noexcept;
    const std::uint8_t* frame_ = nullptr;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
  };
  struct sequence_range {
    sequence_iterator first, last;
    sequence_iterator begin() const noexcept { return first; }
    sequence_iterator end() const noexcept { return last; }
  };

  // Checks every rule of OP_MSG.md on a complete frame (header included, exactly
  // messageLength bytes) and fills `out`. Allocates nothing unless it fails and `err` is
  // given. Verifies the CRC-32C when checksumPresent is set.
  static error_code parse(std::span<const std::uint8_t> frame, op_msg_view& out, decode_error* err = nullptr,
                          std::size_t max_message_size = default_max_message_size);

  const msg_header& header() const noexcept { return header_; }
  std::uint32_t flag_bits() const noexcept { return flag_bits_; }
  bool checksum_present() const noexcept { return (flag_bits_ & msg_flag::checksum_present) != 0; }
  bool more_to_come() const noexcept { return (flag_bits_ & msg_flag::more_to_come) != 0; }
  bool exhaust_allowed() const noexcept { return (flag_bits_ & msg_flag::exhaust_allowed) != 0; }
  // The stored (and verified) checksum, when present.
  std::optional<std::uint32_t> checksum() const noexcept;
  bson::view body() const noexcept { return body_; }
  sequence_range sequences() const noexcept;
  std::size_t sequence_count() const noexcept { return sequence_count_; }
  std::optional<document_sequence> find_sequence(std::string_view identifier) const noexcept;
  std::span<const std::uint8_t> frame() const noexcept { return frame_; }

 private:
  std::size_t sections_end() const noexcept;

  std::span<const std::uint8_t> frame_;
  msg_header header_;
  std::uint32_t flag_bits_ = 0;
  bson::view body_;
  std::size_t sequence_count_ = 0;
};

}  // namespace mongowire::detail::wire
