#include "physgen/eval/memorization.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

bool has_z2_symmetry(const std::string& system) { return system == "ising" || system == "phi4"; }


torch::Tensor point_group_images(const torch::Tensor& x) {
  check_arg(x.dim() == 3, "fields.sizes()", std::to_string(x.dim()) + "-d tensor", "fields (N, H, W)");
  std::vector<torch::Tensor> images{x, torch::flip(x, {1}), torch::flip(x, {2}), torch::flip(x, {1, 2})};
  if (x.size(1) == x.size(2)) {
    const auto t = x.transpose(1, 2);
    // The transpose and its compositions with the three above: the 90-degree rotations and
    // the anti-diagonal reflection.
    images.insert(images.end(), {t, torch::flip(t, {1}), torch::flip(t, {2}), torch::flip(t, {1, 2})});
  }
  return torch::stack(images, 0).contiguous();
}

torch::Tensor NearestNeighbours::ratio() const {
  return torch::where(d2 > 0, d1 / d2, torch::zeros_like(d1));
}

NearestNeighbours nearest_training_fields(const torch::Tensor& generated, const torch::Tensor& train, SymmetryOptions sym,
                                          int64_t batch) {
  check_arg(train.dim() == 3 && train.size(0) >= 1, "train.sizes()", std::to_string(train.dim()) + "-d tensor",
            "training fields (N, H, W), N >= 1");
  check_arg(generated.dim() == 3 && generated.size(1) == train.size(1) && generated.size(2) == train.size(2),
            "generated.sizes()", std::to_string(generated.dim()) + "-d tensor",
            "fields (G, " + std::to_string(train.size(1)) + ", " + std::to_string(train.size(2)) + ") like the training set");
  check_arg(batch >= 0, "batch", batch, "an integer >= 0 (0: automatic)");
  const auto ct = generated.scalar_type() == torch::kFloat64 && train.scalar_type() == torch::kFloat64 ? torch::kFloat64
                                                                                                       : torch::kFloat32;
  const int64_t G = generated.size(0), N = train.size(0), H = train.size(1), W = train.size(2), V = H * W;
  const auto dev = generated.device();
  const auto g_all = generated.to(dev, ct);
  const auto t_all = train.to(dev, ct);
  const auto g_n2 = g_all.to(torch::kFloat64).square().sum({1, 2});  // (G)
  const auto t_n2 = t_all.to(torch::kFloat64).square().sum({1, 2});  // (N)
  const double inf = std::numeric_limits<double>::infinity();
  auto best_d2 = torch::full({G, 2}, inf, torch::TensorOptions().dtype(torch::kFloat64).device(dev));
  auto best_i = torch::full({G, 2}, -1, torch::TensorOptions().dtype(torch::kInt64).device(dev));
  if (batch <= 0) batch = std::max<int64_t>(1, std::min<int64_t>(G, 64));
  // Training chunk: ~2^24 correlation values per (generated batch, chunk, image).
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 24) / (batch * (sym.translations ? V : 1)));
  torch::NoGradGuard ng;
  for (int64_t i0 = 0; i0 < N; i0 += chunk) {
    const int64_t Nc = std::min(chunk, N - i0);
    const auto tc = t_all.narrow(0, i0, Nc);
    const auto images = sym.point_group ? point_group_images(tc) : tc.unsqueeze(0);  // (P, Nc, H, W)
    const int64_t P = images.size(0);
    torch::Tensor FT;
    if (sym.translations) FT = torch::conj(torch::fft::rfft2(images));  // (P, Nc, H, W/2+1)
    for (int64_t b0 = 0; b0 < G; b0 += batch) {
      const int64_t B = std::min(batch, G - b0);
      const auto g = g_all.narrow(0, b0, B);
      torch::Tensor score;  // (B, Nc): max over images, shifts (and sign) of the correlation
      if (sym.translations) {
        const auto Fg = torch::fft::rfft2(g).unsqueeze(1);  // (B, 1, H, W/2+1)
        for (int64_t p = 0; p < P; ++p) {
          auto c = torch::fft::irfft2(Fg * FT[p].unsqueeze(0), std::vector<int64_t>{H, W});  // (B, Nc, H, W)
          if (sym.z2) c = c.abs();
          const auto m = c.flatten(2).amax(2);
          score = p == 0 ? m : torch::maximum(score, m);
        }
      } else {
        const auto gf = g.reshape({B, V});
        for (int64_t p = 0; p < P; ++p) {
          auto c = torch::matmul(gf, images[p].reshape({Nc, V}).t());
          if (sym.z2) c = c.abs();
          score = p == 0 ? c : torch::maximum(score, c);
        }
      }
      const auto d2 = (g_n2.narrow(0, b0, B).unsqueeze(1) + t_n2.narrow(0, i0, Nc).unsqueeze(0) -
                       2.0 * score.to(torch::kFloat64))
                          .clamp_min(0.0);
      const auto idx = torch::arange(i0, i0 + Nc, best_i.options()).unsqueeze(0).expand({B, Nc});
      const auto all_d2 = torch::cat({best_d2.narrow(0, b0, B), d2}, 1);
      const auto all_i = torch::cat({best_i.narrow(0, b0, B), idx}, 1);
      const auto top = torch::topk(all_d2, std::min<int64_t>(2, all_d2.size(1)), 1, /*largest=*/false, /*sorted=*/true);
      best_d2.narrow(0, b0, B).narrow(1, 0, std::get<0>(top).size(1)).copy_(std::get<0>(top));
      best_i.narrow(0, b0, B).narrow(1, 0, std::get<1>(top).size(1)).copy_(all_i.gather(1, std::get<1>(top)));
    }
  }
  NearestNeighbours nn;
  nn.d1 = best_d2.select(1, 0).sqrt().cpu();
  nn.d2 = best_d2.select(1, 1).sqrt().cpu();
  nn.index1 = best_i.select(1, 0).cpu();
  nn.index2 = best_i.select(1, 1).cpu();
  return nn;
}

MemorizationReport memorization_report(const NearestNeighbours& nn, double threshold) {
  check_arg(threshold > 0 && threshold <= 1, "threshold", threshold, "a ratio in (0, 1]");
  MemorizationReport r;
  r.n = nn.d1.numel();
  r.threshold = threshold;
  if (r.n == 0) return r;
  const auto ratio = nn.ratio().to(torch::kFloat64);
  r.memorized_fraction = (ratio < threshold).to(torch::kFloat64).mean().item<double>();
  r.error = std::sqrt(r.memorized_fraction * (1.0 - r.memorized_fraction) / static_cast<double>(r.n));
  const auto q = torch::quantile(ratio, torch::tensor({0.1, 0.5, 0.9}, torch::kFloat64));
  r.ratio_p10 = q[0].item<double>();
  r.ratio_median = q[1].item<double>();
  r.ratio_p90 = q[2].item<double>();
  return r;
}

nlohmann::json MemorizationReport::to_json() const {
  return {{"n", n},
          {"threshold", threshold},
          {"memorized_fraction", {{"mean", memorized_fraction}, {"error", error}}},
          {"ratio_d1_d2", {{"p10", ratio_p10}, {"median", ratio_median}, {"p90", ratio_p90}}}};
}

torch::Tensor mean_removed_cosine_similarity(const torch::Tensor& a, const torch::Tensor& b) {
  check_arg(a.sizes() == b.sizes() && a.dim() >= 2, "b.sizes()", std::to_string(b.dim()) + "-d tensor",
            "paired fields of the same shape as a (G, ...)");
  auto x = a.to(torch::kFloat64).flatten(1), y = b.to(torch::kFloat64).flatten(1);
  x = x - x.mean(1, true);
  y = y - y.mean(1, true);
  return (x * y).sum(1) / (x.norm(2, 1) * y.norm(2, 1));
}

}  // namespace physgen
