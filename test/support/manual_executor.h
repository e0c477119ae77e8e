// The tests' name for the manual executor (common/manual_executor.h).
#pragma once

#include "common/manual_executor.h"

namespace pahlawan::testing {
using pahlawan::ManualExecutor;
}  // namespace pahlawan::testing
