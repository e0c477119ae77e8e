// Must not compile: one adapter does not use another.
#include "adapters/http/api_types.h"
