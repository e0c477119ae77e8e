// Fault injection: named points in the code where a test can make the process crash, stall or fail
// at the worst moment, deterministically (Seastar's error injection, LevelDB's fault env).
//
// A point is written `if (PP_FAULT("store.after_commit_before_reply")) { ...fail as if it failed... }`.
// It is compiled only into test builds (PAHLAWAN_FAULT_INJECTION, set by the debug and sanitizer
// presets); in a release build PP_FAULT is the constant `false` and costs nothing.
//
// A point does what it is armed with:
//   crash        SIGKILL to the own process (as `kill -9`: no destructor, no flush, no atexit)
//   error        PP_FAULT returns true: the caller takes its failure path
//   delay:<ms>   sleeps that long, then goes on
//   pause        waits at the point until the test calls resume() (in-process tests only)
// with an optional `@N`: only the N-th hit (counted from 1) and every later one fire; before it the
// point passes. `error` and `delay` may take a count `xK`: fire K times, then pass again.
// Spec grammar, also of the PAHLAWAN_FAULTS environment variable read by `pahlawan serve`:
//   name=crash@200;relay.after_publish_before_cursor=delay:300x2
//
// Thread-safety: every function may be called from any thread. An unarmed point costs one relaxed
// atomic load.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace pahlawan::fault {

enum class Action { kCrash, kError, kDelay, kPause };

struct Arming {
  std::string point;
  Action action = Action::kError;
  int delay_ms = 0;
  long from_hit = 1;  // the first hit that fires
  long times = -1;    // how many hits fire; -1: all
};

// Parses a spec ("a=crash@3;b=error x2" without spaces); a malformed one is kInvalidRequest.
Result<std::vector<Arming>> parse(std::string_view spec);

void arm(const Arming& arming);
// Disarms every point and lets every thread paused at one go on.
void disarm_all();
// Lets the threads paused at `point` go on (the point stays armed).
void resume(std::string_view point);
// Whether fault points are compiled into this build.
bool compiled_in();

// What PP_FAULT calls; true when the point is armed with `error` and fires.
bool hit(const char* point);
// How many times a point was reached since it was armed (for tests that wait for a point).
long hits(std::string_view point);
// Waits until `point` was reached `n` times since it was armed; false if that took over `timeout_ms`.
bool wait_hits(std::string_view point, long n, int timeout_ms);
// Every armed point: how often it was reached, and how many threads are in its delay right now —
// what a test of a running server reads from /metrics (fault_point_hits, fault_point_delaying) to
// know a request has reached a point, or that a delay is running on a thread that is free to be
// watched (with one I/O thread, a delay seen from /metrics is not on the I/O thread).
struct PointState {
  std::string point;
  long hits = 0, delaying = 0;
};
std::vector<PointState> armed_points();

}  // namespace pahlawan::fault

#ifdef PAHLAWAN_FAULT_INJECTION
#define PP_FAULT(point) (::pahlawan::fault::hit(point))
#else
#define PP_FAULT(point) false
#endif
