#include "core/election.hpp"

namespace mongowire::testd {

void hold_election(std::span<server_core* const> members, int old_primary, int new_primary, std::int64_t& term) {
  const int n = static_cast<int>(members.size());
  // The old primary steps down first: for a moment nobody is primary, as in a real election.
  if (old_primary >= 0) members[old_primary]->set_replica_state(member_role::secondary, "", term);
  if (new_primary >= 0) ++term;  // the winner's term is above every term seen so far
  const std::string address = new_primary >= 0 ? members[new_primary]->me() : std::string();
  for (int i = 0; i < n; ++i)
    members[i]->set_replica_state(i == new_primary ? member_role::primary : member_role::secondary, address, term);
  for (int i = 0; i < n; ++i)
    members[i]->set_sync_source(new_primary >= 0 && i != new_primary ? members[new_primary] : nullptr);
}

int next_electable(std::span<server_core* const> members, int stepped_down) {
  const int n = static_cast<int>(members.size());
  for (int k = 1; k < n; ++k) {
    const int candidate = (stepped_down + k) % n;
    if (members[candidate]->electable()) return candidate;
  }
  return -1;
}

}  // namespace mongowire::testd
