// Pinning the calling thread to one CPU, for latency experiments.
#pragma once

#include <string>
#include <vector>

namespace viscose {

// Whether this build can pin threads (Linux only).
bool can_pin_threads();

// The CPUs the process may run on, in increasing order; empty where that cannot be read.
std::vector<int> allowed_cpus();

// Pins the calling thread to `cpu`. Returns an empty string, or why it failed.
std::string pin_current_thread(int cpu);

}  // namespace viscose
