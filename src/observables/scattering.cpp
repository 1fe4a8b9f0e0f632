#include "physgen/observables/scattering.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

namespace {

constexpr double kPi = 3.14159265358979323846;

int64_t floor_log2(int64_t n) {
  int64_t lg = 0;
  while ((int64_t{1} << (lg + 1)) <= n) ++lg;
  return lg;
}

void check_bank_args(int64_t H, int64_t W, int64_t J, int64_t Lo) {
  check_arg(H >= 4 && W >= 4, "field shape", std::to_string(H) + " x " + std::to_string(W),
            "a 2-D field of at least 4 x 4 sites");
  const int64_t n = std::min(H, W);
  check_arg(J >= 1 && (int64_t{1} << J) <= n / 2, "J", J,
            "an integer >= 1 with 2^J <= min(H, W) / 2 = " + std::to_string(n / 2));
  check_arg(Lo >= 1 && Lo <= 16, "orientations", Lo, "an integer in [1, 16]");
}

/// 2 pi k / n in torch.fft order, float64.
torch::Tensor angular_frequencies(int64_t n) { return torch::fft::fftfreq(n, torch::kFloat64) * (2.0 * kPi); }

/// f(-w) on the DFT grid: index k -> (-k) mod n along the last two dimensions.
torch::Tensor reflect(const torch::Tensor& f) { return torch::roll(torch::flip(f, {-2, -1}), {1, 1}, {-2, -1}); }

/// sum over aliases n in {-2..2}^2 of exp(-sigma^2 (u_par^2 + u_perp^2 / s^2) / 2) with
/// u = w + 2 pi n - center, for the grid frequencies (w0, w1) (H, W) and direction (c, s_).
torch::Tensor aliased_gaussian(const torch::Tensor& w0, const torch::Tensor& w1, double sigma, double slant,
                               double cos_t, double sin_t, double c0, double c1) {
  auto total = torch::zeros_like(w0);
  for (int a = -2; a <= 2; ++a)
    for (int b = -2; b <= 2; ++b) {
      const auto u0 = w0 + 2.0 * kPi * a - c0, u1 = w1 + 2.0 * kPi * b - c1;
      const auto par = u0 * cos_t + u1 * sin_t, perp = -u0 * sin_t + u1 * cos_t;
      total += torch::exp(-0.5 * sigma * sigma * (par * par + perp * perp / (slant * slant)));
    }
  return total;
}

/// Index bookkeeping of the raw moments and the statistics (see scattering.h).
struct Layout {
  int64_t J, Lo;
  bool second_order;
  int64_t n_pairs_lt() const { return J * (J - 1) / 2; }   // j1 < j2
  int64_t n_pairs_le() const { return J * (J + 1) / 2; }   // j1 <= j2
  int64_t n_triples() const { return J * (J + 1) * (J + 2) / 6; }
  int64_t off_P() const { return 0; }
  int64_t off_A() const { return J; }
  int64_t off_S2() const { return 2 * J; }
  int64_t off_S3() const { return off_S2() + (second_order ? n_pairs_lt() : 0); }
  int64_t off_S4() const { return off_S3() + n_pairs_le() * Lo; }
  int64_t raw() const { return off_S4() + n_triples(); }
};

/// The statistics from (leave-one-block-out) means of the raw moments: (..., R) -> (..., K).
torch::Tensor statistics_of_means(const torch::Tensor& m, const Layout& lay) {
  const int64_t J = lay.J, Lo = lay.Lo;
  const auto P = m.narrow(-1, lay.off_P(), J), A = m.narrow(-1, lay.off_A(), J);
  std::vector<torch::Tensor> out{P, A, A / P.sqrt()};
  if (lay.second_order) {
    int64_t k = 0;
    for (int64_t j1 = 0; j1 < J; ++j1)
      for (int64_t j2 = j1 + 1; j2 < J; ++j2, ++k)
        out.push_back((m.select(-1, lay.off_S2() + k) / A.select(-1, j1)).unsqueeze(-1));
  }
  int64_t k = 0;
  for (int64_t j1 = 0; j1 < J; ++j1)
    for (int64_t j2 = j1; j2 < J; ++j2, ++k)
      out.push_back(m.narrow(-1, lay.off_S3() + k * Lo, Lo) / (P.select(-1, j1) * P.select(-1, j2)).sqrt().unsqueeze(-1));
  k = 0;
  for (int64_t j1 = 0; j1 < J; ++j1)
    for (int64_t j2 = j1; j2 < J; ++j2)
      for (int64_t j3 = j2; j3 < J; ++j3, ++k)
        out.push_back((m.select(-1, lay.off_S4() + k) / (P.select(-1, j1) * P.select(-1, j2)).sqrt()).unsqueeze(-1));
  return torch::cat(out, -1);
}

void statistic_names(const Layout& lay, std::vector<std::string>& names, std::vector<std::string>& groups) {
  const int64_t J = lay.J, Lo = lay.Lo;
  auto add = [&](const std::string& g, const std::string& idx) {
    names.push_back(g + "[" + idx + "]");
    groups.push_back(g);
  };
  auto s = [](int64_t v) { return std::to_string(v); };
  for (const char* g : {"power", "S1", "sparsity"})
    for (int64_t j = 0; j < J; ++j) add(g, "j=" + s(j));
  if (lay.second_order)
    for (int64_t j1 = 0; j1 < J; ++j1)
      for (int64_t j2 = j1 + 1; j2 < J; ++j2) add("S2", "j1=" + s(j1) + ",j2=" + s(j2));
  for (int64_t j1 = 0; j1 < J; ++j1)
    for (int64_t j2 = j1; j2 < J; ++j2)
      for (int64_t dl = 0; dl < Lo; ++dl) add("S3", "j1=" + s(j1) + ",j2=" + s(j2) + ",dl=" + s(dl));
  for (int64_t j1 = 0; j1 < J; ++j1)
    for (int64_t j2 = j1; j2 < J; ++j2)
      for (int64_t j3 = j2; j3 < J; ++j3) add("S4", "j1=" + s(j1) + ",j2=" + s(j2) + ",j3=" + s(j3));
}

}  // namespace

int64_t default_scattering_J(int64_t H, int64_t W) { return std::max<int64_t>(1, floor_log2(std::min(H, W)) - 2); }

MorletBank morlet_bank(int64_t H, int64_t W, int64_t J, int64_t Lo) {
  check_bank_args(H, W, J, Lo);
  MorletBank bank;
  bank.J = J;
  bank.orientations = Lo;
  bank.H = H;
  bank.W = W;
  const auto w0 = angular_frequencies(H).unsqueeze(1).expand({H, W}).contiguous();
  const auto w1 = angular_frequencies(W).unsqueeze(0).expand({H, W}).contiguous();
  // kymatio's slant 4 / Lo for Lo >= 4 (narrower across the direction as orientations get finer).
  const double slant = Lo <= 4 ? 1.0 : 4.0 / static_cast<double>(Lo);
  auto psi = torch::zeros({J, Lo, H, W}, torch::kFloat64);
  for (int64_t j = 0; j < J; ++j) {
    const double sigma = 0.8 * std::ldexp(1.0, static_cast<int>(j)), xi = 0.75 * kPi / std::ldexp(1.0, static_cast<int>(j));
    for (int64_t l = 0; l < Lo; ++l) {
      const double t = kPi * static_cast<double>(l) / static_cast<double>(Lo), c = std::cos(t), s = std::sin(t);
      const auto shifted = aliased_gaussian(w0, w1, sigma, slant, c, s, xi * c, xi * s);
      const auto centred = aliased_gaussian(w0, w1, sigma, slant, c, s, 0.0, 0.0);
      // beta makes the aliased filter vanish exactly at w = 0 (zero mean).
      const double beta = shifted[0][0].item<double>() / centred[0][0].item<double>();
      psi[j][l].copy_(shifted - beta * centred);
    }
  }
  const double sigma_J = 0.8 * std::ldexp(1.0, static_cast<int>(J));
  auto phi = aliased_gaussian(w0, w1, sigma_J, 1.0, 1.0, 0.0, 0.0, 0.0);
  phi = phi / phi[0][0];
  const auto lp = phi.square() + 0.5 * (psi.square() + reflect(psi).square()).sum(std::vector<int64_t>{0, 1});
  bank.lp_min = lp.min().item<double>();
  bank.lp_max = lp.max().item<double>();
  const auto norm = lp.rsqrt();
  bank.psi = psi * norm;
  bank.phi = phi * norm;
  return bank;
}

torch::Tensor littlewood_paley(const MorletBank& bank) {
  return bank.phi.square() + 0.5 * (bank.psi.square() + reflect(bank.psi).square()).sum(std::vector<int64_t>{0, 1});
}

torch::Tensor scattering_moments(const torch::Tensor& x_in, const MorletBank& bank, bool second_order, int64_t batch) {
  check_arg(x_in.dim() == 3 && x_in.size(1) == bank.H && x_in.size(2) == bank.W, "fields.sizes()",
            std::to_string(x_in.dim()) + "-d tensor", "(N, " + std::to_string(bank.H) + ", " + std::to_string(bank.W) + ")");
  check_arg(!x_in.is_complex(), "fields", "complex", "real fields");
  const auto ct = x_in.is_floating_point() && x_in.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  const int64_t J = bank.J, Lo = bank.orientations, H = bank.H, W = bank.W, V = H * W, N = x_in.size(0);
  const Layout lay{J, Lo, second_order};
  if (batch <= 0) batch = std::max<int64_t>(1, (int64_t{1} << 22) / (J * Lo * V));
  const auto dev = x_in.device();
  const auto F = bank.psi.to(dev, ct);               // (J, Lo, H, W)
  const auto F2 = F.square().reshape({J * Lo, V});   // |psi|^2
  const auto F2bar = F.square().mean(1).reshape({J, V});
  const double inv_V2 = 1.0 / (static_cast<double>(V) * static_cast<double>(V));
  std::vector<torch::Tensor> rows;
  torch::NoGradGuard ng;
  for (int64_t b0 = 0; b0 < N; b0 += batch) {
    const int64_t B = std::min(batch, N - b0);
    const auto x = x_in.narrow(0, b0, B).to(dev, ct);
    const auto xh = torch::fft::fft2(x);                                                  // (B, H, W)
    const auto Wc = torch::fft::ifft2(xh.unsqueeze(1).unsqueeze(1) * F);                 // (B, J, Lo, H, W)
    const auto M = Wc.abs();
    std::vector<torch::Tensor> cols;
    cols.push_back(M.square().mean(std::vector<int64_t>{-2, -1}).mean(2));  // P (B, J)
    cols.push_back(M.mean(std::vector<int64_t>{-2, -1}).mean(2));           // A (B, J)
    const auto Mh = torch::fft::fft2(M);                // (B, J, Lo, H, W)
    if (second_order) {
      for (int64_t j1 = 0; j1 < J; ++j1)
        for (int64_t j2 = j1 + 1; j2 < J; ++j2) {
          // The subgrid factor f = 2^max(j2-1, 0) (a divisor of H and W): periodising the
          // spectrum over f x f aliases gives the field at the subgrid's points exactly.
          int64_t f = int64_t{1} << std::max<int64_t>(j2 - 1, 0);
          while (f > 1 && (H % f != 0 || W % f != 0)) f /= 2;
          auto Y = Mh.select(1, j1).unsqueeze(2) * F.select(0, j2).unsqueeze(0).unsqueeze(0);  // (B, Lo, Lo, H, W)
          if (f > 1) Y = Y.reshape({B, Lo, Lo, f, H / f, f, W / f}).sum(std::vector<int64_t>{3, 5});
          const auto y = torch::fft::ifft2(Y).abs() / static_cast<double>(f * f);
          cols.push_back(y.mean(std::vector<int64_t>{-2, -1}).mean(std::vector<int64_t>{1, 2}).unsqueeze(1));  // (B, 1)
        }
    }
    {
      // S3: Re <conj(W_j2,l2) (M_j1,l1 * psi_j2,l2)> = Re sum_w conj(xh) Mh_j1,l1 |psi_j2,l2|^2 / V^2.
      const auto G = torch::real(torch::conj(xh).unsqueeze(1).unsqueeze(1) * Mh).reshape({B * J * Lo, V});
      const auto X = torch::matmul(G, F2.t()).reshape({B, J, Lo, J, Lo}) * inv_V2;  // [j1, l1, j2, l2]
      const auto ar = torch::arange(Lo, torch::TensorOptions().dtype(torch::kInt64).device(dev));
      for (int64_t j1 = 0; j1 < J; ++j1)
        for (int64_t j2 = j1; j2 < J; ++j2) {
          const auto Xj = X.select(1, j1).select(2, j2);  // (B, Lo l1, Lo l2)
          for (int64_t dl = 0; dl < Lo; ++dl) {
            const auto l1 = torch::remainder(ar + dl, Lo);
            cols.push_back(Xj.index({torch::indexing::Slice(), l1, ar}).mean(1).unsqueeze(1));
          }
        }
    }
    {
      // S4: Re sum_w conj(Mbar_j1) Mbar_j2 |psibar_j3|^2 / V^2, orientation-averaged envelopes.
      const auto Mbar = Mh.mean(2).reshape({B, J, V});
      for (int64_t j1 = 0; j1 < J; ++j1)
        for (int64_t j2 = j1; j2 < J; ++j2) {
          const auto G = torch::real(torch::conj(Mbar.select(1, j1)) * Mbar.select(1, j2));  // (B, V)
          const auto Y = torch::matmul(G, F2bar.t()) * inv_V2;                                 // (B, J) over j3
          cols.push_back(Y.narrow(1, j2, J - j2));
        }
    }
    rows.push_back(torch::cat(cols, 1).to(torch::kFloat64).cpu());
  }
  auto out = torch::cat(rows, 0);
  TORCH_CHECK(out.size(1) == lay.raw(), "scattering_moments: ", out.size(1), " columns, layout ", lay.raw());
  return out;
}

ScatteringStatistics scattering_statistics(const torch::Tensor& x, ScatteringOptions o) {
  check_arg(x.dim() == 3, "fields.sizes()", std::to_string(x.dim()) + "-d tensor", "an ensemble (N, H, W)");
  const int64_t N = x.size(0), H = x.size(1), W = x.size(2);
  if (o.J == 0) o.J = default_scattering_J(H, W);
  check_bank_args(H, W, o.J, o.orientations);
  check_arg(o.blocks >= 2, "blocks", o.blocks, "an integer >= 2 (jackknife blocks)");
  check_arg(N >= 2, "fields", N, "at least 2 fields (one per jackknife block)");
  check_arg(o.batch >= 0, "batch", o.batch, "an integer >= 0 (0: automatic)");
  const MorletBank bank = morlet_bank(H, W, o.J, o.orientations);
  const Layout lay{o.J, o.orientations, o.second_order};
  const auto m = scattering_moments(x, bank, o.second_order, o.batch);  // (N, R) float64
  const int64_t nb = std::min(o.blocks, N), bs = N / nb;
  const auto blocks = m.narrow(0, 0, nb * bs).reshape({nb, bs, m.size(1)}).mean(1);  // (nb, R)
  const auto total = blocks.mean(0);
  const auto loo = (total.unsqueeze(0) * static_cast<double>(nb) - blocks) / static_cast<double>(nb - 1);
  const auto f_all = statistics_of_means(total, lay);
  const auto f_loo = statistics_of_means(loo, lay);
  const auto err = ((f_loo - f_loo.mean(0)).square().sum(0) * (static_cast<double>(nb - 1) / nb)).sqrt();
  ScatteringStatistics s;
  s.J = o.J;
  s.orientations = o.orientations;
  s.n_fields = N;
  s.blocks = nb;
  statistic_names(lay, s.names, s.groups);
  const auto fa = f_all.contiguous(), fe = err.contiguous();
  s.mean.assign(fa.data_ptr<double>(), fa.data_ptr<double>() + fa.numel());
  s.error.assign(fe.data_ptr<double>(), fe.data_ptr<double>() + fe.numel());
  TORCH_CHECK(s.names.size() == s.mean.size(), "scattering: ", s.names.size(), " names for ", s.mean.size(), " statistics");
  return s;
}

nlohmann::json ScatteringStatistics::to_json() const {
  nlohmann::json stats = nlohmann::json::array();
  for (size_t k = 0; k < names.size(); ++k)
    stats.push_back({{"name", names[k]}, {"group", groups[k]}, {"mean", mean[k]}, {"error", error[k]}});
  return {{"J", J}, {"orientations", orientations}, {"n_fields", n_fields}, {"blocks", blocks}, {"statistics", stats}};
}

namespace {

/// Fraction of |z| < 2 and mean z^2 over the finite z-scores; their count.
struct ZSummary {
  int64_t n = 0;
  double within = 0, chi2 = 0;
  void add(double z) {
    if (!std::isfinite(z)) return;
    ++n;
    within += std::abs(z) < 2.0 ? 1.0 : 0.0;
    chi2 += z * z;
  }
  double fraction() const { return n > 0 ? within / static_cast<double>(n) : 0.0; }
  double chi2_per_dof() const { return n > 0 ? chi2 / static_cast<double>(n) : 0.0; }
};

}  // namespace

EnsembleComparison compare_scattering(const ScatteringStatistics& a, const ScatteringStatistics& b) {
  check_arg(a.names == b.names, "statistics", "J " + std::to_string(b.J) + ", orientations " + std::to_string(b.orientations),
            "the same statistics as the first ensemble (J " + std::to_string(a.J) + ", orientations " +
                std::to_string(a.orientations) + "; same field shape)");
  EnsembleComparison c;
  c.a = a;
  c.b = b;
  ZSummary all;
  for (size_t k = 0; k < a.names.size(); ++k) {
    const double e = std::hypot(a.error[k], b.error[k]);
    c.z.push_back(e > 0 && std::isfinite(e) ? (a.mean[k] - b.mean[k]) / e : std::nan(""));
    all.add(c.z.back());
  }
  c.n_statistics = all.n;
  c.fraction_within_2sigma = all.fraction();
  c.chi2_per_dof = all.chi2_per_dof();
  return c;
}

nlohmann::json EnsembleComparison::to_json() const {
  nlohmann::json stats = nlohmann::json::array();
  std::map<std::string, ZSummary> by_group;
  for (size_t k = 0; k < z.size(); ++k) {
    nlohmann::json row{{"name", a.names[k]},
                       {"group", a.groups[k]},
                       {"a", {{"mean", a.mean[k]}, {"error", a.error[k]}}},
                       {"b", {{"mean", b.mean[k]}, {"error", b.error[k]}}}};
    row["z"] = std::isfinite(z[k]) ? nlohmann::json(z[k]) : nlohmann::json(nullptr);
    stats.push_back(row);
    by_group[a.groups[k]].add(z[k]);
  }
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& [g, zs] : by_group)
    if (zs.n > 0)
      groups[g] = {{"n_statistics", zs.n}, {"fraction_within_2sigma", zs.fraction()}, {"chi2_per_dof", zs.chi2_per_dof()}};
  return {{"n_statistics", n_statistics},
          {"fraction_within_2sigma", fraction_within_2sigma},
          {"chi2_per_dof", chi2_per_dof},
          {"J", a.J},
          {"orientations", a.orientations},
          {"n_fields", {a.n_fields, b.n_fields}},
          {"blocks", {a.blocks, b.blocks}},
          {"groups", groups},
          {"statistics", stats}};
}

}  // namespace physgen
