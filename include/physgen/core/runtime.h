#pragma once
// Process-wide performance settings (DESIGN.md, "Performance habits").

namespace physgen {

/// Sets glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD so that tensors above
/// 128 KiB are recycled from the heap instead of being mmap'ed (and page-faulted)
/// on every allocation; pins LibTorch intra-op threads and OpenBLAS threads to
/// `threads` (<= 0: the number of cores). Call once at program start.
void configure_runtime(int threads = 0);

/// The thread count configure_runtime() settled on.
int runtime_threads();

}  // namespace physgen
