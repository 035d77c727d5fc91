// Log messages of client entities (unified-test-format.md "observeLogMessages",
// "expectLogMessages"): recorded as documents {component, level, data} while the client
// listens, then matched in order against expectedLogMessagesForClient.
#pragma once

#include "entities.hpp"
#include "mongowire/logging.hpp"

namespace mongowire::spec {

// observeLogMessages ({component: level}) as client options; runner_error for an unknown
// component or level name.
component_log_levels observed_log_levels(bson::view observe);

void record_log_message(client_entity& c, const log_message& m);

// One expectedLogMessagesForClient: `ignoreMessages` are dropped first, then `messages` must
// match the rest in order (with no extra message unless `ignoreExtraMessages`). Throws
// test_failure naming the first mismatch, runner_error when the expectation is malformed.
void check_log_messages(bson::view expected_for_client, const entity_map& entities);

}  // namespace mongowire::spec
