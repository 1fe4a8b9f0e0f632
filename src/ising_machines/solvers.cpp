#include "physgen/ising_machines/solvers.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "physgen/core/check.h"
#include "physgen/ising_machines/coloured_sampler.h"

namespace physgen {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Local fields f_i = sum_j J_ij s_j + h_i of one configuration.
void compute_fields(const IsingProblem& p, const int8_t* s, double* f) {
  for (int64_t i = 0; i < p.n; ++i) {
    double v = p.h[i];
    for (int64_t k = p.row_ptr[i]; k < p.row_ptr[i + 1]; ++k) v += p.J[k] * s[p.col[k]];
    f[i] = v;
  }
}

/// One single-spin sweep at inverse temperature beta, visiting the n sites in a fresh random
/// order (`order`: n indices, reshuffled here); returns the energy change. Metropolis: flip
/// with min(1, exp(-beta dE)); heat-bath: with 1 / (1 + exp(beta dE)), dE = 2 s_i f_i. The
/// fields of the neighbours follow every flip. (A fixed order is not used: Metropolis accepts
/// every dE = 0 move, so a fixed order drags zero-cost domain walls along in lockstep and
/// they never meet; on a 12-site antiferromagnetic ring all 16 SA replicas froze at cut 10.)
double sweep_spins(const IsingProblem& p, int8_t* s, double* f, double beta, bool heatbath, Xoshiro256pp& rng,
                   int32_t* order) {
  double dE_total = 0.0;
  const int64_t* rp = p.row_ptr.data();
  const int32_t* col = p.col.data();
  const double* J = p.J.data();
  for (int64_t k = p.n - 1; k > 0; --k) std::swap(order[k], order[rng.below(k + 1)]);
  for (int64_t o = 0; o < p.n; ++o) {
    const int64_t i = order[o];
    const double dE = 2.0 * s[i] * f[i];
    bool flip;
    if (heatbath) {
      flip = rng.uniform() * (1.0 + std::exp(beta * dE)) < 1.0;
    } else {
      flip = dE <= 0.0 || rng.uniform() < std::exp(-beta * dE);
    }
    if (!flip) continue;
    s[i] = static_cast<int8_t>(-s[i]);
    const double d = 2.0 * s[i];
    for (int64_t k = rp[i]; k < rp[i + 1]; ++k) f[col[k]] += d * J[k];
    dE_total += dE;
  }
  return dE_total;
}

void random_spins(int8_t* s, int64_t n, Xoshiro256pp& rng) {
  for (int64_t i = 0; i < n; ++i) s[i] = (rng.next() >> 63) ? 1 : -1;
}

void check_common(const IsingProblem& p, const SolverOptions& o) {
  const auto& names = ising_solvers();
  check_arg(std::find(names.begin(), names.end(), o.solver) != names.end(), "solver", o.solver,
            "one of sa, pt, sb-ballistic, sb-discrete");
  check_arg(o.replicas >= 1 && o.replicas <= (int64_t{1} << 24), "replicas", o.replicas, "1 .. 2^24");
  check_arg(o.sweeps >= 1, "sweeps", o.sweeps, "at least 1");
  check_arg(o.time_limit_s >= 0 && std::isfinite(o.time_limit_s), "time-limit", o.time_limit_s, "seconds >= 0");
  if (o.solver == "sa" || o.solver == "pt") {
    check_arg(o.kernel == "auto" || o.kernel == "cpu" || o.kernel == "tensor", "kernel", o.kernel,
              "auto, cpu or tensor");
    check_arg(o.device.is_cpu() || o.kernel != "cpu", "device", o.device.str(),
              "cpu for the cpu kernel of sa and pt (kernel tensor or auto runs on any device)");
    check_arg(o.update == "metropolis" || o.update == "heatbath", "update", o.update, "metropolis or heatbath");
    check_arg(o.beta_start >= 0 && std::isfinite(o.beta_start), "beta-start", o.beta_start, "a finite beta >= 0");
    check_arg(o.beta_end > 0 && std::isfinite(o.beta_end), "beta-end", o.beta_end, "a finite beta > 0");
    // R * n spins and fields, before anything is allocated
    const double bytes = 9.0 * static_cast<double>(o.replicas) * p.n * (o.solver == "pt" ? o.temperatures : 1);
    check_arg(bytes < 8e9, "replicas", o.replicas, "a state that fits in 8 GB (" + std::to_string(bytes / 1e9) + " GB asked)");
  }
  if (o.solver == "pt") {
    check_arg(o.temperatures >= 2 && o.temperatures <= 1024, "temperatures", o.temperatures, "2 .. 1024 rungs");
    check_arg(o.beta_start > 0 && o.beta_start < o.beta_end, "beta-start", o.beta_start,
              "0 < beta-start < beta-end = " + std::to_string(o.beta_end));
  }
  if (o.solver.rfind("sb", 0) == 0) {
    check_arg(o.dt >= 0 && std::isfinite(o.dt), "dt", o.dt, "a time step > 0 (0: automatic)");
    check_arg(o.c0 >= 0 && std::isfinite(o.c0), "c0", o.c0, "a coupling scale >= 0 (0: automatic)");
    check_arg(o.sb_eval_every >= 1, "sb-eval-every", o.sb_eval_every, "at least 1");
  }
}

/// The bookkeeping after every sweep of the SA / PT solvers: counts it, reports progress at
/// most once a second (best() is asked only then), and says whether the time limit ends the run
/// before its last sweep.
class SweepClock {
 public:
  explicit SweepClock(const SolverOptions& o) : o_(o) {}
  template <class Best>
  bool stop_after(int64_t k, SolverResult& res, Best&& best) {
    res.sweeps_done = k + 1;
    if (o_.progress && since(last_) > 1.0) {
      last_ = Clock::now();
      o_.progress(double(k + 1) / o_.sweeps, best());
    }
    if (o_.time_limit_s > 0 && since(t0_) > o_.time_limit_s && k + 1 < o_.sweeps) {
      res.time_limited = true;
      return true;
    }
    return false;
  }
  double seconds() const { return since(t0_); }

 private:
  const SolverOptions& o_;
  Clock::time_point t0_ = Clock::now(), last_ = Clock::now();
};

/// beta of SA sweep k of S: geometric beta_start .. beta_end, linear from 0 when beta_start = 0.
double sa_beta(const SolverOptions& o, int64_t k) {
  if (o.sweeps == 1) return o.beta_end;
  const double t = double(k) / double(o.sweeps - 1);
  return o.beta_start > 0 ? o.beta_start * std::pow(o.beta_end / o.beta_start, t) : o.beta_end * t;
}

/// The PT ladder: geometric beta_start .. beta_end over `temperatures` rungs.
std::vector<double> pt_ladder(const SolverOptions& o) {
  std::vector<double> betas(o.temperatures);
  for (int64_t k = 0; k < o.temperatures; ++k)
    betas[k] = o.beta_start * std::pow(o.beta_end / o.beta_start, double(k) / double(o.temperatures - 1));
  return betas;
}

/// Fills replica_best / best_energy / best_state from (n, R) best spins, re-scored exactly on the CPU.
void finish_from_tensor(const IsingProblem& p, const torch::Tensor& best_s, SolverResult& res) {
  const int64_t n = p.n, R = best_s.size(1);
  torch::Tensor bs = best_s.t().to(torch::kCPU).to(torch::kInt8).contiguous();  // (R, n)
  const int8_t* ps = bs.data_ptr<int8_t>();
  int64_t rb = 0;
  res.replica_best.clear();
  for (int64_t r = 0; r < R; ++r) {
    res.replica_best.push_back(p.energy(ps + r * n));  // exact, in float64 on the CPU
    if (res.replica_best[r] < res.replica_best[rb]) rb = r;
  }
  res.best_energy = res.replica_best[rb];
  res.best_state.assign(ps + rb * n, ps + (rb + 1) * n);
}

/// SA with the coloured tensor kernel: the R replicas are the chains of one sampler.
SolverResult solve_sa_tensor(const IsingProblem& p, const SolverOptions& o) {
  torch::NoGradGuard no_grad;
  SweepClock clock(o);
  ColouredSpinSampler smp(p, o.replicas, o.seed, o.device);
  torch::Tensor best_e = smp.energies().clone(), best_s = smp.spins().clone();
  SolverResult res;
  const bool heatbath = o.update == "heatbath";
  for (int64_t k = 0; k < o.sweeps; ++k) {
    smp.sweep(sa_beta(o, k), heatbath);
    const torch::Tensor better = smp.energies() < best_e;
    best_e = torch::where(better, smp.energies(), best_e);
    best_s = torch::where(better.unsqueeze(0), smp.spins(), best_s);
    if (clock.stop_after(k, res, [&] { return best_e.min().item<double>(); })) break;
  }
  finish_from_tensor(p, best_s, res);
  res.seconds = clock.seconds();
  return res;
}

/// PT with the coloured tensor kernel: R ladders of M copies are the R M chains of one
/// sampler; copy c of ladder r is chain r M + c and sits at rung rung_of[r M + c]. The
/// exchanges (the CPU kernel's rule: even pairs on even sweeps, odd on odd, accepted with
/// min(1, exp((beta_k - beta_{k+1}) (E_k - E_{k+1})))) swap rungs, not states, on the CPU
/// (R M energies per sweep cross from the device).
SolverResult solve_pt_tensor(const IsingProblem& p, const SolverOptions& o) {
  torch::NoGradGuard no_grad;
  SweepClock clock(o);
  const std::vector<double> betas = pt_ladder(o);
  const int64_t R = o.replicas, M = o.temperatures, B = R * M;
  ColouredSpinSampler smp(p, B, o.seed, o.device);
  std::vector<int64_t> copy_at(B);  // copy_at[r M + k]: the copy of ladder r at rung k
  std::vector<int64_t> acc(M - 1, 0), tries(M - 1, 0);
  for (int64_t b = 0; b < B; ++b) copy_at[b] = b % M;
  Xoshiro256pp rng(o.seed, uint64_t{1} << 21);
  std::vector<double> beta_of(B);
  torch::Tensor best_e = torch::full({R}, std::numeric_limits<double>::infinity(), torch::kFloat64).to(o.device);
  torch::Tensor best_s = torch::zeros({p.n, R}, torch::TensorOptions().dtype(torch::kFloat64).device(o.device));
  const torch::Tensor ladder_base = (torch::arange(R, torch::kInt64) * M).to(o.device);
  SolverResult res;
  for (int64_t k = 0; k < o.sweeps; ++k) {
    for (int64_t r = 0; r < R; ++r)
      for (int64_t q = 0; q < M; ++q) beta_of[r * M + copy_at[r * M + q]] = betas[q];
    smp.sweep(torch::tensor(beta_of, torch::kFloat64), false);
    // the lowest energy of each ladder, and its state
    const torch::Tensor E = smp.energies().view({R, M});
    const auto [emin, cmin] = E.min(1);
    const torch::Tensor better = emin < best_e;
    best_e = torch::where(better, emin, best_e);
    best_s = torch::where(better.unsqueeze(0), smp.spins().index_select(1, ladder_base + cmin), best_s);
    // exchanges on the CPU
    const torch::Tensor Ec = smp.energies().to(torch::kCPU).contiguous();
    const double* e = Ec.data_ptr<double>();
    for (int64_t r = 0; r < R; ++r)
      for (int64_t q = k % 2; q + 1 < M; q += 2) {
        int64_t& a = copy_at[r * M + q];
        int64_t& c = copy_at[r * M + q + 1];
        const double delta = (betas[q] - betas[q + 1]) * (e[r * M + a] - e[r * M + c]);
        ++tries[q];
        if (delta >= 0.0 || rng.uniform() < std::exp(delta)) {
          std::swap(a, c);
          ++acc[q];
        }
      }
    if (clock.stop_after(k, res, [&] { return best_e.min().item<double>(); })) break;
  }
  finish_from_tensor(p, best_s, res);
  for (int64_t q = 0; q + 1 < M; ++q) res.exchange_acceptance.push_back(tries[q] ? double(acc[q]) / tries[q] : 0.0);
  res.betas = betas;
  res.seconds = clock.seconds();
  return res;
}

SolverResult solve_sa(const IsingProblem& p, const SolverOptions& o) {
  SweepClock clock(o);
  const int64_t R = o.replicas, n = p.n;
  std::vector<int8_t> s(R * n), best(R * n);
  std::vector<double> f(R * n), E(R), bestE(R);
  std::vector<int32_t> order(R * n);
  for (int64_t r = 0; r < R; ++r) std::iota(&order[r * n], &order[r * n] + n, 0);
  std::vector<Xoshiro256pp> rng;
  for (int64_t r = 0; r < R; ++r) rng.emplace_back(o.seed, r);
  at::parallel_for(0, R, 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      random_spins(&s[r * n], n, rng[r]);
      compute_fields(p, &s[r * n], &f[r * n]);
      E[r] = p.energy(&s[r * n]);
      bestE[r] = E[r];
      std::copy_n(&s[r * n], n, &best[r * n]);
    }
  });
  SolverResult res;
  const bool heatbath = o.update == "heatbath";
  for (int64_t k = 0; k < o.sweeps; ++k) {
    const double beta = sa_beta(o, k);
    at::parallel_for(0, R, 1, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        E[r] += sweep_spins(p, &s[r * n], &f[r * n], beta, heatbath, rng[r], &order[r * n]);
        if (E[r] < bestE[r]) {
          bestE[r] = E[r];
          std::copy_n(&s[r * n], n, &best[r * n]);
        }
      }
    });
    if (clock.stop_after(k, res, [&] { return *std::min_element(bestE.begin(), bestE.end()); })) break;
  }
  // the tracked energies are sums of dE: recompute the best ones exactly
  for (int64_t r = 0; r < R; ++r) bestE[r] = p.energy(&best[r * n]);
  res.replica_best = bestE;
  const int64_t rb = std::min_element(bestE.begin(), bestE.end()) - bestE.begin();
  res.best_energy = bestE[rb];
  res.best_state.assign(&best[rb * n], &best[rb * n] + n);
  res.seconds = clock.seconds();
  return res;
}

SolverResult solve_pt(const IsingProblem& p, const SolverOptions& o) {
  SweepClock clock(o);
  const std::vector<double> betas = pt_ladder(o);
  ParallelTempering pt(p, betas, o.replicas, o.seed);
  SolverResult res;
  for (int64_t k = 0; k < o.sweeps; ++k) {
    pt.sweep();
    const bool stop = clock.stop_after(k, res, [&] {
      double b = std::numeric_limits<double>::infinity();
      for (int64_t r = 0; r < pt.runs(); ++r) b = std::min(b, pt.best_energy(r));
      return b;
    });
    if (stop) break;
  }
  int64_t rb = 0;
  for (int64_t r = 0; r < pt.runs(); ++r) {
    res.replica_best.push_back(p.energy(pt.best_state(r)));
    if (res.replica_best[r] < res.replica_best[rb]) rb = r;
  }
  res.best_energy = res.replica_best[rb];
  res.best_state.assign(pt.best_state(rb), pt.best_state(rb) + p.n);
  res.exchange_acceptance = pt.exchange_acceptance();
  res.betas = betas;
  res.seconds = clock.seconds();
  return res;
}

SolverResult solve_sb(const IsingProblem& p, const SolverOptions& o) {
  torch::NoGradGuard no_grad;
  const auto t0 = Clock::now();
  const int64_t n = p.n, R = o.replicas;
  const bool discrete = o.solver == "sb-discrete";
  const auto dev = o.device;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(dev);
  // couplings: dense when small or dense enough, else sparse; float32 for the dynamics and
  // float64 for the energies of sign(x)
  const bool dense = prefers_dense_couplings(p);
  torch::Tensor J64 = dense ? p.dense_couplings().to(dev) : p.sparse_couplings(torch::kFloat64).to(dev);
  torch::Tensor J32 = J64.to(torch::kFloat32);
  torch::Tensor h32 = p.fields(torch::kFloat32).to(dev).unsqueeze(1);
  torch::Tensor h64 = p.fields(torch::kFloat64).to(dev);
  double sum_j2 = 0.0;
  for (double v : p.J) sum_j2 += v * v;
  const double sigma = n > 1 ? std::sqrt(sum_j2 / double(n * (n - 1))) : 0.0;
  const double c0 = o.c0 > 0 ? o.c0 : (sigma > 0 ? 0.5 / (std::sqrt(double(n)) * sigma) : 1.0);
  torch::Generator gen = torch::make_generator<at::CPUGeneratorImpl>(o.seed);
  const double a0 = 1.0;
  // The linearised oscillators have omega^2 = (a0 - a) - c0 lambda for the eigenvalues lambda
  // of J; symplectic Euler is stable only for omega dt < 2. Goto's dt = 1.25 is safe for
  // SK-like spectra (|lambda| ~ 2 sqrt(n) sigma_J), not for Max-Cut graphs, whose J = -w has
  // an eigenvalue near minus the mean degree (an 800-node G1-like graph: dt = 1.25 left every
  // replica at a random cut, 9648 of 19129, dt = 0.75 gave 11591). Automatic dt:
  // min(1.25, 1.6 / omega_max) with omega_max^2 = a0 + c0 rho, rho = max |lambda| by power
  // iteration.
  double dt = o.dt;
  if (dt == 0.0) {
    torch::Tensor v = torch::randn({n, 1}, gen, torch::kFloat64).to(dev);
    double rho = 0.0;
    for (int it = 0; it < 100; ++it) {
      v = v / v.norm().clamp_min(1e-300);
      torch::Tensor w = torch::mm(J64, v);
      rho = w.norm().item<double>();
      v = w;
    }
    dt = std::min(1.25, 1.6 / std::sqrt(a0 + c0 * rho));
  }
  torch::Tensor x = (torch::rand({n, R}, gen, torch::kFloat32) * 0.2 - 0.1).to(dev);
  torch::Tensor y = (torch::rand({n, R}, gen, torch::kFloat32) * 0.2 - 0.1).to(dev);
  auto spins_of = [](const torch::Tensor& v) { return torch::where(v >= 0, 1.0, -1.0).to(torch::kFloat64); };
  auto energies = [&](const torch::Tensor& s64) {  // (R): -1/2 s J s - h s
    return -0.5 * (s64 * torch::mm(J64, s64)).sum(0) - torch::mv(s64.t(), h64);
  };
  torch::Tensor best_s = spins_of(x);
  torch::Tensor best_e = energies(best_s);
  SolverResult res;
  auto last_report = Clock::now();
  const bool has_fields = std::any_of(p.h.begin(), p.h.end(), [](double v) { return v != 0.0; });
  for (int64_t t = 0; t < o.sweeps; ++t) {
    const double a = a0 * double(t) / double(o.sweeps);
    torch::Tensor z = discrete ? torch::where(x >= 0, 1.0f, -1.0f) : x;
    torch::Tensor Jz = torch::mm(J32, z);
    // y += [-(a0 - a) x + c0 (J z + h)] dt;  x += a0 y dt;  walls at |x| = 1 (in place)
    y.add_(Jz, c0 * dt).add_(x, -(a0 - a) * dt);
    if (has_fields) y.add_(h32, c0 * dt);
    x.add_(y, a0 * dt);
    y.masked_fill_(x.abs() > 1.0, 0.0);
    x.clamp_(-1.0, 1.0);
    res.sweeps_done = t + 1;
    const bool last = t + 1 == o.sweeps;
    const bool out_of_time = o.time_limit_s > 0 && since(t0) > o.time_limit_s;
    if ((t + 1) % o.sb_eval_every == 0 || last || out_of_time) {
      torch::Tensor s, e;
      if (discrete && !last && !out_of_time) {
        // dSB: the spins z of this step and J z are at hand; their energy costs no product
        // (float32 ranking only: the reported energies are recomputed exactly below)
        s = z.to(torch::kFloat64);
        e = (-0.5 * (z * Jz).sum(0) - (has_fields ? (h32 * z).sum(0) : torch::zeros({R}, f32))).to(torch::kFloat64);
      } else {
        s = spins_of(x);
        e = energies(s);
      }
      torch::Tensor better = e < best_e;
      best_e = torch::where(better, e, best_e);
      best_s = torch::where(better.unsqueeze(0), s, best_s);
      if (o.progress && since(last_report) > 1.0) {
        last_report = Clock::now();
        o.progress(double(t + 1) / o.sweeps, best_e.min().item<double>());
      }
    }
    if (out_of_time && !last) {
      res.time_limited = true;
      break;
    }
  }
  finish_from_tensor(p, best_s, res);
  res.sb_dt = dt;
  res.sb_c0 = c0;
  res.seconds = since(t0);
  return res;
}

}  // namespace

const std::vector<std::string>& ising_solvers() {
  static const std::vector<std::string> names = {"sa", "pt", "sb-ballistic", "sb-discrete"};
  return names;
}

SolverResult solve_ising(const IsingProblem& p, const SolverOptions& o) {
  p.validate();
  check_common(p, o);
  const bool tensor = o.kernel == "tensor" || (o.kernel == "auto" && !o.device.is_cpu());
  SolverResult r = o.solver == "sa"   ? (tensor ? solve_sa_tensor(p, o) : solve_sa(p, o))
                   : o.solver == "pt" ? (tensor ? solve_pt_tensor(p, o) : solve_pt(p, o))
                                      : solve_sb(p, o);
  r.solver = o.solver;
  r.kernel = tensor || o.solver.rfind("sb", 0) == 0 ? "tensor" : "cpu";
  r.replicas = o.replicas;
  return r;
}

double success_probability(const SolverResult& r, double target) {
  if (r.replica_best.empty()) return 0.0;
  const double tol = 1e-9 * (1.0 + std::abs(target));
  int64_t hit = 0;
  for (double e : r.replica_best) hit += e <= target + tol;
  return double(hit) / double(r.replica_best.size());
}

double tts99(const SolverResult& r, double p) {
  const double t = r.seconds / double(std::max<int64_t>(1, r.replicas));
  if (p <= 0.0) return std::numeric_limits<double>::infinity();
  if (p >= 0.99) return t;
  return t * std::log(0.01) / std::log(1.0 - p);
}

// --- parallel tempering ----------------------------------------------------------------

ParallelTempering::ParallelTempering(const IsingProblem& p, std::vector<double> betas, int64_t runs, uint64_t seed)
    : p_(&p), betas_(std::move(betas)), runs_(runs) {
  const int64_t M = rungs(), n = p.n;
  check_arg(M >= 2, "betas", M, "at least 2 rungs");
  for (int64_t k = 0; k < M; ++k) {
    check_arg(betas_[k] >= 0 && std::isfinite(betas_[k]), "betas[" + std::to_string(k) + "]", betas_[k], "a finite beta >= 0");
    if (k > 0) check_arg(betas_[k] > betas_[k - 1], "betas", betas_[k], "increasing inverse temperatures");
  }
  check_arg(runs >= 1, "runs", runs, "at least 1");
  spins_.resize(runs * M * n);
  fields_.resize(runs * M * n);
  energy_.resize(runs * M);
  slot_.resize(runs * M);
  acc_.assign(runs * (M - 1), 0);
  tries_.assign(runs * (M - 1), 0);
  best_e_.resize(runs);
  best_s_.resize(runs * n);
  order_.resize(runs * n);
  for (int64_t r = 0; r < runs; ++r) std::iota(&order_[r * n], &order_[r * n] + n, 0);
  for (int64_t r = 0; r < runs; ++r) rng_.emplace_back(seed, r);
  at::parallel_for(0, runs, 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      for (int64_t k = 0; k < M; ++k) {
        const int64_t c = r * M + k;
        random_spins(&spins_[c * n], n, rng_[r]);
        compute_fields(p, &spins_[c * n], &fields_[c * n]);
        energy_[c] = p.energy(&spins_[c * n]);
        slot_[c] = k;
      }
      best_e_[r] = energy_[r * M];
      std::copy_n(&spins_[r * M * n], n, &best_s_[r * n]);
    }
  });
}

void ParallelTempering::sweep(int64_t count) {
  const int64_t M = rungs(), n = p_->n;
  for (int64_t it = 0; it < count; ++it) {
    const int64_t parity = sweeps_ % 2;
    at::parallel_for(0, runs_, 1, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        for (int64_t k = 0; k < M; ++k) {
          const int64_t c = r * M + slot_[r * M + k];
          energy_[c] += sweep_spins(*p_, &spins_[c * n], &fields_[c * n], betas_[k], false, rng_[r], &order_[r * n]);
          if (energy_[c] < best_e_[r]) {
            best_e_[r] = energy_[c];
            std::copy_n(&spins_[c * n], n, &best_s_[r * n]);
          }
        }
        for (int64_t k = parity; k + 1 < M; k += 2) {
          int64_t& a = slot_[r * M + k];
          int64_t& c = slot_[r * M + k + 1];
          const double delta = (betas_[k] - betas_[k + 1]) * (energy_[r * M + a] - energy_[r * M + c]);
          ++tries_[r * (M - 1) + k];
          if (delta >= 0.0 || rng_[r].uniform() < std::exp(delta)) {
            std::swap(a, c);
            ++acc_[r * (M - 1) + k];
          }
        }
      }
    });
    ++sweeps_;
  }
}

void ParallelTempering::refresh() {
  const int64_t M = rungs(), n = p_->n;
  at::parallel_for(0, runs_ * M, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      compute_fields(*p_, &spins_[c * n], &fields_[c * n]);
      energy_[c] = p_->energy(&spins_[c * n]);
    }
  });
  for (int64_t r = 0; r < runs_; ++r) best_e_[r] = p_->energy(&best_s_[r * n]);
}

const int8_t* ParallelTempering::state(int64_t r, int64_t k) const {
  return &spins_[(r * rungs() + slot_[r * rungs() + k]) * p_->n];
}

double ParallelTempering::energy(int64_t r, int64_t k) const { return energy_[r * rungs() + slot_[r * rungs() + k]]; }

const int8_t* ParallelTempering::best_state(int64_t r) const { return &best_s_[r * p_->n]; }

std::vector<double> ParallelTempering::exchange_acceptance() const {
  const int64_t M = rungs();
  std::vector<double> out(M - 1, 0.0);
  for (int64_t k = 0; k + 1 < M; ++k) {
    int64_t a = 0, t = 0;
    for (int64_t r = 0; r < runs_; ++r) {
      a += acc_[r * (M - 1) + k];
      t += tries_[r * (M - 1) + k];
    }
    out[k] = t > 0 ? double(a) / double(t) : 0.0;
  }
  return out;
}

// --- exact enumeration -----------------------------------------------------------------

namespace {
/// Visits all 2^n states in Gray-code order, calling visit(bits, E) for each.
template <class F>
void gray_walk(const IsingProblem& p, F&& visit) {
  const int64_t n = p.n;
  std::vector<int8_t> s(n, -1);
  std::vector<double> f(n);
  compute_fields(p, s.data(), f.data());
  double E = p.energy(s.data());
  uint64_t bits = 0;
  visit(bits, E);
  const uint64_t total = uint64_t{1} << n;
  for (uint64_t g = 1; g < total; ++g) {
    const int b = __builtin_ctzll(g);
    E += 2.0 * s[b] * f[b];
    s[b] = static_cast<int8_t>(-s[b]);
    const double d = 2.0 * s[b];
    for (int64_t k = p.row_ptr[b]; k < p.row_ptr[b + 1]; ++k) f[p.col[k]] += d * p.J[k];
    bits ^= uint64_t{1} << b;
    visit(bits, E);
  }
}
}  // namespace

ExactIsing exact_ground_state(const IsingProblem& p) {
  p.validate();
  check_arg(p.n <= 30, "problem.n", p.n, "at most 30 spins for exact enumeration");
  ExactIsing ex;
  ex.ground_energy = std::numeric_limits<double>::infinity();
  uint64_t gbits = 0;
  std::vector<double> all;
  gray_walk(p, [&](uint64_t bits, double E) {
    if (E < ex.ground_energy) {
      ex.ground_energy = E;
      gbits = bits;
    }
  });
  // recount the degeneracy with the final minimum and an exact recomputation
  const double tol = 1e-9 * (1.0 + std::abs(ex.ground_energy));
  gray_walk(p, [&](uint64_t, double E) { ex.degeneracy += E <= ex.ground_energy + tol; });
  ex.ground_state.resize(p.n);
  for (int64_t i = 0; i < p.n; ++i) ex.ground_state[i] = (gbits >> i & 1) ? 1 : -1;
  ex.ground_energy = p.energy(ex.ground_state.data());
  return ex;
}

std::vector<double> enumerate_energies(const IsingProblem& p) {
  p.validate();
  check_arg(p.n <= 24, "problem.n", p.n, "at most 24 spins to list all energies");
  std::vector<double> out(size_t{1} << p.n);
  gray_walk(p, [&](uint64_t bits, double E) { out[bits] = E; });
  return out;
}

int64_t state_index(const int8_t* s, int64_t n) {
  int64_t idx = 0;
  for (int64_t i = 0; i < n; ++i)
    if (s[i] > 0) idx |= int64_t{1} << i;
  return idx;
}

}  // namespace physgen
