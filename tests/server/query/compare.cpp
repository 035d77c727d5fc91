// BSON value order (mongod's BSONElement::compareElements and woCompare), plus the small
// shared helpers: errors, short value rendering, truthiness, path splitting.
#include "query/detail.hpp"

#include <mongowire/error.hpp>

#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace mongowire::testd::query {
namespace detail {

namespace {
std::string_view local_code_name(std::int32_t code) {
  switch (code) {
    case 2: return "BadValue";
    case 9: return "FailedToParse";
    case 14: return "TypeMismatch";
    case 15: return "Overflow";
    case 28: return "PathNotViable";
    case 40: return "ConflictingUpdateOperators";
    case 52: return "DollarPrefixedFieldName";
    case 56: return "EmptyFieldName";
    case 66: return "ImmutableField";
    case 168: return "InvalidPipelineOperator";
    default: return {};
  }
}
}  // namespace

query_error make_error(std::int32_t code, std::string message) {
  std::string name(local_code_name(code));
  if (name.empty()) name = std::string(server_code_name(code));
  // mongod names codes raised by uassert(<number>, ...) "Location<number>".
  if (name.empty()) name = fmt::format("Location{}", code);
  return {code, std::move(name), std::move(message)};
}

int canonical_type(bson_type_t t) {
  switch (t) {
    case BSON_TYPE_MINKEY: return -1;
    case BSON_TYPE_EOD:
    case BSON_TYPE_UNDEFINED: return 0;
    case BSON_TYPE_NULL: return 5;
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DECIMAL128: return 10;
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: return 15;
    case BSON_TYPE_DOCUMENT: return 20;
    case BSON_TYPE_ARRAY: return 25;
    case BSON_TYPE_BINARY: return 30;
    case BSON_TYPE_OID: return 35;
    case BSON_TYPE_BOOL: return 40;
    case BSON_TYPE_DATE_TIME: return 45;
    case BSON_TYPE_TIMESTAMP: return 47;
    case BSON_TYPE_REGEX: return 50;
    case BSON_TYPE_DBPOINTER: return 55;
    case BSON_TYPE_CODE: return 60;
    case BSON_TYPE_CODEWSCOPE: return 65;
    case BSON_TYPE_MAXKEY: return 127;
    default: return 0;
  }
}

bool is_nan(const bson::element& e) {
  if (e.type() == BSON_TYPE_DOUBLE) return std::isnan(*e.as_double());
  if (e.type() == BSON_TYPE_DECIMAL128) {
    bson_decimal128_t d;
    bson_iter_decimal128(e.iter(), &d);
    char buf[BSON_DECIMAL128_STRING];
    bson_decimal128_to_string(&d, buf);
    return std::strcmp(buf, "NaN") == 0;
  }
  return false;
}

bool true_value(const bson::element& e) {
  switch (e.type()) {
    case BSON_TYPE_EOD:
    case BSON_TYPE_NULL:
    case BSON_TYPE_UNDEFINED: return false;
    case BSON_TYPE_BOOL: return *e.as_bool();
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE: return *e.as_number() != 0.0;
    default: return true;
  }
}

std::vector<std::string> split_path(std::string_view dotted) {
  std::vector<std::string> parts;
  for (;;) {
    auto dot = dotted.find('.');
    parts.emplace_back(dotted.substr(0, dot));
    if (dot == std::string_view::npos) return parts;
    dotted.remove_prefix(dot + 1);
  }
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

namespace {

std::string_view string_value(const bson::element& e) {
  std::uint32_t len = 0;
  const char* s = e.type() == BSON_TYPE_SYMBOL ? bson_iter_symbol(e.iter(), &len) : bson_iter_utf8(e.iter(), &len);
  return {s, len};
}

std::string decimal_string(const bson::element& e) {
  bson_decimal128_t d;
  bson_iter_decimal128(e.iter(), &d);
  char buf[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&d, buf);
  return buf;
}

// Decimal128 is compared through double: exact for the values tests use, approximate
// beyond 15 significant digits (mongod compares decimals exactly).
double decimal_as_double(const bson::element& e) {
  std::string s = decimal_string(e);
  if (s == "NaN" || s == "-NaN") return std::nan("");
  if (s == "Infinity") return INFINITY;
  if (s == "-Infinity") return -INFINITY;
  return std::strtod(s.c_str(), nullptr);
}

template <class T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// NaN sorts before every other number and equals itself (mongod's compareDoubles).
int compare_doubles(double a, double b) {
  if (std::isnan(a)) return std::isnan(b) ? 0 : -1;
  if (std::isnan(b)) return 1;
  return three_way(a, b);
}

// Exact int64 against double (mongod's compareLongToDouble).
int compare_long_double(std::int64_t l, double d) {
  if (std::isnan(d)) return 1;
  if (l <= (1LL << 53) && l >= -(1LL << 53)) return compare_doubles(static_cast<double>(l), d);
  if (d >= 9223372036854775808.0) return -1;
  if (d < -9223372036854775808.0) return 1;
  return three_way(l, static_cast<std::int64_t>(d));
}

int compare_numbers(const bson::element& a, const bson::element& b) {
  auto ta = a.type(), tb = b.type();
  if (ta == BSON_TYPE_DECIMAL128 || tb == BSON_TYPE_DECIMAL128) {
    double x = ta == BSON_TYPE_DECIMAL128 ? decimal_as_double(a) : *a.as_number();
    double y = tb == BSON_TYPE_DECIMAL128 ? decimal_as_double(b) : *b.as_number();
    return compare_doubles(x, y);
  }
  if (ta == BSON_TYPE_DOUBLE && tb == BSON_TYPE_DOUBLE) return compare_doubles(*a.as_double(), *b.as_double());
  if (ta == BSON_TYPE_DOUBLE) return -compare_long_double(*b.as_int64(), *a.as_double());
  if (tb == BSON_TYPE_DOUBLE) return compare_long_double(*a.as_int64(), *b.as_double());
  return three_way(*a.as_int64(), *b.as_int64());
}

int compare_bytes(std::string_view a, std::string_view b) {
  auto n = std::min(a.size(), b.size());
  int c = n ? std::memcmp(a.data(), b.data(), n) : 0;
  if (c != 0) return c < 0 ? -1 : 1;
  return three_way(a.size(), b.size());
}

int compare_documents(bson::view a, bson::view b);

int compare_same_canonical(const bson::element& a, const bson::element& b) {
  switch (a.type()) {
    case BSON_TYPE_MINKEY:
    case BSON_TYPE_MAXKEY:
    case BSON_TYPE_EOD:
    case BSON_TYPE_UNDEFINED:
    case BSON_TYPE_NULL: return 0;
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DECIMAL128: return compare_numbers(a, b);
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: return compare_bytes(string_value(a), string_value(b));
    case BSON_TYPE_DOCUMENT: return compare_documents(*a.as_document(), *b.as_document());
    case BSON_TYPE_ARRAY: return compare_documents(*a.as_array(), *b.as_array());
    case BSON_TYPE_BINARY: {
      // Length first, then subtype, then bytes (mongod's BinData order).
      auto x = *a.as_binary(), y = *b.as_binary();
      if (x.bytes.size() != y.bytes.size()) return three_way(x.bytes.size(), y.bytes.size());
      if (x.subtype != y.subtype) return three_way(static_cast<int>(x.subtype), static_cast<int>(y.subtype));
      return compare_bytes({reinterpret_cast<const char*>(x.bytes.data()), x.bytes.size()},
                           {reinterpret_cast<const char*>(y.bytes.data()), y.bytes.size()});
    }
    case BSON_TYPE_OID: return three_way(*a.as_oid(), *b.as_oid());
    case BSON_TYPE_BOOL: return three_way(*a.as_bool(), *b.as_bool());
    case BSON_TYPE_DATE_TIME: return three_way(bson_iter_date_time(a.iter()), bson_iter_date_time(b.iter()));
    case BSON_TYPE_TIMESTAMP: return three_way(*a.as_timestamp(), *b.as_timestamp());
    case BSON_TYPE_REGEX: {
      const char *fa = nullptr, *fb = nullptr;
      const char* pa = bson_iter_regex(a.iter(), &fa);
      const char* pb = bson_iter_regex(b.iter(), &fb);
      if (int c = compare_bytes(pa, pb)) return c;
      return compare_bytes(fa, fb);
    }
    case BSON_TYPE_DBPOINTER: {
      std::uint32_t la = 0, lb = 0;
      const char *na = nullptr, *nb = nullptr;
      const bson_oid_t *oa = nullptr, *ob = nullptr;
      bson_iter_dbpointer(a.iter(), &la, &na, &oa);
      bson_iter_dbpointer(b.iter(), &lb, &nb, &ob);
      if (la != lb) return three_way(la, lb);
      if (int c = compare_bytes({na, la}, {nb, lb})) return c;
      return three_way(std::memcmp(oa->bytes, ob->bytes, 12), 0);
    }
    case BSON_TYPE_CODE: {
      std::uint32_t la = 0, lb = 0;
      const char* ca = bson_iter_code(a.iter(), &la);
      const char* cb = bson_iter_code(b.iter(), &lb);
      return compare_bytes({ca, la}, {cb, lb});
    }
    case BSON_TYPE_CODEWSCOPE: {
      std::uint32_t la = 0, lb = 0, sa = 0, sb = 0;
      const std::uint8_t *da = nullptr, *db = nullptr;
      const char* ca = bson_iter_codewscope(a.iter(), &la, &sa, &da);
      const char* cb = bson_iter_codewscope(b.iter(), &lb, &sb, &db);
      if (int c = compare_bytes({ca, la}, {cb, lb})) return c;
      return compare_documents(bson::view(da, sa), bson::view(db, sb));
    }
    default: return 0;
  }
}

// Field by field: canonical type, then field name, then value; a prefix sorts first
// (mongod's BSONObj::woCompare with field names considered).
int compare_documents(bson::view a, bson::view b) {
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
    bson::element x = *ia, y = *ib;
    if (int c = three_way(canonical_type(x.type()), canonical_type(y.type()))) return c;
    if (int c = compare_bytes(x.key(), y.key())) return c;
    if (int c = compare_same_canonical(x, y)) return c;
  }
  if (ia == a.end() && ib == b.end()) return 0;
  return ia == a.end() ? -1 : 1;
}

std::string format_double(double d) {
  if (std::isnan(d)) return "nan.0";
  if (std::isinf(d)) return d > 0 ? "inf.0" : "-inf.0";
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

void render(const bson::element& e, std::string& out);

void render_fields(bson::view v, bool array, std::string& out) {
  out += array ? '[' : '{';
  bool first = true;
  for (auto el : v) {
    if (!first) out += ", ";
    first = false;
    if (!array) {
      out += el.key();
      out += ": ";
    }
    render(el, out);
  }
  out += array ? ']' : '}';
}

void render(const bson::element& e, std::string& out) {
  switch (e.type()) {
    case BSON_TYPE_DOUBLE: out += format_double(*e.as_double()); break;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64: out += std::to_string(*e.as_int64()); break;
    case BSON_TYPE_DECIMAL128: out += "NumberDecimal(\"" + decimal_string(e) + "\")"; break;
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: out += '"' + std::string(string_value(e)) + '"'; break;
    case BSON_TYPE_DOCUMENT: render_fields(*e.as_document(), false, out); break;
    case BSON_TYPE_ARRAY: render_fields(*e.as_array(), true, out); break;
    case BSON_TYPE_OID: out += "ObjectId('" + e.as_oid()->to_hex() + "')"; break;
    case BSON_TYPE_BOOL: out += *e.as_bool() ? "true" : "false"; break;
    case BSON_TYPE_DATE_TIME: out += fmt::format("new Date({})", bson_iter_date_time(e.iter())); break;
    case BSON_TYPE_NULL: out += "null"; break;
    case BSON_TYPE_UNDEFINED: out += "undefined"; break;
    case BSON_TYPE_MINKEY: out += "MinKey"; break;
    case BSON_TYPE_MAXKEY: out += "MaxKey"; break;
    case BSON_TYPE_TIMESTAMP: {
      auto ts = *e.as_timestamp();
      out += fmt::format("Timestamp({}, {})", ts.t, ts.i);
      break;
    }
    case BSON_TYPE_REGEX: {
      const char* flags = nullptr;
      const char* pattern = bson_iter_regex(e.iter(), &flags);
      out += fmt::format("/{}/{}", pattern, flags);
      break;
    }
    case BSON_TYPE_BINARY: {
      auto b = *e.as_binary();
      out += fmt::format("BinData({}, ", static_cast<int>(b.subtype));
      for (auto byte : b.bytes) out += fmt::format("{:02X}", byte);
      out += ')';
      break;
    }
    default: out += bson::type_name(e.type()); break;
  }
}

}  // namespace

std::string to_short_string(const bson::element& e) {
  std::string s;
  render(e, s);
  return s;
}

std::string to_short_string(bson::view doc) {
  std::string s;
  render_fields(doc, false, s);
  return s;
}

int compare_nodes(const node& a, const node& b) {
  auto wa = a.wrap(), wb = b.wrap();
  return compare_values(wa.find("v"), wb.find("v"));
}

}  // namespace detail

int compare_values(const bson::element& a, const bson::element& b) {
  int ca = detail::canonical_type(a.type()), cb = detail::canonical_type(b.type());
  if (ca != cb) return ca < cb ? -1 : 1;
  return detail::compare_same_canonical(a, b);
}

}  // namespace mongowire::testd::query
