#include "physgen/particles/nbody.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/ode/adjoint.h"
#include "physgen/particles/quadrature.h"

namespace physgen {

namespace {

std::vector<int64_t> cube(int64_t n, int64_t d) { return std::vector<int64_t>(d, n); }

torch::Tensor k_squared(const std::vector<torch::Tensor>& k) {
  torch::Tensor k2 = torch::zeros({}, torch::kFloat64);
  for (const auto& ki : k) k2 = k2 + ki * ki;
  return k2;
}

torch::Tensor inverse_laplacian(const torch::Tensor& fk, const torch::Tensor& k2) {
  const torch::Tensor safe = torch::where(k2 > 0, k2, torch::ones_like(k2));
  return torch::where(k2 > 0, -fk / safe, torch::zeros_like(fk));
}

std::vector<int64_t> dims_of(int64_t d) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < d; ++i) v.push_back(i);
  return v;
}

}  // namespace

torch::Tensor linear_density(int64_t n, int64_t dim, double box, const LinearPower& power, uint64_t seed,
                             torch::Dtype dtype) {
  check_arg(n >= 2 && n % 2 == 0, "n", n, "an even number of lattice sites per side >= 2");
  check_arg(dim == power.dim(), "dim", dim, "the dimension of the power spectrum");
  check_arg(box > 0, "box", box, "a positive box size (Mpc/h)");
  torch::Generator gen = torch::make_generator<at::CPUGeneratorImpl>(seed);
  const torch::Tensor w = torch::randn(cube(n, dim), gen, torch::TensorOptions().dtype(torch::kFloat64));
  const auto dims = dims_of(dim);
  torch::Tensor wk = torch::fft::rfftn(w, c10::nullopt, dims);
  const torch::Tensor kcell = k_squared(mesh_wavenumbers(n, dim, true)).sqrt().expand(wk.sizes()).contiguous();
  const double spacing = box / n, vcell = std::pow(spacing, static_cast<double>(dim));
  torch::Tensor amp = torch::empty_like(kcell);
  const double* kp = kcell.data_ptr<double>();
  double* ap = amp.data_ptr<double>();
  for (int64_t i = 0; i < kcell.numel(); ++i) ap[i] = std::sqrt(power(kp[i] / spacing) / vcell);
  wk = wk * amp;
  return torch::fft::irfftn(wk, cube(n, dim), dims).to(dtype);
}

torch::Tensor lattice_positions(int64_t n_particles, int64_t dim, int64_t mesh, torch::Dtype dtype) {
  const double spacing = static_cast<double>(mesh) / n_particles;
  std::vector<torch::Tensor> axes(dim, torch::arange(n_particles, torch::kFloat64) * spacing);
  auto grids = torch::meshgrid(axes, "ij");
  std::vector<torch::Tensor> cols;
  for (auto& g : grids) cols.push_back(g.flatten());
  return torch::stack(cols, 1).to(dtype);
}

std::pair<torch::Tensor, torch::Tensor> lpt_displacements(const torch::Tensor& delta0) {
  const int64_t d = delta0.dim();
  check_arg(d == 2 || d == 3, "delta0.dim()", d, "a 2-D or 3-D field");
  const int64_t n = delta0.size(0);
  const auto dims = dims_of(d);
  const auto shape = cube(n, d);
  const std::vector<torch::Tensor> k = mesh_wavenumbers(n, d, true);
  std::vector<torch::Tensor> kg;  // for gradients: Nyquist components zeroed
  for (const torch::Tensor& ki : k) kg.push_back(zero_nyquist(ki));
  const torch::Tensor k2 = k_squared(k);
  const torch::Tensor dk = torch::fft::rfftn(delta0.to(torch::kFloat64), c10::nullopt, dims);
  const torch::Tensor phi1 = inverse_laplacian(dk, k2);
  const c10::complex<double> I(0.0, 1.0);
  std::vector<torch::Tensor> psi1, psi2;
  for (int64_t i = 0; i < d; ++i) psi1.push_back(torch::fft::irfftn(-I * kg[i] * phi1, shape, dims).flatten());
  // Second derivatives phi1_ij = IFFT(-k_i k_j phi1_k) and the 2LPT source.
  auto second = [&](int64_t i, int64_t j) { return torch::fft::irfftn(-k[i] * k[j] * phi1, shape, dims); };
  std::vector<torch::Tensor> diag;
  for (int64_t i = 0; i < d; ++i) diag.push_back(second(i, i));
  torch::Tensor src = torch::zeros(shape, torch::kFloat64);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = i + 1; j < d; ++j) src = src + diag[i] * diag[j] - second(i, j).pow(2);
  const torch::Tensor phi2 = inverse_laplacian(torch::fft::rfftn(src, c10::nullopt, dims), k2);
  for (int64_t i = 0; i < d; ++i) psi2.push_back(torch::fft::irfftn(I * kg[i] * phi2, shape, dims).flatten());
  return {torch::stack(psi1, 1).to(delta0.scalar_type()), torch::stack(psi2, 1).to(delta0.scalar_type())};
}

ParticleState lpt_initial_conditions(const torch::Tensor& delta0, double a, const Growth& growth, int order,
                                     int64_t mesh) {
  check_arg(order == 1 || order == 2, "lpt_order", order, "1 (Zel'dovich) or 2 (2LPT)");
  check_arg(a > 0 && a <= 1, "a_init", a, "a scale factor in (0, 1]");
  const int64_t n = delta0.size(0), d = delta0.dim();
  check_arg(mesh % n == 0, "mesh", mesh, "a multiple of the particles per side (" + std::to_string(n) + ")");
  auto [psi1, psi2] = lpt_displacements(delta0);
  const double scale = static_cast<double>(mesh) / n;  // lattice units -> cells
  const double d1 = growth.d1(a), f1 = growth.f1(a);
  const double vel = a * a * hubble_e(growth.cosmology(), a);
  torch::Tensor disp = d1 * psi1, mom = f1 * d1 * psi1;
  if (order == 2) {
    const double d2 = growth.d2(a), f2 = growth.f2(a);
    disp = disp + d2 * psi2;
    mom = mom + f2 * d2 * psi2;
  }
  ParticleState s;
  s.x = lattice_positions(n, d, mesh, delta0.scalar_type()) + scale * disp;
  s.p = vel * scale * mom;
  return s;
}

NbodyDynamics::NbodyDynamics(const Cosmology& c, const PmMesh& mesh, int64_t n_particles_total,
                             PotentialFilter filter)
    : c_(c), mesh_(mesh), filter_(std::move(filter)) {
  check_arg(n_particles_total > 0, "particles", n_particles_total, "a positive number of particles");
  mass_ = std::pow(static_cast<double>(mesh.n()), static_cast<double>(mesh.dim())) / n_particles_total;
}

torch::Tensor NbodyDynamics::forces(double a, const torch::Tensor& x) const {
  return mesh_.forces(x, mass_, filter_at ? filter_at(a) : filter_);
}

OdeState NbodyDynamics::operator()(double a, const OdeState& s) const {
  const double e = hubble_e(c_, a);
  return {s[1] / (a * a * a * e), forces(a, s[0]) * (1.5 * c_.omega_m / (a * a * e))};
}

double kick_factor(const Cosmology& c, double a0, double a1) {
  return gauss_legendre(a0, a1, 16, [&](double a) { return 1.5 * c.omega_m / (a * a * hubble_e(c, a)); });
}

double drift_factor(const Cosmology& c, double a0, double a1) {
  return gauss_legendre(a0, a1, 16, [&](double a) { return 1.0 / (a * a * a * hubble_e(c, a)); });
}

void NbodyIntegration::validate() const {
  const bool ode = ode_methods().contains(integrator());
  check_arg(ode || integrator() == "leapfrog", "integrator", integrator(),
            "leapfrog or an ODE method (dopri5, rk4, midpoint, euler)");
  const bool fixed = integrator() != "dopri5";
  check_arg(!fixed || steps() > 0, "steps", steps(), "a positive number of steps for " + integrator());
  check_arg(steps() >= 0, "steps", steps(), "a number of steps >= 0");
  check_arg(rtol() > 0 && atol() >= 0, "rtol", rtol(), "rtol > 0 and atol >= 0");
}

NbodyTrajectory integrate_nbody(const NbodyDynamics& dyn, const ParticleState& start, double a0,
                                const std::vector<double>& snapshots, const NbodyIntegration& how,
                                const std::vector<torch::Tensor>& adjoint_params) {
  how.validate();
  check_arg(!snapshots.empty(), "snapshots", snapshots.size(), "at least one scale factor");
  double prev = a0;
  for (double s : snapshots) {
    check_arg(s > prev, "snapshots", s, "increasing scale factors above a_init = " + std::to_string(a0));
    prev = s;
  }
  const double span = snapshots.back() - a0;
  NbodyTrajectory out;
  ParticleState cur = start;
  double a_prev = a0;
  // By value: odeint_adjoint keeps f for the backward pass, after this function returns.
  const OdeSystem sys = [dyn](double a, const OdeState& s) { return dyn(a, s); };
  for (double a1 : snapshots) {
    const int64_t seg_steps =
        how.steps() > 0 ? std::max<int64_t>(1, std::llround(how.steps() * (a1 - a_prev) / span)) : 0;
    if (how.integrator() == "leapfrog") {
      const double da = (a1 - a_prev) / seg_steps;
      torch::Tensor x = cur.x, p = cur.p;
      torch::Tensor f = dyn.forces(a_prev, x);  // reused: the force at the end of a step starts the next
      out.stats.nfe += 1;
      for (int64_t i = 0; i < seg_steps; ++i) {
        const double aa = a_prev + i * da, ab = aa + da, am = aa + 0.5 * da;
        p = p + kick_factor(dyn.cosmology(), aa, am) * f;
        x = x + drift_factor(dyn.cosmology(), aa, ab) * p;
        f = dyn.forces(ab, x);
        p = p + kick_factor(dyn.cosmology(), am, ab) * f;
        out.stats.nfe += 1;
        out.stats.accepted_steps += 1;
      }
      cur = {x, p};
    } else {
      OdeOptions o(how.integrator());
      o.rtol(how.rtol()).atol(how.atol()).n_steps(seg_steps).max_steps(100000);
      const OdeResult r = adjoint_params.empty() ? odeint(sys, {cur.x, cur.p}, a_prev, a1, o)
                                                 : odeint_adjoint(sys, adjoint_params, {cur.x, cur.p}, a_prev, a1, o);
      if (!r.ok()) throw std::runtime_error("N-body integration failed between a = " + std::to_string(a_prev) +
                                            " and " + std::to_string(a1) + ": " + r.summary());
      out.stats.nfe += r.nfe;
      out.stats.accepted_steps += r.accepted_steps;
      out.stats.rejected_steps += r.rejected_steps;
      cur = {r.state[0], r.state[1]};
    }
    out.a.push_back(a1);
    out.states.push_back(cur);
    a_prev = a1;
  }
  out.stats.t = a_prev;
  return out;
}

PmOptions NbodyOptions::pm_options() const {
  PmOptions p = pm();
  return p.mesh(mesh()).dim(dim());
}

void NbodyOptions::validate() const {
  cosmology.validate();
  check_arg(dim() == 2 || dim() == 3, "dim", dim(), "2 or 3");
  check_arg(particles() >= 2 && particles() % 2 == 0 && particles() <= 1024, "particles", particles(),
            "an even number of particles per side in [2, 1024]");
  check_arg(mesh() >= particles() && mesh() % particles() == 0, "mesh", mesh(),
            "a multiple of the particles per side (" + std::to_string(particles()) + ")");
  const double cells = std::pow(static_cast<double>(mesh()), static_cast<double>(dim()));
  check_arg(cells <= 1024.0 * 1024 * 1024, "mesh", mesh(), "at most 2^30 cells in all");
  check_arg(box() > 0, "box", box(), "a positive box size in Mpc/h");
  check_arg(a_init() > 0 && a_init() < 1, "a_init", a_init(), "a scale factor in (0, 1)");
  check_arg(!snapshots().empty(), "snapshots", snapshots().size(), "at least one scale factor");
  double prev = a_init();
  for (double s : snapshots()) {
    check_arg(s > prev && s <= 2.0, "snapshots", s,
              "increasing scale factors above a_init = " + std::to_string(a_init()) + " and <= 2");
    prev = s;
  }
  check_arg(lpt_order() == 1 || lpt_order() == 2, "lpt_order", lpt_order(), "1 or 2");
  pm_options().validate();
  integration().validate();
}

NbodyRun run_nbody(const NbodyOptions& o, const std::function<PotentialFilter(double a)>& filter_at) {
  o.validate();
  torch::NoGradGuard no_grad;
  NbodyRun run;
  const LinearPower power(o.cosmology, static_cast<int>(o.dim()));
  run.delta0 = linear_density(o.particles(), o.dim(), o.box(), power, o.seed(), o.dtype());
  const Growth growth(o.cosmology);
  run.initial = lpt_initial_conditions(run.delta0, o.a_init(), growth, static_cast<int>(o.lpt_order()), o.mesh());
  const PmMesh mesh(o.pm_options(), o.dtype());
  NbodyDynamics dyn(o.cosmology, mesh, run.initial.x.size(0));
  dyn.filter_at = filter_at;
  run.mass = dyn.mass();
  run.trajectory = integrate_nbody(dyn, run.initial, o.a_init(), o.snapshots(), o.integration());
  return run;
}

torch::Tensor density_contrast(const torch::Tensor& x, int64_t n, int64_t dim, int64_t n_particles_total) {
  check_arg(x.dim() == 2 && x.size(1) == dim, "x.shape", x.sizes(), "(N, " + std::to_string(dim) + ")");
  return cic_paint(x, n, std::pow(static_cast<double>(n), static_cast<double>(dim)) / n_particles_total) - 1.0;
}

}  // namespace physgen
