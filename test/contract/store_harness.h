// StoreHarness: how the Store contract suites (the Store's, the LeaseStore's) open, reopen and pause
// one Store implementation.
// Each implementation (InMemoryStore, SqliteStore, next the PostgreSQL store) adds one harness in
// store_harnesses.cc and then has to pass every test of store_contract_test.cc, unchanged.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "ports/lease_store.h"
#include "ports/store.h"

namespace pahlawan::testing {

class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  virtual Store& store() = 0;
  // The same store's leases (every Store implementation is also a LeaseStore).
  virtual LeaseStore& leases() = 0;
  // Closes the store once everything submitted is decided and opens it again on the same data: what
  // was committed must all be there.
  virtual void reopen() = 0;
  // Opens a fresh store (on new data) whose queue holds at most `n` units waiting to be committed.
  virtual void open_with_queue_limit(size_t n) = 0;
  // Makes the next commit stop inside itself — its writes applied but not yet committed — until
  // resume(). wait_paused() returns once it stands there.
  virtual void pause_next_commit() = 0;
  virtual void wait_paused() = 0;
  virtual void resume() = 0;
};

struct StoreImplementation {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make;
};

inline void PrintTo(const StoreImplementation& s, std::ostream* os) {
  *os << s.name;
}

// Every implementation the suite runs against.
std::vector<StoreImplementation> store_implementations();

}  // namespace pahlawan::testing
