#include "physgen/ising_machines/coloured_sampler.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <numeric>

#include "physgen/core/check.h"

namespace physgen {

std::vector<int32_t> greedy_coloring(const IsingProblem& p) {
  const int64_t n = p.n;
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return p.row_ptr[a + 1] - p.row_ptr[a] > p.row_ptr[b + 1] - p.row_ptr[b];
  });
  std::vector<int32_t> colour(n, -1);
  std::vector<int64_t> used_by(n + 1, -1);  // used_by[c] == i: colour c is taken by a neighbour of i
  for (int32_t i : order) {
    for (int64_t k = p.row_ptr[i]; k < p.row_ptr[i + 1]; ++k) {
      const int32_t c = colour[p.col[k]];
      if (c >= 0) used_by[c] = i;
    }
    int32_t c = 0;
    while (used_by[c] == i) ++c;
    colour[i] = c;
  }
  return colour;
}

bool prefers_dense_couplings(const IsingProblem& p) {
  const double density = p.n > 1 ? double(p.col.size()) / double(p.n * (p.n - 1)) : 0.0;
  return p.n <= 256 || density > 0.05;  // sparse products win below ~5% filling
}

namespace {
torch::Generator generator_for(torch::Device device, uint64_t seed) {
  if (device.is_cpu()) return torch::make_generator<at::CPUGeneratorImpl>(seed);
  torch::Generator g = at::globalContext().defaultGenerator(device).clone();
  g.set_current_seed(seed);
  return g;
}
}  // namespace

ColouredSpinSampler::ColouredSpinSampler(const IsingProblem& p, int64_t chains, uint64_t seed, torch::Device device)
    : p_(&p), chains_(chains), device_(device), gen_(generator_for(device, seed)), order_rng_(seed, 1u << 20) {
  p.validate();
  check_arg(chains >= 1, "chains", chains, "at least 1");
  const int64_t n = p.n;
  // two (n, chains) float64 tensors (spins, fields) and a best copy in the solvers
  const double bytes = 24.0 * double(n) * double(chains);
  check_arg(bytes < 16e9, "chains", chains, "a state that fits in 16 GB (" + std::to_string(bytes / 1e9) + " GB asked)");
  dense_ = prefers_dense_couplings(p);
  torch::NoGradGuard no_grad;
  const torch::Tensor Jcpu = dense_ ? p.dense_couplings() : p.sparse_couplings(torch::kFloat64);
  J_ = Jcpu.to(device);
  h_ = p.fields(torch::kFloat64).to(device).unsqueeze(1);
  const std::vector<int32_t> colour = greedy_coloring(p);
  const int32_t k = n > 0 ? *std::max_element(colour.begin(), colour.end()) + 1 : 0;
  std::vector<std::vector<int64_t>> members(k);
  for (int64_t i = 0; i < n; ++i) members[colour[i]].push_back(i);
  for (const auto& m : members) {
    torch::Tensor idx = torch::tensor(m, torch::kInt64);
    classes_.push_back(idx.to(device));
    if (dense_) {
      columns_.push_back(Jcpu.index_select(1, idx).contiguous().to(device));  // J symmetric: columns = rows
    } else {
      // J[:, class] as a sparse (n, |class|) matrix: entry (j, a) = J_{m[a], j}
      std::vector<int64_t> r, c;
      std::vector<double> v;
      for (size_t a = 0; a < m.size(); ++a)
        for (int64_t q = p.row_ptr[m[a]]; q < p.row_ptr[m[a] + 1]; ++q) {
          r.push_back(p.col[q]);
          c.push_back(static_cast<int64_t>(a));
          v.push_back(p.J[q]);
        }
      const auto i64 = torch::TensorOptions().dtype(torch::kInt64);
      torch::Tensor ind = r.empty() ? torch::zeros({2, 0}, i64)
                                    : torch::stack({torch::tensor(r, i64), torch::tensor(c, i64)});
      torch::Tensor val = v.empty() ? torch::zeros({0}, torch::kFloat64) : torch::tensor(v, torch::kFloat64);
      columns_.push_back(
          torch::sparse_coo_tensor(ind, val, {n, static_cast<int64_t>(m.size())}).coalesce().to(device));
    }
  }
  order_.resize(classes_.size());
  std::iota(order_.begin(), order_.end(), 0);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  s_ = torch::randint(0, 2, {n, chains}, gen_, f64) * 2 - 1;
  refresh();
}

void ColouredSpinSampler::refresh() {
  torch::NoGradGuard no_grad;
  f_ = torch::mm(J_, s_) + h_;
  // E = -1/2 s.J s - h.s = -1/2 s.(f + h)
  e_ = -0.5 * (s_ * (f_ + h_)).sum(0);
}

void ColouredSpinSampler::sweep(double beta, bool heatbath) {
  sweep(torch::full({1}, beta, torch::TensorOptions().dtype(torch::kFloat64).device(device_)), heatbath);
}

void ColouredSpinSampler::sweep(const torch::Tensor& beta_in, bool heatbath) {
  torch::NoGradGuard no_grad;
  check_arg(beta_in.numel() == 1 || beta_in.numel() == chains_, "beta", beta_in.sizes(),
            "a scalar or one inverse temperature per chain (" + std::to_string(chains_) + ")");
  const torch::Tensor beta = beta_in.to(device_, torch::kFloat64).reshape({1, -1});
  for (int64_t k = colours() - 1; k > 0; --k) std::swap(order_[k], order_[order_rng_.below(k + 1)]);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device_);
  for (int64_t q = 0; q < colours(); ++q) {
    const int64_t c = order_[q];
    const torch::Tensor& idx = classes_[c];
    const torch::Tensor s = s_.index_select(0, idx);  // (m, B)
    const torch::Tensor dE = 2.0 * s * f_.index_select(0, idx);
    const torch::Tensor u = torch::rand(s.sizes(), gen_, f64);
    const torch::Tensor accept = heatbath ? u * (1.0 + torch::exp(beta * dE)) < 1.0
                                          : (dE <= 0.0).logical_or(u < torch::exp(-beta * dE));
    const torch::Tensor delta = torch::where(accept, -2.0 * s, torch::zeros_like(s));  // new - old
    s_.index_add_(0, idx, delta);
    e_.add_(torch::where(accept, dE, torch::zeros_like(dE)).sum(0));
    f_.add_(torch::mm(columns_[c], delta));
  }
}

}  // namespace physgen
