// $where JavaScript: the subset of server-side JavaScript the test server evaluates itself
// (mongod runs SpiderMonkey). Literals, `this`/`obj` and their fields, sleep(ms), !, unary
// - and +, arithmetic, comparisons, && and ||, as an expression or a function body of
// `return`/expression statements. Anything else is refused with JSInterpreterFailure and
// says what could not be evaluated and where: never a guessed answer.
#pragma once

#include "query/query.hpp"

#include <memory>
#include <string_view>
#include <variant>

namespace mongowire::testd::query::detail {

struct js_function;

// Compiles a $where string as mongod does (WhereMatchExpression, Scope::createFunction): a
// `function () {...}`, or else a function body, with `return` prepended to a one-line
// expression without `return` and without a `;` other than a final one.
std::variant<std::shared_ptr<const js_function>, query_error> compile_where(std::string_view code);

// Calls the function with `doc` as `this` (and `obj`) and answers the truthiness of its
// result (JS ToBoolean). sleep(ms) calls add to fx.sleep_ms; an error is kept in fx.error
// (the first one wins) and the document does not match.
bool evaluate_where(const js_function& f, bson::view doc, javascript_effects& fx);

}  // namespace mongowire::testd::query::detail
