// Must not compile: the domain knows no engine.
#include "engine/shard_router.h"
