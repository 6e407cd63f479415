/**
 * @file
 * The CPU model and the measured FMA peak (benchmarks/machine_peak.h),
 * compiled with the kernel engine's flags, so that the FMAs are those the
 * engine's simd::vdouble lowers to, on the machine's widest registers.
 */
#include "machine_peak.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace attnflow
{
  namespace benchmarks
  {
    namespace
    {
#if defined(__AVX512F__)
      /** The widest vector of the machine: 8 doubles in one register. */
      constexpr unsigned int native_lanes = 8;
      /**
       * Independent FMA chains: 4-cycle latency times 2 ports needs 8; 24
       * leave room for deeper pipelines and stay within 32 registers.
       */
      constexpr unsigned int n_chains = 24;
#elif defined(__AVX__)
      constexpr unsigned int native_lanes = 4;
      /** 12 of the 16 registers beside a and b. */
      constexpr unsigned int n_chains = 12;
#else
      constexpr unsigned int native_lanes = 2;
      constexpr unsigned int n_chains     = 12;
#endif
      /**
       * One register of doubles. Not simd::vdouble: that has 8 lanes on
       * every machine, and without AVX-512 the compiler keeps an array of
       * them on the stack, which would measure the stores, not the FMAs.
       */
      using native_vector =
        double __attribute__((vector_size(native_lanes * sizeof(double))));

      /** Seconds of @p n_iterations rounds of n_chains FMAs. */
      double
      time_fma_chains(const long n_iterations)
      {
        // Values that stay bounded: x -> 0.5 x + 0.5 tends to 1.
        native_vector x[n_chains];
        for (unsigned int c = 0; c < n_chains; ++c)
          x[c] = native_vector{} + (1. + c);
        native_vector a = native_vector{} + 0.5, b = a;
        // An opaque barrier keeps a and b in registers and unknown.
        asm volatile("" : "+x"(a), "+x"(b));
        const auto start = std::chrono::steady_clock::now();
        for (long i = 0; i < n_iterations; ++i)
          {
#pragma GCC unroll 32
            for (unsigned int c = 0; c < n_chains; ++c)
              x[c] = x[c] * a + b;
          }
        const auto    stop = std::chrono::steady_clock::now();
        native_vector sum  = native_vector{};
        for (unsigned int c = 0; c < n_chains; ++c)
          sum += x[c];
        volatile double sink = sum[0];
        (void)sink;
        return std::chrono::duration<double>(stop - start).count();
      }
    } // namespace



    std::string
    cpu_model()
    {
      std::ifstream cpuinfo("/proc/cpuinfo");
      std::string   line;
      while (std::getline(cpuinfo, line))
        if (line.rfind("model name", 0) == 0)
          return line.substr(line.find(':') + 2);
      return "unknown";
    }



    double
    measured_fma_peak(const unsigned int repetitions)
    {
      // Calibrate to about 0.1 s per run, then keep the fastest run.
      long n_iterations = 1 << 16;
      while (time_fma_chains(n_iterations) < 0.02)
        n_iterations *= 2;
      n_iterations *= 5;
      double best = 0.;
      for (unsigned int r = 0; r < std::max(repetitions, 1u); ++r)
        best = std::max(best,
                        double(n_iterations) * n_chains * native_lanes /
                          time_fma_chains(n_iterations));
      return best;
    }



    std::string
    machine_line(const double fma_peak)
    {
      char buffer[128];
      std::snprintf(buffer,
                    sizeof(buffer),
                    "; measured FMA peak: %.3e double lanes/s per core "
                    "(%u-lane vectors)",
                    fma_peak,
                    native_lanes);
      return "CPU: " + cpu_model() + buffer;
    }
  } // namespace benchmarks
} // namespace attnflow
