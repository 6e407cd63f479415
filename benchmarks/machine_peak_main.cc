/**
 * @file
 * attnflow_machine_peak: prints the machine line of the benchmark tables
 * (benchmarks/machine_peak.h), or with --value only the measured FMA peak in
 * double lanes per second per core.
 */
#include <cstdio>
#include <cstring>

#include "machine_peak.h"

int
main(int argc, char **argv)
{
  const double peak = attnflow::benchmarks::measured_fma_peak();
  if (argc > 1 && std::strcmp(argv[1], "--value") == 0)
    std::printf("%.6e\n", peak);
  else
    std::printf("%s\n", attnflow::benchmarks::machine_line(peak).c_str());
  return 0;
}
