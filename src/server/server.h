// Server: the composition root of the embedded default — SQLite store, in-process geo index and bus,
// shard actors on the I/O threads, outbox relay, expiry timer, HTTP. The only place that picks
// adapters. run() serves until SIGTERM/SIGINT, then drains and returns the process exit code.
#pragma once

#include "server/config.h"

namespace pahlawan {

int run_server(const Config& config);

}  // namespace pahlawan
