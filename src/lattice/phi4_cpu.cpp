// Fused CPU float64 kernels for the 2D phi^4 action, force and kick-drift trajectories.
//
// Layout: chains are processed in blocks of kBlock = 8. A block is copied into a site-major,
// chain-minor buffer buf[site * 8 + b], so every site update is one fixed-length loop over 8
// chains: it vectorizes completely for any L (no boundary remainders), neighbours are plain
// index arithmetic, and the reduction in the action runs per lane (no reassociation needed).
// A block's field and momenta (2 x 8 x L^2 doubles: 128 KiB at L = 32) stay in L1/L2 for a whole
// trajectory. at::parallel_for runs over blocks.
//
// The hot functions are compiled three times (x86-64 baseline, -v3 = AVX2, -v4 = AVX-512) and
// picked at load time (GCC target_clones), so the default portable build still uses wide vectors.
// Arithmetic is ordered exactly as in phi4_force_tensor (same association; ISO C++ mode, so no
// FMA contraction): the two paths agree to the last bit in practice and to rounding in any case.
#include <algorithm>
#include <cstring>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "phi4_cpu.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define PHYSGEN_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PHYSGEN_MULTIVERSION
#endif

#pragma GCC diagnostic ignored "-Wpsabi"  // the Lanes helpers are internal and always inlined

namespace physgen {

namespace {

constexpr int64_t kBlock = 8;

// Copies chains [c0, c0 + nb) of src (C, V) into buf (V, kBlock); lanes >= nb are zero.
void load_block(const double* src, int64_t V, int64_t c0, int64_t nb, double* buf) {
  if (nb < kBlock) std::fill(buf, buf + V * kBlock, 0.0);
  for (int64_t b = 0; b < nb; ++b) {
    const double* s = src + (c0 + b) * V;
    for (int64_t i = 0; i < V; ++i) buf[i * kBlock + b] = s[i];
  }
}

void store_block(const double* buf, int64_t V, int64_t c0, int64_t nb, double* dst) {
  for (int64_t b = 0; b < nb; ++b) {
    double* d = dst + (c0 + b) * V;
    for (int64_t i = 0; i < V; ++i) d[i] = buf[i * kBlock + b];
  }
}

// Eight lanes (one per chain of a block) as a GCC/Clang vector: one AVX-512 register, two AVX2
// or four SSE2 registers, whatever the clone targets. Loads/stores go through memcpy (unaligned,
// no aliasing questions); elementwise IEEE arithmetic, identical to the scalar expressions.
typedef double Lanes __attribute__((vector_size(kBlock * sizeof(double))));

inline __attribute__((always_inline)) Lanes load(const double* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline __attribute__((always_inline)) void store(double* p, Lanes v) {
  std::memcpy(p, &v, sizeof v);
}

// p -= coef * dS/dphi on a block; dS/dphi = (c1 x - 2 sum_nn x) + c3 x^3, c1 = 8 + 2 m2,
// c3 = 4 lambda (the association of phi4_force_tensor).
inline __attribute__((always_inline)) void kick(const double* __restrict x, double* __restrict p,
                                                int64_t L, double c1, double c3, double coef) {
  for (int64_t i = 0; i < L; ++i) {
    const int64_t row = i * L, up = (i + 1 == L ? 0 : i + 1) * L, down = (i == 0 ? L - 1 : i - 1) * L;
    for (int64_t j = 0; j < L; ++j) {
      const int64_t right = j + 1 == L ? 0 : j + 1, left = j == 0 ? L - 1 : j - 1;
      const Lanes v = load(x + (row + j) * kBlock);
      const Lanes n = ((load(x + (down + j) * kBlock) + load(x + (up + j) * kBlock)) +
                       load(x + (row + left) * kBlock)) +
                      load(x + (row + right) * kBlock);
      double* pc = p + (row + j) * kBlock;
      store(pc, load(pc) - coef * ((c1 * v - 2.0 * n) + c3 * (v * v * v)));
    }
  }
}

// x += coef * p on a block of n = V * kBlock values.
inline __attribute__((always_inline)) void drift(double* __restrict x, const double* __restrict p,
                                                 int64_t n, double coef) {
  for (int64_t s = 0; s < n; s += kBlock) store(x + s, load(x + s) + coef * load(p + s));
}

// A whole kick-drift sequence on one block (the HMC hot loop).
PHYSGEN_MULTIVERSION
void trajectory_block(double* __restrict x, double* __restrict p, int64_t L, double c1, double c3,
                      const double* kicks, const double* drifts, int64_t n_drifts) {
  const int64_t n = L * L * kBlock;
  for (int64_t k = 0; k < n_drifts; ++k) {
    kick(x, p, L, c1, c3, kicks[k]);
    drift(x, p, n, drifts[k]);
  }
  kick(x, p, L, c1, c3, kicks[n_drifts]);
}

// S per lane: sum over sites of (x_up - x)^2 + (x_right - x)^2 + m2 x^2 + lambda x^4.
PHYSGEN_MULTIVERSION
void action_block(const double* __restrict x, int64_t L, double m2, double lambda,
                  double* __restrict out) {
  Lanes s = {0.0};
  for (int64_t i = 0; i < L; ++i) {
    const int64_t row = i * L, up = (i + 1 == L ? 0 : i + 1) * L;
    for (int64_t j = 0; j < L; ++j) {
      const int64_t right = j + 1 == L ? 0 : j + 1;
      const Lanes v = load(x + (row + j) * kBlock);
      const Lanes d1 = load(x + (up + j) * kBlock) - v, d2 = load(x + (row + right) * kBlock) - v;
      const Lanes v2 = v * v;
      s += ((d1 * d1 + d2 * d2) + m2 * v2) + lambda * (v2 * v2);
    }
  }
  store(out, s);
}

PHYSGEN_MULTIVERSION
void force_block(const double* __restrict x, double* __restrict f, int64_t L, double c1,
                 double c3) {
  std::fill(f, f + L * L * kBlock, 0.0);
  kick(x, f, L, c1, c3, -1.0);  // 0 - (-1) F == F exactly
}

// Runs body(c0, nb, buffer_x, buffer_p) over all blocks of C chains in parallel.
template <class Body>
void for_each_block(int64_t C, int64_t V, int64_t work_per_chain, const Body& body) {
  const int64_t n_blocks = (C + kBlock - 1) / kBlock;
  const int64_t grain =
      std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, work_per_chain * kBlock));
  at::parallel_for(0, n_blocks, grain, [&](int64_t begin, int64_t end) {
    std::vector<double> bx(static_cast<size_t>(V * kBlock)), bp(static_cast<size_t>(V * kBlock));
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t c0 = blk * kBlock, nb = std::min(kBlock, C - c0);
      body(c0, nb, bx.data(), bp.data());
    }
  });
}

}  // namespace

torch::Tensor phi4_action_cpu(const Phi4Params& params, const torch::Tensor& x_in) {
  auto x = x_in.contiguous();
  const int64_t C = x.size(0), L = params.L, V = L * L;
  auto out = torch::empty({C}, x.options());
  const double* xp = x.data_ptr<double>();
  double* op = out.data_ptr<double>();
  for_each_block(C, V, V, [&](int64_t c0, int64_t nb, double* bx, double*) {
    double s[kBlock];
    load_block(xp, V, c0, nb, bx);
    action_block(bx, L, params.m2, params.lambda, s);
    std::copy(s, s + nb, op + c0);
  });
  return out;
}

torch::Tensor phi4_force_cpu(const Phi4Params& params, const torch::Tensor& x_in) {
  auto x = x_in.contiguous();
  const int64_t C = x.size(0), L = params.L, V = L * L;
  auto f = torch::empty_like(x, at::MemoryFormat::Contiguous);
  const double* xp = x.data_ptr<double>();
  double* fp = f.data_ptr<double>();
  const double c1 = 8.0 + 2.0 * params.m2, c3 = 4.0 * params.lambda;
  for_each_block(C, V, V, [&](int64_t c0, int64_t nb, double* bx, double* bf) {
    load_block(xp, V, c0, nb, bx);
    force_block(bx, bf, L, c1, c3);
    store_block(bf, V, c0, nb, fp);
  });
  return f;
}

bool Phi4Action::integrate_fused(torch::Tensor& x, torch::Tensor& p,
                                 const std::vector<double>& kicks,
                                 const std::vector<double>& drifts) const {
  if (!uses_fused_path(x) || !p.device().is_cpu() || p.scalar_type() != torch::kFloat64 ||
      p.requires_grad()) {
    return false;
  }
  auto xi = x.contiguous(), pi = p.contiguous();
  const int64_t C = xi.size(0), L = params_.L, V = L * L;
  auto xo = torch::empty_like(xi), po = torch::empty_like(pi);
  const double c1 = 8.0 + 2.0 * params_.m2, c3 = 4.0 * params_.lambda;
  const double* xs = xi.data_ptr<double>();
  const double* ps = pi.data_ptr<double>();
  double* xd = xo.data_ptr<double>();
  double* pd = po.data_ptr<double>();
  const int64_t n_drifts = static_cast<int64_t>(drifts.size());
  for_each_block(C, V, V * static_cast<int64_t>(kicks.size()),
                 [&](int64_t c0, int64_t nb, double* bx, double* bp) {
                   load_block(xs, V, c0, nb, bx);
                   load_block(ps, V, c0, nb, bp);
                   trajectory_block(bx, bp, L, c1, c3, kicks.data(), drifts.data(), n_drifts);
                   store_block(bx, V, c0, nb, xd);
                   store_block(bp, V, c0, nb, pd);
                 });
  x = xo;
  p = po;
  return true;
}

}  // namespace physgen
