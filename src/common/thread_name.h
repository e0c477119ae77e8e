// Names the calling thread (as top, perf and gdb show it). Linux limits names to 15 bytes.
#pragma once

#include <pthread.h>

namespace pahlawan {

inline void name_this_thread(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

}  // namespace pahlawan
