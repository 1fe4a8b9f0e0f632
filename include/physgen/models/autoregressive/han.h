#pragma once
// Hierarchical autoregressive network (HAN) for Ising spins on a periodic L x L lattice,
// L = 2^K: the autoregressive family for L >= 32, where VAN's one network call per site
// (L^2 calls per sample) makes training slow.
//
// The sites are ordered by a recursive domain decomposition instead of raster order:
//
//   level 0 (the frame):  row 0 and column 0, 2L - 1 sites. On the torus they enclose the
//                         (L-1) x (L-1) interior: rows/columns 0 and L are the same.
//   level m = K..1:       the lattice is tiled by (L / 2^m)^2 blocks of side S = 2^m with
//                         origins (a S, b S); a block's frame (its 4S boundary sites, rows and
//                         columns a S and (a+1) S mod L) is known from earlier levels, and the
//                         block's cross (its middle row and middle column inside the frame,
//                         2S - 3 sites) is drawn given it. The cross cuts the block into four
//                         blocks of side S/2 whose frames are then known; at S = 2 the cross is
//                         the block's one interior site.
//
//   q(s) = q_0(s_frame) prod_{m=K..1} prod_{blocks b of level m} q_m(s_cross(b) | s_frame(b)),
//
// each factor itself autoregressive over its cross: q_m(s_cross | s_frame) =
// prod_d sigmoid(s_d z_d(s_cross,<d, s_frame)), with z from a MADE (nn/made.h) whose context is
// the frame. One MADE per level, shared by every block of the level (the periodic lattice is
// invariant under translations by S), so the blocks of a level are one batch.
//
// log q is exact: one MADE pass per level. Sampling is exact and costs one MADE call per cross
// site of each level, batched over samples and blocks:
//   calls = (2L - 1) + sum_{m=1..K} (2^{m+1} - 3) = 6L - 5 - 3K
// (172 at L = 32 against VAN's 1024, 361 at L = 64 against 4096). Optional Z2 symmetry
// q_s(s) = (q(s) + q(-s)) / 2 as VAN (models/autoregressive/heads.h).
//
// Why a frame and not only conditionals: for a nearest-neighbour Hamiltonian the spins inside
// a block are independent of everything outside given the block's frame (the Markov property
// of the Ising measure), so q_m(s_cross | s_frame) can be exact for the true Boltzmann
// distribution; only the marginal of the cross (the interior summed out) has to be learned.
//
// Parameters: "levels.<k>.{hidden<l>,context,output}" of the MADE of level k (k = 0 the frame,
// k = 1..K the levels m = K..1); buffers "levels.<k>.mask<l>", "levels.<k>.output_mask".
//
// Reference: P. Bialas, P. Korcyl, T. Stebel, "Hierarchical autoregressive neural networks for
// statistical systems", Comput. Phys. Commun. 281, 108502 (2022), arXiv:2203.10989.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "physgen/core/options.h"
#include "physgen/models/autoregressive/heads.h"

namespace physgen {

/// Options of Han. Required: event_shape {L, L}, L a power of 2 >= 2. Defaults in brackets.
struct HanOptions {
  explicit HanOptions(std::vector<int64_t> event_shape) : event_shape_(std::move(event_shape)) {}
  TORCH_ARG(std::vector<int64_t>, event_shape);
  /// Hidden layers of each level's MADE [2].
  TORCH_ARG(int64_t, hidden_layers) = 2;
  /// Hidden units per layer: max(min_hidden, hidden_factor * (cross + frame sites)) [2].
  TORCH_ARG(int64_t, hidden_factor) = 2;
  /// Lower bound of the hidden units per layer [64].
  TORCH_ARG(int64_t, min_hidden) = 64;
  /// Activation of the MADEs (nn/activation.h names) ["gelu"]. Measured at L = 16, beta_c, 4000
  /// steps (docs/autoregressive.md): gelu 1.7e-4 relative error of F_q, relu 1.4e-3, relu with
  /// three hidden layers 5.2e-3.
  TORCH_ARG(std::string, activation) = "gelu";
  /// Z2 symmetrisation q_s(s) = (q(s) + q(-s)) / 2 [true].
  TORCH_ARG(bool, z2) = true;

 public:
  void validate() const;
  nlohmann::json to_json() const;
  static HanOptions from_json(const nlohmann::json& j);
  template <class V>
  void fields(V&& v) {
    v("event_shape", event_shape());
    v("hidden_layers", hidden_layers());
    v("hidden_factor", hidden_factor());
    v("min_hidden", min_hidden());
    v("activation", activation());
    v("z2", z2());
  }
};

class HanImpl : public torch::nn::Cloneable<HanImpl>, public AutoregressiveModel {
 public:
  explicit HanImpl(const HanOptions& options);
  void reset() override;

  /// Logits z (n, L, L) of q(s_i = +1 | earlier sites) = sigmoid(z_i) (no Z2), at each site's
  /// raster position.
  torch::Tensor logits(const torch::Tensor& s);
  /// log q(s) (n) for spins s (n, L, L) of +-1 (Z2-symmetrised when options.z2()).
  torch::Tensor log_prob(const torch::Tensor& s) override;
  /// n exact samples: sampling_calls() MADE calls; no autograd.
  torch::Tensor sample(int64_t n) override;
  std::vector<int64_t> event_shape() const override { return options.event_shape(); }

  torch::Tensor site_outputs(const torch::Tensor& s) override;
  int64_t sampling_calls() const override;
  std::vector<int64_t> site_order() const override { return order_; }
  std::string head() const override { return "spin"; }

  /// One level of the hierarchy: `blocks` blocks, each with `frame` known sites (the MADE's
  /// context; 0 at the frame level) and `cross` sites drawn in order. Raster indices:
  /// frame_index (blocks * frame), cross_index (blocks * cross), block-major.
  struct Level {
    int64_t side = 0, blocks = 1, frame = 0, cross = 0;
    torch::Tensor frame_index, cross_index;
  };
  const std::vector<Level>& levels() const { return levels_; }

  HanOptions options;
  torch::nn::ModuleList nets{nullptr};

 private:
  /// The logits (n, blocks * cross) of level k for spins s (n, V) (teacher-forced).
  torch::Tensor level_logits(size_t k, const torch::Tensor& s_flat);
  std::vector<Level> levels_;
  std::vector<int64_t> order_;
  torch::Tensor inverse_order_;  // raster index -> position in order_
};
TORCH_MODULE(Han);

}  // namespace physgen
