#include <perfmon/pfmlib.h>
#include <perfmon/pfmlib_perf_event.h>
