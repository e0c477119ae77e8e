// Must not compile: the ports know no application service.
#include "app/surplus_service.h"
