#include "affinity.h"

#ifdef __linux__
#include <sched.h>

#include <cerrno>
#include <cstring>
#endif

namespace viscose {

#ifdef __linux__

bool can_pin_threads() { return true; }

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

std::string pin_current_thread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return "CPU " + std::to_string(cpu) + " is out of range";
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  // pid 0 is the calling thread, not the whole process: each worker pins itself.
  if (sched_setaffinity(0, sizeof(set), &set) != 0) return std::strerror(errno);
  return "";
}

#else

bool can_pin_threads() { return false; }

std::vector<int> allowed_cpus() { return {}; }

std::string pin_current_thread(int) { return "thread pinning is only implemented on Linux"; }

#endif

}  // namespace viscose
