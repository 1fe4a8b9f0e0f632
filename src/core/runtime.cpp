#include "physgen/core/runtime.h"

#include <malloc.h>
#include <unistd.h>

#include <ATen/Parallel.h>

// The pthread OpenBLAS ignores at::set_num_threads; call its own setter when the
// library is present (weak: physgen still links against a reference BLAS).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace physgen {

namespace {
int g_threads = 1;
}

void configure_runtime(int threads) {
  // 1 GiB thresholds: large tensors come from (and return to) the heap.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  if (threads <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? static_cast<int>(n) : 1;
  }
  g_threads = threads;
  at::set_num_threads(threads);
  if (openblas_set_num_threads) openblas_set_num_threads(threads);
}

int runtime_threads() { return g_threads; }

}  // namespace physgen
