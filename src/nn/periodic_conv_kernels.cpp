#include "periodic_conv_kernels.h"

#include <cstring>
#include <vector>

#include <torch/torch.h>

// Each kernel is compiled for AVX2+FMA and for the baseline ISA and picked at run time (the
// library is built portable). The vector loops run over the output channels; their length is
// a compile-time constant (<= one 256-bit register, wider channel counts in chunks), so the
// accumulators live in registers. Pointers into weights / outputs / gradients advance by the
// leading dimension `ld` (the full channel count), which lets a chunk address its columns.

namespace physgen {
namespace detail {

namespace {

// A GCC vector of kV elements of T (kV >= 2): the accumulator of one site's output channels.
// Loads and stores go through memcpy (unaligned, inlined).
template <class T, int kV>
struct Vec {
  typedef T type __attribute__((vector_size(sizeof(T) * kV)));
};

// Rows r in [r0, r1) of y (r = b*S + s): direct stencil sum over q and the input channels c,
// vectorised over the output channels; four sites at a time, so that four independent FMA
// chains share each weight load.
template <class T, int kV>
__attribute__((always_inline)) inline void conv_rows(const T* x, const T* w, const T* bias,
                                                     const int64_t* idx, T* y, int64_t r0,
                                                     int64_t r1, int64_t S, int64_t Cin,
                                                     int64_t Crt, int64_t kk, int64_t ld) {
  const int64_t C = kV > 0 ? kV : Crt;
  if constexpr (kV >= 2) {
    using V = typename Vec<T, kV>::type;
    constexpr int kBlock = 4;
    V b0{};
    if (bias) std::memcpy(&b0, bias, sizeof(V));
    int64_t r = r0;
    for (; r + kBlock <= r1; r += kBlock) {
      const T* xr[kBlock];
      V acc[kBlock];
      const T* xbase[kBlock];
      const int64_t* ibase[kBlock];
      for (int j = 0; j < kBlock; ++j) {
        acc[j] = b0;
        const int64_t rb = (r + j) / S, rs = r + j - rb * S;
        xbase[j] = x + rb * S * Cin;
        ibase[j] = idx + rs * kk;
      }
      for (int64_t q = 0; q < kk; ++q) {
        for (int j = 0; j < kBlock; ++j) xr[j] = xbase[j] + ibase[j][q] * Cin;
        const T* wq = w + q * Cin * ld;
        for (int64_t c = 0; c < Cin; ++c) {
          V wv;
          std::memcpy(&wv, wq + c * ld, sizeof(V));
          for (int j = 0; j < kBlock; ++j) acc[j] += xr[j][c] * wv;
        }
      }
      for (int j = 0; j < kBlock; ++j) std::memcpy(y + (r + j) * ld, &acc[j], sizeof(V));
    }
    for (; r < r1; ++r) {
      const int64_t b = r / S, s = r - b * S;
      V acc = b0;
      for (int64_t q = 0; q < kk; ++q) {
        const T* xq = x + (b * S + idx[s * kk + q]) * Cin;
        const T* wq = w + q * Cin * ld;
        for (int64_t c = 0; c < Cin; ++c) {
          V wv;
          std::memcpy(&wv, wq + c * ld, sizeof(V));
          acc += xq[c] * wv;
        }
      }
      std::memcpy(y + r * ld, &acc, sizeof(V));
    }
  } else if constexpr (kV == 1) {
    // One output channel: four sites at a time for four independent chains.
    const T b0 = bias ? bias[0] : T(0);
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
      const T* xr[4];
      const T* xbase[4];
      const int64_t* ibase[4];
      T acc[4] = {b0, b0, b0, b0};
      for (int j = 0; j < 4; ++j) {
        const int64_t rb = (r + j) / S, rs = r + j - rb * S;
        xbase[j] = x + rb * S * Cin;
        ibase[j] = idx + rs * kk;
      }
      for (int64_t q = 0; q < kk; ++q) {
        for (int j = 0; j < 4; ++j) xr[j] = xbase[j] + ibase[j][q] * Cin;
        const T* wq = w + q * Cin;
        for (int64_t c = 0; c < Cin; ++c) {
          const T wv = wq[c];
          for (int j = 0; j < 4; ++j) acc[j] += xr[j][c] * wv;
        }
      }
      for (int j = 0; j < 4; ++j) y[r + j] = acc[j];
    }
    for (; r < r1; ++r) {
      const int64_t b = r / S, s = r - b * S;
      T acc = b0;
      for (int64_t q = 0; q < kk; ++q) {
        const T* xq = x + (b * S + idx[s * kk + q]) * Cin;
        for (int64_t c = 0; c < Cin; ++c) acc += xq[c] * w[q * Cin + c];
      }
      y[r] = acc;
    }
  } else {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / S, s = r - b * S;
      T* yr = y + r * C;
      for (int64_t o = 0; o < C; ++o) yr[o] = bias ? bias[o] : T(0);
      for (int64_t q = 0; q < kk; ++q) {
        const T* xr = x + (b * S + idx[s * kk + q]) * Cin;
        const T* wq = w + q * Cin * C;
        for (int64_t c = 0; c < Cin; ++c) {
          const T xv = xr[c];
          const T* wr = wq + c * C;
          for (int64_t o = 0; o < C; ++o) yr[o] += xv * wr[o];
        }
      }
    }
  }
}

// Weight gradient for stencil entries q in [q0, q1): gw[q, c, :] = sum_r x[nbr_q(r), c] g[r, :].
// Vector path: four input channels at a time, each a register accumulator over all sites.
template <class T, int kV>
__attribute__((always_inline)) inline void weight_grad_rows(const T* x, const T* g,
                                                            const int64_t* idx, T* gw, int64_t q0,
                                                            int64_t q1, int64_t B, int64_t S,
                                                            int64_t Cin, int64_t Crt, int64_t kk,
                                                            int64_t ld) {
  const int64_t C = kV > 0 ? kV : Crt;
  for (int64_t q = q0; q < q1; ++q) {
    T* gq = gw + q * Cin * ld;
    if constexpr (kV >= 2) {
      using V = typename Vec<T, kV>::type;
      int64_t c0 = 0;
      for (; c0 + 4 <= Cin; c0 += 4) {
        V a0{}, a1{}, a2{}, a3{};
        for (int64_t b = 0; b < B; ++b)
          for (int64_t s = 0; s < S; ++s) {
            const T* xr = x + (b * S + idx[s * kk + q]) * Cin + c0;
            V gv;
            std::memcpy(&gv, g + (b * S + s) * ld, sizeof(V));
            a0 += xr[0] * gv;
            a1 += xr[1] * gv;
            a2 += xr[2] * gv;
            a3 += xr[3] * gv;
          }
        std::memcpy(gq + (c0 + 0) * ld, &a0, sizeof(V));
        std::memcpy(gq + (c0 + 1) * ld, &a1, sizeof(V));
        std::memcpy(gq + (c0 + 2) * ld, &a2, sizeof(V));
        std::memcpy(gq + (c0 + 3) * ld, &a3, sizeof(V));
      }
      for (; c0 < Cin; ++c0) {
        V a[2] = {V{}, V{}};  // two chains over alternating sites
        for (int64_t b = 0; b < B; ++b) {
          const T* xb = x + b * S * Cin + c0;
          const T* gb = g + b * S * ld;
          for (int64_t s = 0; s < S; ++s) {
            V gv;
            std::memcpy(&gv, gb + s * ld, sizeof(V));
            a[s & 1] += xb[idx[s * kk + q] * Cin] * gv;
          }
        }
        a[0] += a[1];
        std::memcpy(gq + c0 * ld, &a[0], sizeof(V));
      }
    } else if constexpr (kV == 1) {
      // One output channel: four input channels at a time (four chains), then the rest.
      int64_t c0 = 0;
      for (; c0 + 4 <= Cin; c0 += 4) {
        T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (int64_t b = 0; b < B; ++b) {
          const T* xb = x + b * S * Cin + c0;
          const T* gb = g + b * S;
          for (int64_t s = 0; s < S; ++s) {
            const T* xr = xb + idx[s * kk + q] * Cin;
            const T gv = gb[s];
            a0 += xr[0] * gv;
            a1 += xr[1] * gv;
            a2 += xr[2] * gv;
            a3 += xr[3] * gv;
          }
        }
        gq[c0] = a0;
        gq[c0 + 1] = a1;
        gq[c0 + 2] = a2;
        gq[c0 + 3] = a3;
      }
      for (; c0 < Cin; ++c0) {
        T a[4] = {0, 0, 0, 0};
        for (int64_t b = 0; b < B; ++b) {
          const T* xb = x + b * S * Cin + c0;
          const T* gb = g + b * S;
          for (int64_t s = 0; s < S; ++s) a[s & 3] += xb[idx[s * kk + q] * Cin] * gb[s];
        }
        gq[c0] = (a[0] + a[1]) + (a[2] + a[3]);
      }
    } else {
      for (int64_t b = 0; b < B; ++b) {
        const T* xb = x + b * S * Cin;
        const T* gb = g + b * S * C;
        for (int64_t s = 0; s < S; ++s) {
          const T* xr = xb + idx[s * kk + q] * Cin;
          const T* gr = gb + s * C;
          for (int64_t c = 0; c < Cin; ++c) {
            const T xv = xr[c];
            T* dst = gq + c * C;
            for (int64_t o = 0; o < C; ++o) dst[o] += xv * gr[o];
          }
        }
      }
    }
  }
}

#define PHYSGEN_FAST __attribute__((target("avx2,fma")))

template <class T, int kV>
PHYSGEN_FAST void conv_rows_avx2(const T* x, const T* w, const T* bias, const int64_t* idx, T* y,
                                 int64_t r0, int64_t r1, int64_t S, int64_t Cin, int64_t C,
                                 int64_t kk, int64_t ld) {
  conv_rows<T, kV>(x, w, bias, idx, y, r0, r1, S, Cin, C, kk, ld);
}
template <class T, int kV>
void conv_rows_base(const T* x, const T* w, const T* bias, const int64_t* idx, T* y, int64_t r0,
                    int64_t r1, int64_t S, int64_t Cin, int64_t C, int64_t kk, int64_t ld) {
  conv_rows<T, kV>(x, w, bias, idx, y, r0, r1, S, Cin, C, kk, ld);
}
template <class T, int kV>
PHYSGEN_FAST void weight_grad_avx2(const T* x, const T* g, const int64_t* idx, T* gw, int64_t q0,
                                   int64_t q1, int64_t B, int64_t S, int64_t Cin, int64_t C,
                                   int64_t kk, int64_t ld) {
  weight_grad_rows<T, kV>(x, g, idx, gw, q0, q1, B, S, Cin, C, kk, ld);
}
template <class T, int kV>
void weight_grad_base(const T* x, const T* g, const int64_t* idx, T* gw, int64_t q0, int64_t q1,
                      int64_t B, int64_t S, int64_t Cin, int64_t C, int64_t kk, int64_t ld) {
  weight_grad_rows<T, kV>(x, g, idx, gw, q0, q1, B, S, Cin, C, kk, ld);
}

bool has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

template <class T, int kV>
void run_conv(const T* x, const T* w, const T* bias, const int64_t* idx, T* y, int64_t B,
              int64_t S, int64_t Cin, int64_t C, int64_t kk, int64_t ld) {
  const auto fn = has_avx2_fma() ? &conv_rows_avx2<T, kV> : &conv_rows_base<T, kV>;
  at::parallel_for(0, B * S, 256, [&](int64_t r0, int64_t r1) {
    fn(x, w, bias, idx, y, r0, r1, S, Cin, C, kk, ld);
  });
}

template <class T, int kV>
void run_weight_grad(const T* x, const T* g, const int64_t* idx, T* gw, int64_t B, int64_t S,
                     int64_t Cin, int64_t C, int64_t kk, int64_t ld) {
  const auto fn = has_avx2_fma() ? &weight_grad_avx2<T, kV> : &weight_grad_base<T, kV>;
  at::parallel_for(0, kk, 1, [&](int64_t q0, int64_t q1) {
    fn(x, g, idx, gw, q0, q1, B, S, Cin, C, kk, ld);
  });
}

// Dispatch on the channel count C the vector loops run over: compile-time widths up to one
// 256-bit register (kLanes = 8 floats or 4 doubles); wider C that is a multiple of kLanes is
// processed in kLanes-wide channel chunks (leading dimension C); anything else at run time.
template <class T>
void conv(const T* x, const T* w, const T* bias, const int64_t* idx, T* y, int64_t B, int64_t S,
          int64_t Cin, int64_t C, int64_t kk) {
  constexpr int kLanes = 32 / sizeof(T);
  if (C > kLanes && C % kLanes == 0) {
    for (int64_t k = 0; k < C; k += kLanes)
      run_conv<T, kLanes>(x, w + k, bias ? bias + k : nullptr, idx, y + k, B, S, Cin, kLanes, kk,
                          C);
    return;
  }
  if (C == 1) return run_conv<T, 1>(x, w, bias, idx, y, B, S, Cin, C, kk, C);
  if (C == 2) return run_conv<T, 2>(x, w, bias, idx, y, B, S, Cin, C, kk, C);
  if (C == 4) return run_conv<T, 4>(x, w, bias, idx, y, B, S, Cin, C, kk, C);
  if (C == kLanes) return run_conv<T, kLanes>(x, w, bias, idx, y, B, S, Cin, C, kk, C);
  return run_conv<T, 0>(x, w, bias, idx, y, B, S, Cin, C, kk, C);
}

template <class T>
void weight_grad(const T* x, const T* g, const int64_t* idx, T* gw, int64_t B, int64_t S,
                 int64_t Cin, int64_t C, int64_t kk) {
  constexpr int kLanes = 32 / sizeof(T);
  if (C > kLanes && C % kLanes == 0) {
    for (int64_t k = 0; k < C; k += kLanes)
      run_weight_grad<T, kLanes>(x, g + k, idx, gw + k, B, S, Cin, kLanes, kk, C);
    return;
  }
  if (C == 1) return run_weight_grad<T, 1>(x, g, idx, gw, B, S, Cin, C, kk, C);
  if (C == 2) return run_weight_grad<T, 2>(x, g, idx, gw, B, S, Cin, C, kk, C);
  if (C == 4) return run_weight_grad<T, 4>(x, g, idx, gw, B, S, Cin, C, kk, C);
  if (C == kLanes) return run_weight_grad<T, kLanes>(x, g, idx, gw, B, S, Cin, C, kk, C);
  return run_weight_grad<T, 0>(x, g, idx, gw, B, S, Cin, C, kk, C);
}

// inv[t*kk + q] = the site s with index[s*kk + q] == t (a bijection for each q on the torus).
torch::Tensor inverse_index(const torch::Tensor& index, int64_t S, int64_t kk) {
  auto inv = torch::empty_like(index);
  const int64_t* in = index.data_ptr<int64_t>();
  int64_t* out = inv.data_ptr<int64_t>();
  for (int64_t s = 0; s < S; ++s)
    for (int64_t q = 0; q < kk; ++q) out[in[s * kk + q] * kk + q] = s;
  return inv;
}

}  // namespace

torch::Tensor periodic_conv_forward_cpu(const torch::Tensor& xin, const torch::Tensor& weight,
                                        const torch::Tensor& bias, const torch::Tensor& index) {
  auto x = xin.contiguous();
  auto w = weight.contiguous();
  auto bi = bias.defined() ? bias.contiguous() : bias;
  const int64_t B = x.size(0), S = x.size(1), Cin = x.size(2);
  const int64_t kk = w.size(0), C = w.size(2);
  auto y = torch::empty({B, S, C}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "periodic_conv_forward", [&] {
    conv<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(),
                   bi.defined() ? bi.data_ptr<scalar_t>() : nullptr, index.data_ptr<int64_t>(),
                   y.data_ptr<scalar_t>(), B, S, Cin, C, kk);
  });
  return y;
}

std::pair<torch::Tensor, torch::Tensor> periodic_conv_backward_cpu(
    const torch::Tensor& gin, const torch::Tensor& x, const torch::Tensor& weight,
    const torch::Tensor& index, bool need_x, bool need_weight) {
  auto g = gin.contiguous();
  const int64_t B = x.size(0), S = x.size(1), Cin = x.size(2);
  const int64_t kk = weight.size(0), C = weight.size(2);
  torch::Tensor gx, gw;
  if (need_x) {
    // dx[b, t, :] = sum_q sum_o g[b, inv(t, q), o] weight[q, :, o]: the same stencil sum with
    // the transposed weight (kk, C, Cin) and the inverse neighbour table.
    auto wt = weight.transpose(1, 2).contiguous();
    auto inv = inverse_index(index, S, kk);
    gx = torch::empty({B, S, Cin}, g.options());
    AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "periodic_conv_backward_x", [&] {
      conv<scalar_t>(g.data_ptr<scalar_t>(), wt.data_ptr<scalar_t>(), nullptr,
                     inv.data_ptr<int64_t>(), gx.data_ptr<scalar_t>(), B, S, C, Cin, kk);
    });
  }
  if (need_weight) {
    gw = torch::zeros({kk, Cin, C}, g.options());
    AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "periodic_conv_backward_w", [&] {
      weight_grad<scalar_t>(x.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(),
                            index.data_ptr<int64_t>(), gw.data_ptr<scalar_t>(), B, S, Cin, C, kk);
    });
  }
  return {gx, gw};
}

}  // namespace detail
}  // namespace physgen
