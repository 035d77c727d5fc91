#include "proto/wire/op_msg.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "proto/wire/crc32c.hpp"

namespace mongowire::detail::wire {
namespace {

constexpr std::size_t flag_bits_offset = header_size;
constexpr std::size_t first_section_offset = header_size + 4;
constexpr std::uint8_t kind_body = 0;
constexpr std::uint8_t kind_sequence = 1;

// Size of the already-validated section whose kind byte is at `p` (kind byte included).
std::size_t trusted_section_size(const std::uint8_t* p) noexcept { return 1 + load_u32le(p + 1); }

std::string hex32(std::uint32_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = "0x00000000";
  for (int i = 9; i >= 2; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 0xF];
  return s;
}

std::string bit_list(std::uint32_t bits) {
  std::string s;
  for (int b = 0; b < 32; ++b) {
    if ((bits & (1u << b)) == 0) continue;
    if (!s.empty()) s += ", ";
    s += std::to_string(b);
  }
  return s;
}

// ---- parse steps; each returns an empty error_code on success ----

// OP_MSG.md "flagBits": clients MUST error on unknown required bits (0-15), MUST ignore
// unknown optional ones (16-31).
error_code check_flags(std::uint32_t flags, decode_error* err) {
  std::uint32_t unknown = flags & msg_flag::required_bits & ~msg_flag::known_required_bits;
  if (unknown != 0)
    return fail(err, protocol_errc::unknown_required_flag, flag_bits_offset,
                "flagBits " + hex32(flags) + " sets unknown required bit(s) " + bit_list(unknown));
  return {};
}

error_code check_checksum(std::span<const std::uint8_t> frame, decode_error* err) {
  if (frame.size() < minimum_message_length(static_cast<std::int32_t>(opcode::msg)) + 4)
    return fail(err, protocol_errc::checksum_missing, frame.size(),
                "checksumPresent is set but the " + std::to_string(frame.size()) +
                    "-byte frame has no room for a section and a 4-byte checksum");
  std::size_t at = frame.size() - 4;
  std::uint32_t stored = load_u32le(frame.data() + at);
  std::uint32_t computed = crc32c(frame.first(at));
  if (stored != computed)
    return fail(err, protocol_errc::checksum_mismatch, at,
                "stored CRC-32C " + hex32(stored) + " differs from computed " + hex32(computed));
  return {};
}

// A kind-0 section at frame[pos] (kind byte), sections ending at `end`.
error_code parse_body_section(std::span<const std::uint8_t> frame, std::size_t pos, std::size_t end,
                              std::optional<bson::view>& body, decode_error* err) {
  std::size_t doc_at = pos + 1;
  if (end - doc_at < 4)
    return fail(err, protocol_errc::section_overrun, doc_at, "kind-0 section has no room for a document length");
  std::uint32_t declared = load_u32le(frame.data() + doc_at);
  if (declared > end - doc_at)
    return fail(err, protocol_errc::section_overrun, doc_at,
                "kind-0 document length " + std::to_string(declared) + " runs past the sections end at byte " +
                    std::to_string(end));
  std::string why;
  auto doc = bson::view::validate(frame.subspan(doc_at, declared), err ? &why : nullptr);
  if (!doc) return fail(err, protocol_errc::invalid_bson, doc_at, "kind-0 document: " + why);
  if (body) return fail(err, protocol_errc::duplicate_body_section, pos, "a second kind-0 section");
  body = *doc;
  return {};
}

// A kind-1 section at frame[pos]: int32 size, cstring identifier, documents*.
error_code parse_sequence_section(std::span<const std::uint8_t> frame, std::size_t pos, std::size_t end,
                                  decode_error* err) {
  std::size_t size_at = pos + 1;
  if (end - size_at < 4)
    return fail(err, protocol_errc::section_overrun, size_at, "kind-1 section has no room for its size");
  std::uint32_t size = load_u32le(frame.data() + size_at);
  if (size < 4 || size > end - size_at)
    return fail(err, protocol_errc::section_overrun, size_at,
                "kind-1 size " + std::to_string(static_cast<std::int32_t>(size)) + " does not fit between byte " +
                    std::to_string(size_at) + " and the sections end at byte " + std::to_string(end));
  std::size_t seq_end = size_at + size;
  std::size_t id_at = size_at + 4;
  const void* nul = std::memchr(frame.data() + id_at, 0, seq_end - id_at);
  if (nul == nullptr)
    return fail(err, protocol_errc::truncated_cstring, id_at,
                "kind-1 identifier is not NUL-terminated within its section");
  std::size_t doc_at = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - frame.data()) + 1;
  while (doc_at < seq_end) {
    std::string why;
    auto doc = bson::view::validate(frame.subspan(doc_at, seq_end - doc_at), err ? &why : nullptr);
    if (!doc) return fail(err, protocol_errc::invalid_bson, doc_at, "document in kind-1 section: " + why);
    doc_at += doc->size();
  }
  return {};
}

}  // namespace

// ---------------------------------------------------------------- encoder

op_msg_encoder::op_msg_encoder(std::vector<std::uint8_t>& out, std::size_t max_message_size) noexcept : out_(out) {
  set_max_message_size(max_message_size);
}

void op_msg_encoder::set_max_message_size(std::size_t bytes) noexcept {
  max_message_size_ = bytes > static_cast<std::size_t>(INT32_MAX) ? static_cast<std::size_t>(INT32_MAX) : bytes;
}

error_code op_msg_encoder::record(error_code ec) noexcept {
  if (!error_) error_ = ec;
  return error_;
}

void op_msg_encoder::begin(std::int32_t request_id, std::int32_t response_to, std::uint32_t flags) {
  out_.clear();
  has_body_ = false;
  finished_ = false;
  error_ = {};
  append_header(out_, request_id, response_to, opcode::msg);
  append_u32le(out_, flags & ~msg_flag::checksum_present);
}

error_code op_msg_encoder::body(bson::view command) {
  if (error_) return error_;
  if (finished_ || out_.size() < first_section_offset) return record(client_errc::invalid_argument);
  if (has_body_) return record(client_errc::invalid_message);  // a second body: our bug, not the peer's
  out_.push_back(kind_body);
  append_bytes(out_, command.bytes());
  has_body_ = true;
  return {};
}

error_code op_msg_encoder::body_without(bson::view command, std::span<const std::string_view> omitted_keys) {
  if (error_) return error_;
  if (finished_ || out_.size() < first_section_offset) return record(client_errc::invalid_argument);
  if (has_body_) return record(client_errc::invalid_message);  // a second body: our bug, not the peer's
  out_.push_back(kind_body);
  std::size_t doc_start = out_.size();
  append_u32le(out_, 0);
  // Each element is copied as raw bytes: libbson's iterator exposes where the current
  // element starts (off) and where the next one does (next_off).
  for (bson::element e : command) {
    if (std::find(omitted_keys.begin(), omitted_keys.end(), e.key()) != omitted_keys.end()) continue;
    bson_iter_t it;  // an aligned copy: fields are read here (see bson::bson_storage)
    std::memcpy(&it, e.iter(), sizeof it);
    append_bytes(out_, {it.raw + it.off, it.next_off - it.off});
  }
  out_.push_back(0);
  store_u32le(out_.data() + doc_start, static_cast<std::uint32_t>(out_.size() - doc_start));
  has_body_ = true;
  return {};
}

bool op_msg_encoder::has_identifier(std::string_view identifier) const noexcept {
  for (std::size_t pos = first_section_offset; pos < out_.size(); pos += trusted_section_size(out_.data() + pos)) {
    if (out_[pos] != kind_sequence) continue;
    auto id = reinterpret_cast<const char*>(out_.data() + pos + 5);
    if (identifier == std::string_view(id)) return true;
  }
  return false;
}

error_code op_msg_encoder::begin_sequence(std::string_view identifier) {
  if (error_) return error_;
  if (finished_ || out_.size() < first_section_offset) return record(client_errc::invalid_argument);
  // OP_MSG.md "sections": each identifier MUST be unique per message; it is a cstring.
  if (identifier.empty() || identifier.find('\0') != std::string_view::npos || has_identifier(identifier))
    return record(client_errc::invalid_argument);
  out_.push_back(kind_sequence);
  sequence_start_ = out_.size();
  append_u32le(out_, 0);
  append_cstring(out_, identifier);
  return {};
}

void op_msg_encoder::end_sequence() noexcept {
  store_u32le(out_.data() + sequence_start_, static_cast<std::uint32_t>(out_.size() - sequence_start_));
}

error_code op_msg_encoder::add_sequence(std::string_view identifier, std::span<const bson::view> docs) {
  if (auto ec = begin_sequence(identifier)) return ec;
  for (const bson::view& d : docs) append_bytes(out_, d.bytes());
  end_sequence();
  return {};
}

error_code op_msg_encoder::add_sequence_from_array(std::string_view identifier, bson::view array) {
  if (auto ec = begin_sequence(identifier)) return ec;
  for (bson::element e : array) {
    auto doc = e.as_document();
    if (!doc) {
      // Leave no half-written section behind: the frame stays unusable via the sticky error.
      return record(client_errc::invalid_argument);
    }
    append_bytes(out_, doc->bytes());
  }
  end_sequence();
  return {};
}

error_code op_msg_encoder::finish(bool with_checksum) {
  if (error_) return error_;
  if (finished_ || out_.size() < first_section_offset) return record(client_errc::invalid_argument);
  if (!has_body_) return record(client_errc::invalid_message);  // OP_MSG.md: exactly one kind 0
  std::size_t total = out_.size() + (with_checksum ? 4 : 0);
  if (total > max_message_size_) return record(client_errc::message_too_large);
  if (with_checksum) {
    store_u32le(out_.data() + flag_bits_offset,
                load_u32le(out_.data() + flag_bits_offset) | msg_flag::checksum_present);
    out_.resize(total);  // the CRC covers messageLength, so patch it first
    patch_message_length(out_);
    store_u32le(out_.data() + total - 4, crc32c({out_.data(), total - 4}));
  } else {
    patch_message_length(out_);
  }
  finished_ = true;
  return {};
}

// ---------------------------------------------------------------- view

std::size_t document_sequence::size() const noexcept {
  std::size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

op_msg_view::sequence_iterator::sequence_iterator(const std::uint8_t* frame, std::size_t pos, std::size_t end) noexcept
    : frame_(frame), pos_(pos), end_(end) {
  skip_body_sections();
}

void op_msg_view::sequence_iterator::skip_body_sections() noexcept {
  while (pos_ < end_ && frame_[pos_] != kind_sequence) pos_ += trusted_section_size(frame_ + pos_);
}

document_sequence op_msg_view::sequence_iterator::operator*() const noexcept {
  const std::uint8_t* section = frame_ + pos_;
  std::size_t size = load_u32le(section + 1);
  auto id = reinterpret_cast<const char*>(section + 5);
  std::size_t id_len = std::strlen(id);  // NUL presence inside the section checked by parse
  const std::uint8_t* docs = section + 5 + id_len + 1;
  std::size_t docs_len = size - 4 - id_len - 1;
  return {std::string_view(id, id_len), {docs, docs_len}, pos_};
}

op_msg_view::sequence_iterator& op_msg_view::sequence_iterator::operator++() noexcept {
  pos_ += trusted_section_size(frame_ + pos_);
  skip_body_sections();
  return *this;
}

std::size_t op_msg_view::sections_end() const noexcept { return frame_.size() - (checksum_present() ? 4 : 0); }

op_msg_view::sequence_range op_msg_view::sequences() const noexcept {
  std::size_t end = sections_end();
  return {sequence_iterator(frame_.data(), first_section_offset, end), sequence_iterator(frame_.data(), end, end)};
}

std::optional<document_sequence> op_msg_view::find_sequence(std::string_view identifier) const noexcept {
  for (document_sequence s : sequences())
    if (s.identifier() == identifier) return s;
  return std::nullopt;
}

std::optional<std::uint32_t> op_msg_view::checksum() const noexcept {
  if (!checksum_present()) return std::nullopt;
  return load_u32le(frame_.data() + frame_.size() - 4);
}

error_code op_msg_view::parse(std::span<const std::uint8_t> frame, op_msg_view& out, decode_error* err,
                              std::size_t max_message_size) {
  msg_header h;
  if (auto ec = check_frame_header(frame, opcode::msg, max_message_size, h, err)) return ec;
  std::uint32_t flags = load_u32le(frame.data() + flag_bits_offset);
  if (auto ec = check_flags(flags, err)) return ec;
  std::size_t end = frame.size();
  if (flags & msg_flag::checksum_present) {
    if (auto ec = check_checksum(frame, err)) return ec;
    end -= 4;
  }
  std::optional<bson::view> body;
  std::size_t sequences = 0;
  for (std::size_t pos = first_section_offset; pos < end;) {
    std::uint8_t kind = frame[pos];
    if (kind == kind_body) {
      if (auto ec = parse_body_section(frame, pos, end, body, err)) return ec;
    } else if (kind == kind_sequence) {
      if (auto ec = parse_sequence_section(frame, pos, end, err)) return ec;
      ++sequences;
    } else {
      // OP_MSG.md: "Any unknown Payload Types MUST result in an error".
      return fail(err, protocol_errc::bad_section_kind, pos,
                  "section kind " + std::to_string(kind) + " is neither 0 (body) nor 1 (document sequence)");
    }
    pos += 1 + load_u32le(frame.data() + pos + 1);
  }
  if (!body) return fail(err, protocol_errc::missing_body_section, first_section_offset, "no kind-0 (body) section");
  out.frame_ = frame;
  out.header_ = h;
  out.flag_bits_ = flags;
  out.body_ = *body;
  out.sequence_count_ = sequences;
  return {};
}

}  // namespace mongowire::detail::wire
