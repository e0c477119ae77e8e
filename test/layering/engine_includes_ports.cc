// Must compile: the control that shows the probes fail for their include alone.
#include "ports/store.h"
#include "domain/surplus.h"
#include "common/status.h"
int layering_control() { return 0; }
