#include "physgen/models/autoregressive/han.h"

#include <algorithm>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/io/tensor_checks.h"
#include "physgen/nn/activation.h"
#include "physgen/nn/made.h"

namespace physgen {

void HanOptions::validate() const {
  const bool square = event_shape_.size() == 2 && event_shape_[0] == event_shape_[1];
  const int64_t L = square ? event_shape_[0] : 0;
  check_arg(square && L >= 2 && (L & (L - 1)) == 0, "event_shape", nlohmann::json(event_shape_).dump(),
            "a square lattice [L, L] with L a power of 2 >= 2 (the hierarchy halves blocks down to 2 x 2)");
  check_arg(hidden_layers_ >= 1 && hidden_layers_ <= 8, "hidden_layers", hidden_layers_, "an integer in [1, 8]");
  check_arg(hidden_factor_ >= 1, "hidden_factor", hidden_factor_, "an integer >= 1");
  check_arg(min_hidden_ >= 1, "min_hidden", min_hidden_, "an integer >= 1");
  activation_from_name(activation_);  // throws naming the valid activations
}

nlohmann::json HanOptions::to_json() const { return options_to_json(*this); }

HanOptions HanOptions::from_json(const nlohmann::json& j) {
  check_arg(j.is_object() && j.contains("event_shape"), "event_shape", "(missing)", "a lattice such as [32, 32]");
  HanOptions o(j["event_shape"].get<std::vector<int64_t>>());
  options_from_json(o, j, "model");
  o.validate();
  return o;
}

namespace {

/// The hierarchy of an L x L torus (see han.h): level 0 the frame (row 0, column 0), then
/// for S = L, L/2, ..., 2 the blocks of side S with their frames and crosses.
std::vector<HanImpl::Level> build_levels(int64_t L) {
  auto idx = [L](int64_t r, int64_t c) { return ((r % L + L) % L) * L + ((c % L + L) % L); };
  std::vector<HanImpl::Level> levels;
  {
    HanImpl::Level f;
    f.side = L;
    f.cross = 2 * L - 1;
    std::vector<int64_t> cross;
    for (int64_t c = 0; c < L; ++c) cross.push_back(idx(0, c));
    for (int64_t r = 1; r < L; ++r) cross.push_back(idx(r, 0));
    f.cross_index = torch::tensor(cross, torch::kInt64);
    levels.push_back(f);
  }
  for (int64_t S = L; S >= 2; S /= 2) {
    HanImpl::Level lv;
    lv.side = S;
    lv.blocks = (L / S) * (L / S);
    lv.frame = 4 * S;
    lv.cross = 2 * S - 3;
    std::vector<int64_t> frame, cross;
    const int64_t h = S / 2;
    for (int64_t R = 0; R < L; R += S)
      for (int64_t C = 0; C < L; C += S) {
        // The frame clockwise from the block's corner (on the torus rows R and R + S coincide
        // when S = L; the duplicate context entries are harmless).
        for (int64_t j = 0; j < S; ++j) frame.push_back(idx(R, C + j));
        for (int64_t j = 0; j < S; ++j) frame.push_back(idx(R + j, C + S));
        for (int64_t j = 0; j < S; ++j) frame.push_back(idx(R + S, C + S - j));
        for (int64_t j = 0; j < S; ++j) frame.push_back(idx(R + S - j, C));
        // The cross: the middle row left to right, then the middle column top to bottom.
        for (int64_t j = 1; j < S; ++j) cross.push_back(idx(R + h, C + j));
        for (int64_t j = 1; j < S; ++j)
          if (j != h) cross.push_back(idx(R + j, C + h));
      }
    lv.frame_index = torch::tensor(frame, torch::kInt64);
    lv.cross_index = torch::tensor(cross, torch::kInt64);
    levels.push_back(lv);
  }
  return levels;
}

}  // namespace

HanImpl::HanImpl(const HanOptions& options_) : options(options_) {
  options.validate();
  reset();
}

void HanImpl::reset() {
  const int64_t L = options.event_shape()[0], V = L * L;
  levels_ = build_levels(L);
  order_.clear();
  for (const auto& lv : levels_) {
    const auto* p = lv.cross_index.data_ptr<int64_t>();
    order_.insert(order_.end(), p, p + lv.cross_index.numel());
  }
  // Every site is drawn exactly once, after its frame.
  std::vector<int64_t> position(static_cast<size_t>(V), -1);
  for (size_t i = 0; i < order_.size(); ++i) {
    TORCH_CHECK(position[order_[i]] < 0, "HAN hierarchy draws site ", order_[i], " twice");
    position[order_[i]] = static_cast<int64_t>(i);
  }
  TORCH_CHECK(static_cast<int64_t>(order_.size()) == V, "HAN hierarchy covers ", order_.size(), " of ", V, " sites");
  // ... and each block's frame is drawn before its cross.
  for (const auto& lv : levels_) {
    if (lv.frame == 0) continue;
    const auto* f = lv.frame_index.data_ptr<int64_t>();
    const int64_t first_cross = position[lv.cross_index[0].item<int64_t>()];
    for (int64_t i = 0; i < lv.frame_index.numel(); ++i)
      TORCH_CHECK(position[f[i]] < first_cross, "HAN level of side ", lv.side, " conditions on a later site");
  }
  inverse_order_ = torch::tensor(position, torch::kInt64);
  nets = register_module("levels", torch::nn::ModuleList());
  const Activation act = activation_from_name(options.activation());
  for (const auto& lv : levels_) {
    const int64_t width = std::max(options.min_hidden(), options.hidden_factor() * (lv.cross + lv.frame));
    nets->push_back(MADE(MADEOptions(lv.cross, std::vector<int64_t>(options.hidden_layers(), width), 1)
                             .context_features(lv.frame)
                             .activation(act)));
  }
}

int64_t HanImpl::sampling_calls() const {
  int64_t calls = 0;
  for (const auto& lv : levels_) calls += lv.cross;
  return calls;
}

torch::Tensor HanImpl::level_logits(size_t k, const torch::Tensor& s_flat) {
  const Level& lv = levels_[k];
  const int64_t n = s_flat.size(0);
  auto made = nets[k]->as<MADEImpl>();
  const auto x = s_flat.index_select(1, lv.cross_index.to(s_flat.device())).view({n * lv.blocks, lv.cross});
  torch::Tensor ctx;
  if (lv.frame > 0) ctx = s_flat.index_select(1, lv.frame_index.to(s_flat.device())).view({n * lv.blocks, lv.frame});
  return made->forward(x, ctx).view({n, lv.blocks * lv.cross});
}

torch::Tensor HanImpl::logits(const torch::Tensor& s_in) {
  const int64_t L = options.event_shape()[0];
  check_shape(s_in, {kAnyDim, L, L}, "s.sizes()", "(n, L, L) spins");
  const auto p = nets->parameters().front();
  const auto s = s_in.to(p.device(), p.scalar_type()).flatten(1);
  std::vector<torch::Tensor> parts;
  for (size_t k = 0; k < levels_.size(); ++k) parts.push_back(level_logits(k, s));
  // Concatenated in the drawing order; back to raster positions.
  return torch::cat(parts, 1).index_select(1, inverse_order_.to(s.device())).view({s.size(0), L, L});
}

torch::Tensor HanImpl::site_outputs(const torch::Tensor& s) { return logits(s).flatten(1).unsqueeze(-1); }

torch::Tensor HanImpl::log_prob(const torch::Tensor& s) {
  const auto p = nets->parameters().front();
  return site_log_prob(s.to(p.device(), p.scalar_type()), options.z2());
}

torch::Tensor HanImpl::sample(int64_t n) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  torch::NoGradGuard ng;
  const int64_t L = options.event_shape()[0];
  const auto p = nets->parameters().front();
  auto s = torch::zeros({n, L * L}, p.options());
  for (size_t k = 0; k < levels_.size(); ++k) {
    const Level& lv = levels_[k];
    auto made = nets[k]->as<MADEImpl>();
    torch::Tensor ctx;
    if (lv.frame > 0) ctx = s.index_select(1, lv.frame_index.to(s.device())).view({n * lv.blocks, lv.frame});
    // The frame's first-layer term once per level; each call then computes the hidden layers
    // and the one output it needs.
    const auto ctx_term = made->context_term(ctx);
    auto x = torch::zeros({n * lv.blocks, lv.cross}, p.options());
    for (int64_t d = 0; d < lv.cross; ++d) {
      const auto z = made->forward_feature(x, ctx_term, d);  // (n blocks, 1)
      x.select(1, d).copy_(autoregressive_site_sample("spin", z));
    }
    s.index_copy_(1, lv.cross_index.to(s.device()), x.view({n, lv.blocks * lv.cross}));
  }
  auto x = s.view({n, L, L});
  return options.z2() ? z2_random_flip(x) : x;
}

}  // namespace physgen
