#pragma once
// What the benchmarks print about the machine and how they time: the CPU's model name and a clock's
// seconds (CLOCK_THREAD_CPUTIME_ID for the benchmarking thread's CPU time). Used by `mambafx bench`
// and Tests/Bench/mfx_nam_bench.
#include <ctime>
#include <string>

namespace mfx::apps {

std::string cpuName();                 // /proc/cpuinfo's first "model name", or "unknown CPU"
double cpuSeconds(clockid_t clock);    // clock_gettime(clock) in seconds

} // namespace mfx::apps
