"""The machine line of the benchmark tables: the CPU model and the measured
per-core FMA peak, from the program attnflow_machine_peak
(benchmarks/machine_peak.h) of a build directory, and the kernel engine's
roofline in pairs per second (doc/theory.md section 4.1)."""

import os
import re
import subprocess


def cpu_model():
    """The "model name" of /proc/cpuinfo, or "unknown"."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine_peak(build_dirs):
    """(line, peak): the line attnflow_machine_peak prints and the measured
    FMA peak in double lanes/s per core, from the first of @p build_dirs
    that holds benchmarks/attnflow_machine_peak; (line naming the CPU and
    saying the peak is not measured, None) when none does."""
    for build_dir in build_dirs:
        program = os.path.join(build_dir, "benchmarks", "attnflow_machine_peak")
        if os.access(program, os.X_OK):
            line = subprocess.run([program], check=True, capture_output=True,
                                  text=True).stdout.strip()
            match = re.search(r"measured FMA peak: ([0-9.e+-]+)", line)
            return line, float(match.group(1)) if match else None
    return (f"CPU: {cpu_model()}; FMA peak not measured (build the target "
            "attnflow_machine_peak)"), None


def engine_roofline(peak, d, dv=None):
    """The kernel engine's roofline in (target, source) pairs per second per
    core: the FMA peak over the 2 d + 20 vector-lane operations one pair
    needs at query dimension d and value dimension dv (default d)."""
    dv = d if dv is None else dv
    return peak / (d + dv + 20)
