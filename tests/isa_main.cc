/**
 * @file
 * The GoogleTest main of the kernel tests compiled for AVX2 and FMA
 * (tests/CMakeLists.txt), itself compiled for any x86-64: exit code 77,
 * which ctest reports as skipped, on a machine without them, so that this
 * path of the kernel engine is tested wherever it can run, not only on the
 * machines whose native instruction set it is.
 */
#include <gtest/gtest.h>

#include <iostream>

int
main(int argc, char **argv)
{
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    {
      std::cout << "skipped: this machine has no AVX2 and FMA\n";
      return 77;
    }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
