// The $where JavaScript subset (see javascript.hpp): a tokenizer, a precedence-climbing
// parser into a small tree, and an evaluator with ECMAScript's rules for the values it
// knows (ToBoolean, ToNumber, ==, ===, relational comparison, + on strings).
#include "query/javascript.hpp"

#include "query/detail.hpp"

#include <fmt/format.h>
#include <mongowire/error.hpp>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace mongowire::testd::query::detail {

namespace {

constexpr std::int32_t js_interpreter_failure = server_code::js_interpreter_failure;
constexpr std::string_view supported =
    "it evaluates literals, this/obj and their fields, sleep(ms), !, unary - and +, + - * / %, comparisons, && "
    "and ||, as an expression or return/expression statements";

query_error unsupported(std::string_view what, std::size_t offset) {
  return make_error(js_interpreter_failure,
                    fmt::format("mongowire-testd cannot evaluate this $where JavaScript: {} at offset {} ({})", what,
                                offset, supported));
}

// ---------------------------------------------------------------- tokens

enum class tok { end, number, string, identifier, punct };

struct token {
  tok kind = tok::end;
  std::string text;  // identifier, punctuator, or the string literal's value
  double number = 0;
  std::size_t offset = 0;
  bool newline_before = false;
};

using tokens_or_error = std::variant<std::vector<token>, query_error>;

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool is_ident_part(char c) { return is_ident_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

// Skips blanks and comments; records whether a line ended (automatic semicolon insertion).
std::optional<query_error> skip_blanks(std::string_view s, std::size_t& i, bool& newline) {
  while (i < s.size()) {
    if (s[i] == '\n' || s[i] == '\r') newline = true;
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    } else if (s.substr(i, 2) == "//") {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (s.substr(i, 2) == "/*") {
      auto close = s.find("*/", i + 2);
      if (close == std::string_view::npos) return unsupported("SyntaxError: unterminated comment", i);
      if (s.substr(i, close - i).find('\n') != std::string_view::npos) newline = true;
      i = close + 2;
    } else {
      break;
    }
  }
  return std::nullopt;
}

std::optional<query_error> read_string(std::string_view s, std::size_t& i, token& t) {
  const char quote = s[i++];
  for (; i < s.size() && s[i] != quote; ++i) {
    if (s[i] == '\n') break;
    if (s[i] != '\\') {
      t.text += s[i];
      continue;
    }
    if (++i == s.size()) break;
    switch (s[i]) {
      case 'n': t.text += '\n'; break;
      case 't': t.text += '\t'; break;
      case 'r': t.text += '\r'; break;
      case '\\':
      case '\'':
      case '"': t.text += s[i]; break;
      default: return unsupported(fmt::format("the escape sequence \\{}", s[i]), i - 1);
    }
  }
  if (i >= s.size() || s[i] != quote) return unsupported("SyntaxError: unterminated string literal", t.offset);
  ++i;
  t.kind = tok::string;
  return std::nullopt;
}

std::optional<query_error> read_number(std::string_view s, std::size_t& i, token& t) {
  std::size_t j = i;
  while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' ||
                          ((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E'))))
    ++j;
  std::string text(s.substr(i, j - i));
  char* stop = nullptr;
  t.number = std::strtod(text.c_str(), &stop);
  // Decimal literals only: strtod would also take hex floats, "inf" and "nan".
  bool decimal = text.find_first_not_of("0123456789.eE+-") == std::string::npos;
  if (!decimal || stop != text.c_str() + text.size())
    return unsupported(fmt::format("the number literal '{}'", text), i);
  t.kind = tok::number;
  i = j;
  return std::nullopt;
}

std::optional<query_error> read_punctuator(std::string_view s, std::size_t& i, token& t) {
  static constexpr std::string_view punctuators[] = {"===", "!==", "==", "!=", "<=", ">=", "&&", "||", "(",
                                                     ")",   "{",   "}",  "[",  "]",  ".",  ",",  ";",  "!",
                                                     "<",   ">",   "+",  "-",  "*",  "/",  "%"};
  for (auto p : punctuators) {
    if (s.substr(i, p.size()) != p) continue;
    t.kind = tok::punct;
    t.text = std::string(p);
    i += p.size();
    return std::nullopt;
  }
  return unsupported(fmt::format("the character '{}'", s[i]), i);
}

tokens_or_error tokenize(std::string_view s) {
  std::vector<token> out;
  std::size_t i = 0;
  for (;;) {
    token t;
    if (auto err = skip_blanks(s, i, t.newline_before)) return *err;
    t.offset = i;
    if (i == s.size()) break;
    std::optional<query_error> err;
    if (s[i] == '"' || s[i] == '\'') {
      err = read_string(s, i, t);
    } else if (std::isdigit(static_cast<unsigned char>(s[i])) ||
               (s[i] == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      err = read_number(s, i, t);
    } else if (is_ident_start(s[i])) {
      while (i < s.size() && is_ident_part(s[i])) t.text += s[i++];
      t.kind = tok::identifier;
    } else {
      err = read_punctuator(s, i, t);
    }
    if (err) return *err;
    out.push_back(std::move(t));
  }
  token eof;
  eof.offset = s.size();
  out.push_back(eof);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- tree

enum class js_op { literal, this_doc, member, sleep, negate, to_number, logical_not, binary, logical_and, logical_or };

struct js_value {
  enum class type { undefined, null, boolean, number, string, document, opaque } t = type::undefined;
  bool b = false;
  double n = 0;
  std::string s;                  // string; for opaque: the JS class it would be (NumberLong, Array, ...)
  std::optional<bson::view> doc;  // document: valid while the matched document is
};

struct js_node {
  js_op op = js_op::literal;
  js_value literal;
  std::string name;  // member name, or the binary operator
  std::vector<js_node> kids;
  std::size_t offset = 0;
  std::string source;  // the text of this expression, for messages
};

struct js_statement {
  bool is_return = false;
  std::optional<js_node> expr;
};

struct js_function {
  std::vector<js_statement> body;
};

namespace {

using node_or_error = std::variant<js_node, query_error>;

class parser {
 public:
  parser(std::string_view src, std::vector<token> toks) : src_(src), toks_(std::move(toks)) {}

  std::optional<query_error> parse_program(js_function& f, bool wrap_in_return);

 private:
  const token& peek() const { return toks_[pos_]; }
  bool at(std::string_view p) const { return peek().kind == tok::punct && peek().text == p; }
  bool at_word(std::string_view w) const { return peek().kind == tok::identifier && peek().text == w; }
  std::optional<query_error> expect(std::string_view p) {
    if (!at(p)) return unsupported(fmt::format("SyntaxError: expected '{}'", p), peek().offset);
    ++pos_;
    return std::nullopt;
  }
  std::string text_from(std::size_t start) const {
    auto end = pos_ > 0 ? toks_[pos_ - 1].offset + token_length(toks_[pos_ - 1]) : start;
    return std::string(src_.substr(start, end > start ? end - start : 0));
  }
  std::size_t token_length(const token& t) const {
    if (t.kind == tok::punct || t.kind == tok::identifier) return t.text.size();
    // Literals: up to the next token (blanks trimmed by the caller's view).
    auto next = &t + 1;
    auto len = next->offset - t.offset;
    while (len > 0 && std::isspace(static_cast<unsigned char>(src_[t.offset + len - 1]))) --len;
    return len;
  }
  std::optional<query_error> parse_function(js_function& f);
  std::optional<query_error> parse_statements(js_function& f, std::string_view until);
  node_or_error parse_binary(int level);
  node_or_error parse_unary();
  node_or_error parse_postfix();
  node_or_error parse_primary();

  std::string_view src_;
  std::vector<token> toks_;
  std::size_t pos_ = 0;
};

std::optional<query_error> parser::parse_program(js_function& f, bool wrap_in_return) {
  if (at_word("function")) return parse_function(f);
  if (wrap_in_return) {
    auto e = parse_binary(0);
    if (auto* err = std::get_if<query_error>(&e)) return *err;
    f.body.push_back({true, std::get<js_node>(std::move(e))});
    if (at(";")) ++pos_;
    if (peek().kind != tok::end)
      return unsupported("SyntaxError: unexpected token after the expression", peek().offset);
    return std::nullopt;
  }
  return parse_statements(f, {});
}

std::optional<query_error> parser::parse_function(js_function& f) {
  ++pos_;  // function
  if (peek().kind == tok::identifier) ++pos_;
  if (auto err = expect("(")) return err;
  if (!at(")")) return unsupported("a function with parameters", peek().offset);
  ++pos_;
  if (auto err = expect("{")) return err;
  if (auto err = parse_statements(f, "}")) return err;
  if (auto err = expect("}")) return err;
  if (at(";")) ++pos_;
  if (peek().kind != tok::end) return unsupported("SyntaxError: unexpected token after the function", peek().offset);
  return std::nullopt;
}

// Statements up to `until` (a punctuator) or the end: `return [expr]`, `expr`, or empty.
std::optional<query_error> parser::parse_statements(js_function& f, std::string_view until) {
  auto done = [&] { return peek().kind == tok::end || (!until.empty() && at(until)); };
  while (!done()) {
    if (at(";")) {
      ++pos_;
      continue;
    }
    js_statement st;
    if (at_word("return")) {
      st.is_return = true;
      ++pos_;
    }
    // A return followed by a line break returns undefined (automatic semicolon insertion).
    if (!(st.is_return && (at(";") || done() || peek().newline_before))) {
      auto e = parse_binary(0);
      if (auto* err = std::get_if<query_error>(&e)) return *err;
      st.expr = std::get<js_node>(std::move(e));
    }
    f.body.push_back(std::move(st));
    if (at(";")) ++pos_;
    else if (!done() && !peek().newline_before)
      return unsupported("SyntaxError: missing ; before statement", peek().offset);
  }
  return std::nullopt;
}

// Binary operators by precedence, lowest first.
constexpr std::string_view levels[][4] = {
    {"||"}, {"&&"}, {"==", "!=", "===", "!=="}, {"<", "<=", ">", ">="}, {"+", "-"}, {"*", "/", "%"}};
constexpr int level_count = 6;

node_or_error parser::parse_binary(int level) {
  if (level == level_count) return parse_unary();
  const std::size_t start = peek().offset;
  auto lhs = parse_binary(level + 1);
  if (std::holds_alternative<query_error>(lhs)) return lhs;
  for (;;) {
    std::string_view op;
    for (auto candidate : levels[level])
      if (!candidate.empty() && at(candidate)) op = candidate;
    if (op.empty()) return lhs;
    const std::size_t at_op = peek().offset;
    ++pos_;
    auto rhs = parse_binary(level + 1);
    if (std::holds_alternative<query_error>(rhs)) return rhs;
    js_node n;
    n.op = op == "||" ? js_op::logical_or : op == "&&" ? js_op::logical_and : js_op::binary;
    n.name = std::string(op);
    n.offset = at_op;
    n.kids.push_back(std::get<js_node>(std::move(lhs)));
    n.kids.push_back(std::get<js_node>(std::move(rhs)));
    n.source = text_from(start);
    lhs = std::move(n);
  }
}

node_or_error parser::parse_unary() {
  if (!(at("!") || at("-") || at("+"))) return parse_postfix();
  const std::size_t start = peek().offset;
  const std::string op = peek().text;
  ++pos_;
  auto operand = parse_unary();
  if (std::holds_alternative<query_error>(operand)) return operand;
  js_node n;
  n.op = op == "!" ? js_op::logical_not : op == "-" ? js_op::negate : js_op::to_number;
  n.offset = start;
  n.kids.push_back(std::get<js_node>(std::move(operand)));
  n.source = text_from(start);
  return n;
}

node_or_error parser::parse_postfix() {
  const std::size_t start = peek().offset;
  auto base = parse_primary();
  while (!std::holds_alternative<query_error>(base) && (at(".") || at("["))) {
    js_node n;
    n.op = js_op::member;
    n.offset = peek().offset;
    if (at(".")) {
      ++pos_;
      if (peek().kind != tok::identifier) return unsupported("SyntaxError: missing name after . operator", n.offset);
      n.name = peek().text;
      ++pos_;
    } else {
      ++pos_;
      if (peek().kind != tok::string) return unsupported("a computed member other than a string literal", n.offset);
      n.name = peek().text;
      ++pos_;
      if (auto err = expect("]")) return *err;
    }
    n.kids.push_back(std::get<js_node>(std::move(base)));
    n.source = text_from(start);
    base = std::move(n);
  }
  return base;
}

node_or_error parser::parse_primary() {
  const token t = peek();
  js_node n;
  n.offset = t.offset;
  ++pos_;
  if (t.kind == tok::number || t.kind == tok::string) {
    n.literal.t = t.kind == tok::number ? js_value::type::number : js_value::type::string;
    n.literal.n = t.number;
    n.literal.s = t.text;
  } else if (t.kind == tok::punct && t.text == "(") {
    auto inner = parse_binary(0);
    if (std::holds_alternative<query_error>(inner)) return inner;
    if (auto err = expect(")")) return *err;
    return inner;
  } else if (t.kind != tok::identifier) {
    return unsupported(
        t.kind == tok::end ? "SyntaxError: unexpected end of script" : "SyntaxError: unexpected '" + t.text + "'",
        t.offset);
  } else if (t.text == "true" || t.text == "false") {
    n.literal.t = js_value::type::boolean;
    n.literal.b = t.text == "true";
  } else if (t.text == "null") {
    n.literal.t = js_value::type::null;
  } else if (t.text == "undefined") {
    n.literal.t = js_value::type::undefined;
  } else if (t.text == "this" || t.text == "obj") {
    n.op = js_op::this_doc;  // WhereMatchExpression binds the document to both
  } else if (t.text == "sleep") {
    n.op = js_op::sleep;
    if (auto err = expect("(")) return *err;
    if (!at(")")) {
      auto arg = parse_binary(0);
      if (std::holds_alternative<query_error>(arg)) return arg;
      n.kids.push_back(std::get<js_node>(std::move(arg)));
    }
    if (at(",")) return unsupported("sleep with more than one argument", peek().offset);
    if (auto err = expect(")")) return *err;
  } else {
    return unsupported(fmt::format("'{}'", t.text), t.offset);
  }
  n.source = text_from(t.offset);
  return n;
}

// ---------------------------------------------------------------- evaluation

struct evaluator {
  bson::view doc;
  javascript_effects& fx;
  std::optional<query_error> error;

  js_value fail(query_error e) {
    if (!error) error = std::move(e);
    return {};
  }
  js_value eval(const js_node& n);
  js_value member(const js_node& n);
  js_value sleep(const js_node& n);
  js_value binary(const js_node& n, const js_value& a, const js_value& b);
  std::optional<double> to_number(const js_value& v, const js_node& where);
  std::optional<bool> loose_equals(const js_value& a, const js_value& b, const js_node& where);
};

bool truthy(const js_value& v) {
  switch (v.t) {
    case js_value::type::undefined:
    case js_value::type::null: return false;
    case js_value::type::boolean: return v.b;
    case js_value::type::number: return v.n != 0 && !std::isnan(v.n);
    case js_value::type::string: return !v.s.empty();
    default: return true;  // objects
  }
}

bool is_object(const js_value& v) { return v.t == js_value::type::document || v.t == js_value::type::opaque; }

// The value mongod's BSON-to-JS conversion gives a field; types that become JS objects the
// subset cannot operate on (NumberLong, Array, Date, ...) are opaque: only their truthiness.
js_value from_bson(const bson::element& e) {
  js_value v;
  switch (e.type()) {
    case BSON_TYPE_EOD:
    case BSON_TYPE_UNDEFINED: break;
    case BSON_TYPE_NULL: v.t = js_value::type::null; break;
    case BSON_TYPE_BOOL:
      v.t = js_value::type::boolean;
      v.b = *e.as_bool();
      break;
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_INT32:
      v.t = js_value::type::number;
      v.n = *e.as_number();
      break;
    case BSON_TYPE_UTF8:
      v.t = js_value::type::string;
      v.s = std::string(*e.as_string());
      break;
    case BSON_TYPE_DOCUMENT:
      v.t = js_value::type::document;
      v.doc = e.as_document();
      break;
    default:
      v.t = js_value::type::opaque;
      v.s = std::string(bson::type_name(e.type()));
      break;
  }
  return v;
}

js_value evaluator::member(const js_node& n) {
  js_value base = eval(n.kids.front());
  if (error) return {};
  if (base.t == js_value::type::undefined || base.t == js_value::type::null) {
    const char* what = base.t == js_value::type::null ? "null" : "undefined";
    return fail(make_error(js_interpreter_failure, fmt::format("TypeError: {} is {}", n.kids.front().source, what)));
  }
  if (base.t != js_value::type::document)
    return fail(
        unsupported(fmt::format("the property '{}' of a value of another kind than a document", n.name), n.offset));
  return from_bson(base.doc->find(n.name));
}

// mongod's sleep(ms): a number of milliseconds (fractions dropped), then undefined.
js_value evaluator::sleep(const js_node& n) {
  if (n.kids.size() != 1)
    return fail(make_error(js_interpreter_failure, "sleep takes a single numeric argument -- sleep(milliseconds)"));
  js_value ms = eval(n.kids.front());
  if (error) return {};
  if (ms.t != js_value::type::number)
    return fail(make_error(js_interpreter_failure, "sleep takes a single numeric argument -- sleep(milliseconds)"));
  if (ms.n > 0) fx.sleep_ms += ms.n >= 1e12 ? std::int64_t{1'000'000'000'000} : static_cast<std::int64_t>(ms.n);
  return {};
}

// ECMAScript ToNumber for primitives (StringToNumber: decimal literals, blanks trimmed).
std::optional<double> evaluator::to_number(const js_value& v, const js_node& where) {
  switch (v.t) {
    case js_value::type::undefined: return std::numeric_limits<double>::quiet_NaN();
    case js_value::type::null: return 0.0;
    case js_value::type::boolean: return v.b ? 1.0 : 0.0;
    case js_value::type::number: return v.n;
    case js_value::type::string: {
      auto first = v.s.find_first_not_of(" \t\n\r\f\v");
      if (first == std::string::npos) return 0.0;
      std::string trimmed = v.s.substr(first, v.s.find_last_not_of(" \t\n\r\f\v") - first + 1);
      if (trimmed == "Infinity" || trimmed == "+Infinity") return std::numeric_limits<double>::infinity();
      if (trimmed == "-Infinity") return -std::numeric_limits<double>::infinity();
      char* stop = nullptr;
      double d = std::strtod(trimmed.c_str(), &stop);
      bool decimal = trimmed.find_first_not_of("0123456789.eE+-") == std::string::npos;
      if (!decimal || stop != trimmed.c_str() + trimmed.size()) return std::numeric_limits<double>::quiet_NaN();
      return d;
    }
    default:
      fail(unsupported(fmt::format("the conversion of an object ({}) to a number", where.source), where.offset));
      return std::nullopt;
  }
}

// Abstract equality (==) for the values the subset knows; objects only against null/undefined.
std::optional<bool> evaluator::loose_equals(const js_value& a, const js_value& b, const js_node& where) {
  using t = js_value::type;
  auto nullish = [](const js_value& v) { return v.t == t::undefined || v.t == t::null; };
  if (nullish(a) || nullish(b)) return nullish(a) && nullish(b);
  if (is_object(a) || is_object(b)) {
    fail(unsupported(fmt::format("the comparison of an object ({})", where.source), where.offset));
    return std::nullopt;
  }
  if (a.t == b.t) return a.t == t::string ? a.s == b.s : a.t == t::boolean ? a.b == b.b : a.n == b.n;
  auto x = to_number(a, where), y = to_number(b, where);
  if (!x || !y) return std::nullopt;
  return *x == *y;
}

// UTF-16 code unit order, as JS compares strings (UTF-8 byte order differs only above U+FFFF).
std::u16string utf16(std::string_view s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
    for (int k = 1; k <= extra && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += 1 + extra;
    if (cp >= 0x10000) {
      out += static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
      out += static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

js_value boolean(bool b) {
  js_value v;
  v.t = js_value::type::boolean;
  v.b = b;
  return v;
}

js_value number(double d) {
  js_value v;
  v.t = js_value::type::number;
  v.n = d;
  return v;
}

js_value evaluator::binary(const js_node& n, const js_value& a, const js_value& b) {
  const std::string& op = n.name;
  if (op == "===" || op == "!==") {
    if (is_object(a) && is_object(b)) return fail(unsupported("the identity of two objects", n.offset));
    bool same = a.t == b.t && (a.t == js_value::type::string    ? a.s == b.s
                               : a.t == js_value::type::boolean ? a.b == b.b
                               : a.t == js_value::type::number  ? a.n == b.n
                                                                : !is_object(a));
    return boolean(op == "===" ? same : !same);
  }
  if (op == "==" || op == "!=") {
    auto eq = loose_equals(a, b, n);
    return eq ? boolean(op == "==" ? *eq : !*eq) : js_value{};
  }
  if (op == "+" && (a.t == js_value::type::string || b.t == js_value::type::string)) {
    if (a.t == js_value::type::number || b.t == js_value::type::number || is_object(a) || is_object(b))
      return fail(unsupported("+ of a string with a number or an object", n.offset));
    auto str = [](const js_value& v) {
      return v.t == js_value::type::string    ? v.s
             : v.t == js_value::type::boolean ? std::string(v.b ? "true" : "false")
             : v.t == js_value::type::null    ? std::string("null")
                                              : std::string("undefined");
    };
    js_value s;
    s.t = js_value::type::string;
    s.s = str(a) + str(b);
    return s;
  }
  if (a.t == js_value::type::string && b.t == js_value::type::string && op.size() <= 2 &&
      (op[0] == '<' || op[0] == '>')) {
    auto x = utf16(a.s), y = utf16(b.s);
    return boolean(op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y);
  }
  auto x = to_number(a, n.kids[0]), y = to_number(b, n.kids[1]);
  if (!x || !y) return {};
  if (op == "<") return boolean(*x < *y);
  if (op == "<=") return boolean(*x <= *y);
  if (op == ">") return boolean(*x > *y);
  if (op == ">=") return boolean(*x >= *y);
  if (op == "+") return number(*x + *y);
  if (op == "-") return number(*x - *y);
  if (op == "*") return number(*x * *y);
  if (op == "/") return number(*x / *y);
  return number(std::fmod(*x, *y));
}

js_value evaluator::eval(const js_node& n) {
  if (error) return {};
  switch (n.op) {
    case js_op::literal: return n.literal;
    case js_op::this_doc: {
      js_value v;
      v.t = js_value::type::document;
      v.doc = doc;
      return v;
    }
    case js_op::member: return member(n);
    case js_op::sleep: return sleep(n);
    case js_op::logical_not: return boolean(!truthy(eval(n.kids[0])));
    case js_op::negate:
    case js_op::to_number: {
      auto x = to_number(eval(n.kids[0]), n.kids[0]);
      return x ? number(n.op == js_op::negate ? -*x : *x) : js_value{};
    }
    case js_op::logical_and:
    case js_op::logical_or: {
      js_value a = eval(n.kids[0]);
      // Short-circuit: the result is an operand, not a boolean.
      if (error || truthy(a) == (n.op == js_op::logical_or)) return a;
      return eval(n.kids[1]);
    }
    case js_op::binary: {
      js_value a = eval(n.kids[0]);
      js_value b = eval(n.kids[1]);
      return error ? js_value{} : binary(n, a, b);
    }
  }
  return {};
}

// engine.cpp hasJSReturn: the first "return" in the code, not inside a longer word.
bool has_js_return(std::string_view code) {
  auto x = code.find("return");
  if (x == std::string_view::npos) return false;
  auto alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  return (x == 0 || !alpha(code[x - 1])) && (x + 6 == code.size() || !alpha(code[x + 6]));
}

// Scope::createFunction's wrapping of a string that is not a function (engine.cpp).
bool wraps_in_return(std::string_view code) {
  if (code.find('\n') != std::string_view::npos || has_js_return(code)) return false;
  auto semicolon = code.find(';');
  auto last = code.find_last_not_of(" \t\r");
  return semicolon == std::string_view::npos || semicolon == last;
}

}  // namespace

std::variant<std::shared_ptr<const js_function>, query_error> compile_where(std::string_view code) {
  auto toks = tokenize(code);
  if (auto* err = std::get_if<query_error>(&toks)) return *err;
  auto f = std::make_shared<js_function>();
  parser p(code, std::get<std::vector<token>>(std::move(toks)));
  if (auto err = p.parse_program(*f, wraps_in_return(code))) return *err;
  return std::shared_ptr<const js_function>(std::move(f));
}

bool evaluate_where(const js_function& f, bson::view doc, javascript_effects& fx) {
  evaluator ev{doc, fx, std::nullopt};
  for (const auto& st : f.body) {
    js_value v = st.expr ? ev.eval(*st.expr) : js_value{};
    if (ev.error) {
      if (!fx.error) fx.error = std::move(ev.error);
      return false;
    }
    if (st.is_return) return truthy(v);
  }
  return false;  // fell off the end: undefined
}

}  // namespace mongowire::testd::query::detail
