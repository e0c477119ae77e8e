// The tests' name for the in-memory store (adapters/memory), which the simulator uses too.
#pragma once

#include "adapters/memory/in_memory_store.h"

namespace pahlawan::testing {
using pahlawan::InMemoryStore;
}  // namespace pahlawan::testing
