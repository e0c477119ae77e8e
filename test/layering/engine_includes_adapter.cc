// Must not compile: the engine knows no adapter.
#include "adapters/sqlite/sqlite_store.h"
