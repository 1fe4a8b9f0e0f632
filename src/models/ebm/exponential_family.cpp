#include "physgen/models/ebm/exponential_family.h"

#include <cmath>
#include <functional>
#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/lattice/neighbours.h"

namespace physgen {

namespace {

void check_lattice(const torch::Tensor& x, const char* name) {
  check_arg(x.dim() == 3 && x.size(1) == x.size(2) && x.size(1) >= 2 && x.size(0) >= 1, name,
            detail::to_display(x.sizes()), "a non-empty ensemble (N, L, L) with L >= 2");
}

/// Per-block sums of the log pseudo-likelihood, its gradient and Hessian at theta.
struct BlockSums {
  torch::Tensor value;  // (nb)
  torch::Tensor grad;   // (nb, P)
  torch::Tensor hess;   // (nb, P, P)
};

/// A pseudo-likelihood over sites: evaluates the block sums at theta.
using SiteObjective = std::function<BlockSums(const std::vector<double>& theta)>;

/// Per-site arrays, flattened, with the block of each site.
struct Sites {
  torch::Tensor x, h, block;  // (S) float64, float64, long
  int64_t n_blocks = 0;
  int64_t count = 0;
};

Sites make_sites(const torch::Tensor& cfg, int64_t n_blocks) {
  Sites s;
  const int64_t N = cfg.size(0), V = cfg.size(1) * cfg.size(2);
  s.x = cfg.reshape({-1});
  s.h = neighbour_sum(cfg).reshape({-1});
  auto config_block = torch::div(torch::arange(N, torch::kLong) * n_blocks, N, "floor");
  s.block = config_block.repeat_interleave(V);
  s.n_blocks = n_blocks;
  s.count = N * V;
  return s;
}

torch::Tensor block_sum(const torch::Tensor& per_site, const Sites& s) {
  std::vector<int64_t> shape{s.n_blocks};
  for (int64_t d = 1; d < per_site.dim(); ++d) shape.push_back(per_site.size(d));
  return torch::zeros(shape, per_site.options()).index_add_(0, s.block, per_site);
}

// ---------------------------------------------------------------- phi^4 conditional

constexpr int64_t kChunk = 8192;

/// theta = (m2, lambda). Conditional density of t = phi_x given h: exp(-(a t^2 - 2 h t + lambda t^4)).
BlockSums phi4_blocks(const Sites& s, const std::vector<double>& theta, const torch::Tensor& grid, double log_dt) {
  const double a = 4.0 + theta[0], lam = theta[1];
  auto t2 = grid.pow(2), t4 = t2.pow(2);
  auto base = -(a * t2 + lam * t4);  // (G)
  std::vector<torch::Tensor> values, grads, hesses;
  for (int64_t i = 0; i < s.count; i += kChunk) {
    const int64_t n = std::min(kChunk, s.count - i);
    auto x = s.x.narrow(0, i, n), h = s.h.narrow(0, i, n);
    auto logw = base.unsqueeze(0) + 2.0 * h.unsqueeze(1) * grid.unsqueeze(0);  // (n, G)
    auto log_z = torch::logsumexp(logw, 1) + log_dt;
    auto p = torch::softmax(logw, 1);
    auto m2 = (p * t2).sum(1), m4 = (p * t4).sum(1);
    auto m6 = (p * t2 * t4).sum(1), m8 = (p * t4 * t4).sum(1);
    auto x2 = x.pow(2), x4 = x2.pow(2);
    values.push_back(-(a * x2 - 2.0 * h * x + lam * x4) - log_z);
    grads.push_back(torch::stack({m2 - x2, m4 - x4}, 1));
    auto v22 = m4 - m2 * m2, v24 = m6 - m2 * m4, v44 = m8 - m4 * m4;
    hesses.push_back(-torch::stack({v22, v24, v24, v44}, 1).view({n, 2, 2}));
  }
  return {block_sum(torch::cat(values), s), block_sum(torch::cat(grads), s), block_sum(torch::cat(hesses), s)};
}

torch::Tensor phi4_grid(const torch::Tensor& x, int64_t points, double* log_dt) {
  const double R = 2.0 * x.abs().max().item<double>() + 1.0;
  auto grid = torch::linspace(-R, R, points, torch::kFloat64);
  *log_dt = std::log(2.0 * R / static_cast<double>(points - 1));
  return grid;
}

// ---------------------------------------------------------------- Ising conditional

/// theta = (beta) or (beta, B = beta h).
BlockSums ising_blocks(const Sites& s, const std::vector<double>& theta) {
  const bool field = theta.size() == 2;
  const double beta = theta[0], B = field ? theta[1] : 0.0;
  auto u = beta * s.h + B;
  auto log2cosh = torch::abs(u) + torch::log1p(torch::exp(-2.0 * torch::abs(u)));
  auto value = beta * s.x * s.h + B * s.x - log2cosh;
  auto th = torch::tanh(u);
  auto w = -(1 - th * th);
  torch::Tensor grad, hess;
  if (field) {
    grad = torch::stack({s.x * s.h - s.h * th, s.x - th}, 1);
    hess = torch::stack({w * s.h * s.h, w * s.h, w * s.h, w}, 1).view({-1, 2, 2});
  } else {
    grad = (s.x * s.h - s.h * th).unsqueeze(1);
    hess = (w * s.h * s.h).view({-1, 1, 1});
  }
  return {block_sum(value, s), block_sum(grad, s), block_sum(hess, s)};
}

// -------------------------------------------------------------------- Newton driver

struct NewtonResult {
  std::vector<double> theta;
  bool converged = false;
  int64_t iterations = 0;
  double value = 0;
  std::string message;
};

torch::Tensor to_tensor(const std::vector<double>& v) { return torch::tensor(v, torch::kFloat64); }
std::vector<double> to_vector(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

/// Maximises the block-summed objective excluding block `skip` (-1: none).
NewtonResult newton(const SiteObjective& f, std::vector<double> theta, int64_t skip, int64_t max_iterations,
                    double tolerance) {
  auto reduce = [&](const BlockSums& b, torch::Tensor& v, torch::Tensor& g, torch::Tensor& H) {
    v = b.value.sum();
    g = b.grad.sum(0);
    H = b.hess.sum(0);
    if (skip >= 0) {
      v = v - b.value[skip];
      g = g - b.grad[skip];
      H = H - b.hess[skip];
    }
  };
  NewtonResult r;
  torch::Tensor v, g, H;
  reduce(f(theta), v, g, H);
  for (r.iterations = 1; r.iterations <= max_iterations; ++r.iterations) {
    auto step = -torch::linalg_solve(H, g.unsqueeze(1)).squeeze(1);
    if (!torch::isfinite(step).all().item<bool>()) {
      r.message = "singular or non-finite Hessian";
      break;
    }
    double scale = 1.0;
    std::vector<double> trial;
    torch::Tensor v_new, g_new, H_new;
    for (int halvings = 0; halvings < 40; ++halvings, scale *= 0.5) {
      trial = to_vector(to_tensor(theta) + scale * step);
      reduce(f(trial), v_new, g_new, H_new);
      if (std::isfinite(v_new.item<double>()) &&
          v_new.item<double>() >= v.item<double>() - 1e-12 * std::abs(v.item<double>()))
        break;
    }
    const double size = (scale * step).abs().max().item<double>();
    theta = trial;
    v = v_new;
    g = g_new;
    H = H_new;
    if (size < tolerance) {
      r.converged = true;
      break;
    }
  }
  if (!r.converged && r.message.empty())
    r.message = "no convergence in " + std::to_string(max_iterations) + " Newton iterations";
  r.iterations = std::min(r.iterations, max_iterations);
  r.theta = theta;
  r.value = v.item<double>();
  return r;
}

CouplingFit run_fit(const SiteObjective& f, const std::vector<std::string>& names, std::vector<double> theta0,
                    const CouplingFitOptions& o, int64_t n_configs, int64_t n_sites, const std::string& system) {
  CouplingFit fit;
  fit.system = system;
  fit.n_configurations = n_configs;
  fit.n_blocks = o.n_blocks();
  auto full = newton(f, std::move(theta0), -1, o.max_iterations(), o.tolerance());
  fit.converged = full.converged;
  fit.iterations = full.iterations;
  fit.message = full.message;
  fit.log_pseudo_likelihood = full.value / static_cast<double>(n_sites);
  const int64_t nb = o.n_blocks(), P = static_cast<int64_t>(names.size());
  auto est = torch::empty({nb, P}, torch::kFloat64);
  if (o.jackknife_refit()) {
    for (int64_t j = 0; j < nb; ++j)
      est[j] = to_tensor(newton(f, full.theta, j, o.max_iterations(), o.tolerance()).theta);
  } else {
    auto b = f(full.theta);
    auto G = b.grad.sum(0), H = b.hess.sum(0);
    auto th = to_tensor(full.theta);
    for (int64_t j = 0; j < nb; ++j)
      est[j] = th - torch::linalg_solve(H - b.hess[j], (G - b.grad[j]).unsqueeze(1)).squeeze(1);
  }
  auto mean = est.mean(0);
  auto err = ((est - mean).pow(2).sum(0) * (static_cast<double>(nb - 1) / nb)).sqrt();
  for (int64_t p = 0; p < P; ++p)
    fit.couplings.push_back({names[p], full.theta[p], err[p].item<double>()});
  return fit;
}

}  // namespace

// --------------------------------------------------------------------- statistics

torch::Tensor phi4_statistics(const torch::Tensor& phi) {
  check_lattice(phi, "phi");
  auto x = phi.to(torch::kFloat64);
  auto kinetic = (torch::roll(x, {1}, {1}) - x).pow(2).sum({1, 2}) + (torch::roll(x, {1}, {2}) - x).pow(2).sum({1, 2});
  auto x2 = x.pow(2);
  return torch::stack({kinetic, x2.sum({1, 2}), x2.pow(2).sum({1, 2})}, 1);
}

torch::Tensor ising_statistics(const torch::Tensor& s) {
  check_lattice(s, "s");
  auto x = s.to(torch::kFloat64);
  auto bonds = (x * torch::roll(x, {1}, {1})).sum({1, 2}) + (x * torch::roll(x, {1}, {2})).sum({1, 2});
  return torch::stack({bonds, x.sum({1, 2})}, 1);
}

// ------------------------------------------------------------------------ fitting

void CouplingFitOptions::validate() const {
  check_arg(n_blocks_ >= 2, "n_blocks", n_blocks_, "an integer >= 2");
  check_arg(max_iterations_ >= 1, "max_iterations", max_iterations_, "an integer >= 1");
  check_arg(tolerance_ > 0, "tolerance", tolerance_, "a number > 0");
  check_arg(quadrature_points_ >= 16, "quadrature_points", quadrature_points_, "an integer >= 16");
  check_arg(std::isfinite(init_m2_), "init_m2", init_m2_, "a finite number");
  check_arg(std::isfinite(init_lambda_), "init_lambda", init_lambda_, "a finite number");
}

const FittedCoupling& CouplingFit::get(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& c : couplings) {
    if (c.name == name) return c;
    names.push_back(c.name);
  }
  check_choice("coupling", name, names);
  return couplings.front();  // unreachable
}

nlohmann::json CouplingFit::to_json() const {
  nlohmann::json c = nlohmann::json::object();
  for (const auto& k : couplings) c[k.name] = {{"value", k.value}, {"error", k.error}};
  return {{"system", system},
          {"method", method},
          {"couplings", c},
          {"converged", converged},
          {"iterations", iterations},
          {"log_pseudo_likelihood", log_pseudo_likelihood},
          {"n_configurations", n_configurations},
          {"n_blocks", n_blocks},
          {"message", message}};
}

CouplingFit fit_couplings(const torch::Tensor& ensemble, const std::string& system, const CouplingFitOptions& o) {
  o.validate();
  check_choice("system", system, {"phi4", "ising"});
  check_lattice(ensemble, "ensemble");
  check_arg(ensemble.size(0) >= o.n_blocks(), "ensemble", detail::to_display(ensemble.sizes()),
            "at least n_blocks = " + std::to_string(o.n_blocks()) + " configurations");
  torch::NoGradGuard no_grad;
  auto cfg = ensemble.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  Sites sites = make_sites(cfg, o.n_blocks());
  if (system == "ising") {
    check_arg(cfg.abs().eq(1.0).all().item<bool>(), "ensemble", "(values other than +-1)", "Ising spins +-1");
    SiteObjective f = [&](const std::vector<double>& th) { return ising_blocks(sites, th); };
    std::vector<std::string> names{"beta"};
    std::vector<double> theta0{0.1};
    if (o.fit_field()) {
      names.push_back("beta_h");
      theta0.push_back(0.0);
    }
    return run_fit(f, names, theta0, o, cfg.size(0), sites.count, system);
  }
  check_arg(ensemble.is_floating_point(), "ensemble", ensemble.dtype(), "a floating phi^4 ensemble");
  double log_dt = 0;
  auto grid = phi4_grid(cfg, o.quadrature_points(), &log_dt);
  SiteObjective f = [&](const std::vector<double>& th) { return phi4_blocks(sites, th, grid, log_dt); };
  return run_fit(f, {"m2", "lambda"}, {o.init_m2(), o.init_lambda()}, o, cfg.size(0), sites.count, system);
}

double phi4_log_pseudo_likelihood(const torch::Tensor& phi, double m2, double lambda, int64_t quadrature_points) {
  check_lattice(phi, "phi");
  check_arg(quadrature_points >= 16, "quadrature_points", quadrature_points, "an integer >= 16");
  torch::NoGradGuard no_grad;
  auto cfg = phi.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  Sites sites = make_sites(cfg, 1);
  double log_dt = 0;
  auto grid = phi4_grid(cfg, quadrature_points, &log_dt);
  return phi4_blocks(sites, {m2, lambda}, grid, log_dt).value.sum().item<double>() / sites.count;
}

double ising_log_pseudo_likelihood(const torch::Tensor& s, double beta, double beta_h) {
  check_lattice(s, "s");
  torch::NoGradGuard no_grad;
  auto cfg = s.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  Sites sites = make_sites(cfg, 1);
  return ising_blocks(sites, {beta, beta_h}).value.sum().item<double>() / sites.count;
}

}  // namespace physgen
