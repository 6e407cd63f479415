/**
 * @file
 * The machine line every benchmark table prints: the CPU model and the
 * measured per-core peak of vector fused multiply-adds, the numerator of the
 * kernel engine's roofline (doc/theory.md section 4.1).
 */
#ifndef attnflow_benchmarks_machine_peak_h
#define attnflow_benchmarks_machine_peak_h

#include <string>

namespace attnflow
{
  namespace benchmarks
  {
    /** The "model name" of /proc/cpuinfo, or "unknown". */
    std::string
    cpu_model();

    /**
     * The measured fused multiply-adds per second of one core, counted in
     * double lanes: many independent chains x = x * a + b on the machine's
     * widest vector registers (those the kernel engine's simd::vdouble,
     * include/attnflow/vector_exp.h, lowers to), enough of them to cover
     * the latency of every FMA port, the best of
     * @p repetitions runs of about 0.1 s each.
     */
    double
    measured_fma_peak(unsigned int repetitions = 5);

    /**
     * One line: "CPU: <model>; measured FMA peak: <lanes/s> double lanes/s
     * per core (<lanes>-lane vectors, best of <repetitions>)".
     */
    std::string
    machine_line(double fma_peak);
  } // namespace benchmarks
} // namespace attnflow

#endif
