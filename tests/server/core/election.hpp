// Elections of a test replica set, as mongod's election protocol leaves the members once it is
// over: shared by the in-process replica set (net/embedded_server.hpp) and mongowire-testd
// --members. Each call takes every member's lock in turn, never two at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/server_core.hpp"

namespace mongowire::testd {

// `members[old_primary]` (-1: none) steps down (its transactions are aborted), then
// `members[new_primary]` (-1: nobody) wins with the next election term (`term` is the current
// one and moves on: SDAM trusts the highest electionId): every member advertises it, the
// secondaries replicate from it, every topologyVersion moves.
void hold_election(std::span<server_core* const> members, int old_primary, int new_primary, std::int64_t& term);

// The member an election after member `stepped_down` stepped down picks: the next one, in
// member order, that is electable (a secondary not frozen by replSetFreeze); -1: none.
int next_electable(std::span<server_core* const> members, int stepped_down);

}  // namespace mongowire::testd
