// The tests' fake clock: the manual clock of common/manual_clock.h.
#pragma once

#include "common/manual_clock.h"

namespace pahlawan::testing {
using FakeClock = pahlawan::ManualClock;
}  // namespace pahlawan::testing
