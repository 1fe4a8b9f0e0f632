#include "physgen/data/toy2d.h"

#include <cmath>
#include <functional>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {
namespace {

constexpr double kPi = 3.14159265358979323846;

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// log sum_j v_j exp(-|x - c_j|^2 / (2 s^2)) - log(2 pi s^2): log of an isotropic gaussian
// mixture with log-weights log_v (K) (sum v = 1), x (n, 2), c (K, 2). Chunked so that the
// (chunk, K) intermediates stay near 2^20 elements (below glibc's mmap threshold cap).
torch::Tensor gaussian_mixture_log_prob(const torch::Tensor& x, const torch::Tensor& c,
                                        const torch::Tensor& log_v, double s) {
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 20) / c.size(0));
  const auto c2 = c.pow(2).sum(1).unsqueeze(0);  // (1, K)
  const auto ct = c.t().contiguous();
  const double inv = 1.0 / (2 * s * s);
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += chunk) {
    auto xi = x.slice(0, i, std::min(x.size(0), i + chunk));
    auto d2 = torch::addmm(xi.pow(2).sum(1, true) + c2, xi, ct, 1.0, -2.0).clamp_min(0.0);
    parts.push_back(torch::logsumexp(log_v.unsqueeze(0) - inv * d2, 1));
  }
  auto lse = parts.empty() ? torch::zeros({0}, x.options()) : torch::cat(parts);
  return lse - std::log(2 * kPi * s * s);
}

// Gauss-Legendre nodes and weights on [-1, 1] (Newton iteration on P_n).
void gauss_legendre(int n, std::vector<double>& nodes, std::vector<double>& weights) {
  nodes.assign(n, 0.0);
  weights.assign(n, 0.0);
  for (int i = 0; i < n; ++i) {
    double z = std::cos(kPi * (i + 0.75) / (n + 0.5)), dp = 1;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1, p1 = z;  // P_0, P_1; recurrence to P_n
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1);
      const double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-15) break;
    }
    nodes[i] = z;
    weights[i] = 2 / ((1 - z * z) * dp * dp);
  }
}

class EightGaussians : public ToyDensity {
 public:
  std::string name() const override { return "8gaussians"; }
  bool has_exact_log_prob() const override { return true; }

 protected:
  static torch::Tensor centres(const torch::TensorOptions& o = kF64) {
    auto a = torch::arange(8, o) * (2 * kPi / 8);
    return 2.0 * torch::stack({torch::cos(a), torch::sin(a)}, 1);
  }
  torch::Tensor sample_impl(int64_t n, c10::optional<at::Generator> g) const override {
    auto j = torch::randint(0, 8, {n}, g, torch::TensorOptions().dtype(torch::kLong));
    return centres().index_select(0, j) + kStd * torch::randn({n, 2}, g, kF64);
  }
  torch::Tensor log_prob_impl(const torch::Tensor& x) const override {
    auto log_v = torch::full({8}, -std::log(8.0), x.options());
    return gaussian_mixture_log_prob(x, centres(x.options()), log_v, kStd);
  }

 private:
  static constexpr double kStd = 0.1;
};

class Checkerboard : public ToyDensity {
 public:
  std::string name() const override { return "checkerboard"; }
  bool has_exact_log_prob() const override { return true; }

 protected:
  // Black cells (i, j), i + j even, as lower-left corners (-2 + i, -2 + j).
  static torch::Tensor corners() {
    std::vector<double> c;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j)
        if ((i + j) % 2 == 0) c.insert(c.end(), {-2.0 + i, -2.0 + j});
    return torch::tensor(c, kF64).view({8, 2});
  }
  torch::Tensor sample_impl(int64_t n, c10::optional<at::Generator> g) const override {
    auto j = torch::randint(0, 8, {n}, g, torch::TensorOptions().dtype(torch::kLong));
    return corners().index_select(0, j) + torch::rand({n, 2}, g, kF64);
  }
  torch::Tensor log_prob_impl(const torch::Tensor& x) const override {
    auto cell = torch::floor(x + 2.0);  // (n, 2), integer cell indices
    auto inside = ((cell >= 0) & (cell <= 3)).all(1);
    auto black = (cell.sum(1).remainder(2) == 0);
    auto lp = torch::full({x.size(0)}, -std::log(8.0), x.options());
    return torch::where(inside & black, lp, torch::full_like(lp, -INFINITY));
  }
};

class Rings : public ToyDensity {
 public:
  std::string name() const override { return "rings"; }
  bool has_exact_log_prob() const override { return true; }

 protected:
  static torch::Tensor radii(const torch::TensorOptions& o = kF64) {
    return torch::tensor({0.5, 1.0, 1.5, 2.0}, kF64).to(o.device());
  }
  torch::Tensor sample_impl(int64_t n, c10::optional<at::Generator> g) const override {
    auto r = radii();
    auto j = torch::multinomial(r / r.sum(), n, /*replacement=*/true, g);
    auto theta = torch::rand({n}, g, kF64) * (2 * kPi);
    auto rho = (r.index_select(0, j) + kStd * torch::randn({n}, g, kF64)).abs();
    return torch::stack({rho * torch::cos(theta), rho * torch::sin(theta)}, 1);
  }
  torch::Tensor log_prob_impl(const torch::Tensor& x) const override {
    auto rho = x.norm(2, 1).unsqueeze(1);  // (n, 1)
    auto r = radii(x.options()).unsqueeze(0);  // (1, 4)
    auto logw = torch::log(r / r.sum());
    auto z1 = (rho - r) / kStd, z2 = (rho + r) / kStd;
    auto terms = torch::cat({logw - 0.5 * z1 * z1, logw - 0.5 * z2 * z2}, 1);
    const double log_norm = std::log(kStd * std::sqrt(2 * kPi));  // normal density
    return torch::logsumexp(terms, 1) - log_norm - torch::log(2 * kPi * rho.squeeze(1));
  }

 private:
  static constexpr double kStd = 0.08;
};

class TwoMoons : public ToyDensity {
 public:
  std::string name() const override { return "two-moons"; }
  bool has_exact_log_prob() const override { return false; }

 protected:
  // Points on moon m at angle parameter t in [0, pi].
  static torch::Tensor arc(const torch::Tensor& t, const torch::Tensor& upper) {
    auto angle = torch::where(upper, t, t + kPi);
    auto cx = torch::where(upper, torch::full_like(t, -1.0), torch::full_like(t, 1.0));
    auto cy = torch::where(upper, torch::full_like(t, -0.5), torch::full_like(t, 0.5));
    return torch::stack({cx + kRadius * torch::cos(angle), cy + kRadius * torch::sin(angle)}, 1);
  }
  torch::Tensor sample_impl(int64_t n, c10::optional<at::Generator> g) const override {
    auto upper = torch::randint(0, 2, {n}, g, torch::TensorOptions().dtype(torch::kLong)) == 1;
    auto t = torch::rand({n}, g, kF64) * kPi;
    return arc(t, upper) + kStd * torch::randn({n, 2}, g, kF64);
  }
  torch::Tensor log_prob_impl(const torch::Tensor& x) const override {
    // (1/2) sum_moons (1/pi) int_0^pi N(x; arc(t), s^2) dt by composite Gauss-Legendre:
    // kPanels panels of kOrder nodes on [0, pi]; a mixture of 2 kPanels kOrder gaussians.
    std::vector<double> z, w;
    gauss_legendre(kOrder, z, w);
    std::vector<double> t, lv;
    const double width = kPi / kPanels;
    for (int p = 0; p < kPanels; ++p) {
      for (int i = 0; i < kOrder; ++i) {
        t.push_back(width * (p + 0.5 * (z[i] + 1)));
        lv.push_back(std::log(0.5 * w[i] * width / kPi * 0.5));  // (1/2)(1/pi)(width/2) w_i
      }
    }
    const auto k = static_cast<int64_t>(t.size());
    auto tt = torch::tensor(t, kF64).to(x.device());
    auto up = torch::ones({k}, x.options().dtype(torch::kBool));
    auto nodes = torch::cat({arc(tt, up), arc(tt, up.logical_not())});
    auto log_v = torch::tensor(lv, kF64).to(x.device()).repeat({2});
    return gaussian_mixture_log_prob(x, nodes, log_v, kStd);
  }

 private:
  static constexpr double kRadius = 2.0;
  static constexpr double kStd = 0.2;
  static constexpr int kPanels = 16;
  static constexpr int kOrder = 8;
};

const Registry<std::function<ToyDensityPtr()>>& registry() {
  static const auto r = [] {
    Registry<std::function<ToyDensityPtr()>> reg("toy density");
    reg.add("8gaussians", [] { return std::make_shared<EightGaussians>(); });
    reg.add("checkerboard", [] { return std::make_shared<Checkerboard>(); });
    reg.add("rings", [] { return std::make_shared<Rings>(); });
    reg.add("two-moons", [] { return std::make_shared<TwoMoons>(); });
    return reg;
  }();
  return r;
}

}  // namespace

torch::Tensor ToyDensity::sample(int64_t n, torch::Dtype dtype,
                                 c10::optional<at::Generator> generator) const {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  check_arg(dtype == torch::kFloat32 || dtype == torch::kFloat64, "dtype",
            std::string(c10::toString(dtype)), "float32 or float64");
  if (generator.has_value() && generator->defined()) {
    check_arg(generator->device().is_cpu(), "generator", generator->device().str(),
              "a CPU generator");
  } else {
    generator = c10::nullopt;
  }
  if (n == 0) return torch::zeros({0, 2}, torch::TensorOptions().dtype(dtype));
  torch::NoGradGuard no_grad;
  return sample_impl(n, generator).to(dtype);
}

torch::Tensor ToyDensity::log_prob(const torch::Tensor& x) const {
  check_arg(x.defined() && x.dim() == 2 && x.size(1) == 2, "x",
            x.defined() ? "a tensor of rank " + std::to_string(x.dim()) : std::string("undefined"),
            "shape (n, 2)");
  check_arg(x.is_floating_point(), "x", std::string(c10::toString(x.scalar_type())),
            "a floating dtype");
  return log_prob_impl(x.to(torch::kFloat64)).to(x.scalar_type());
}

ToyDensityPtr make_toy_density(const std::string& name) { return registry().get(name)(); }

std::vector<std::string> toy_density_names() { return registry().names(); }

}  // namespace physgen
