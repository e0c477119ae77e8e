// Must compile: the control that shows the probes fail for their include alone.
#include "common/status.h"
#include "domain/surplus.h"
#include "ports/store.h"
int layering_control() {
  return 0;
}
