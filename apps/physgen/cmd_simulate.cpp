// `physgen simulate ising|phi4|toy`: generate an ensemble with Monte Carlo (or
// exact sampling for toy densities) and write FILE.npy + FILE.npy.json.
#include <cmath>
#include <iostream>

#include <torch/torch.h>

#include "cli_common.h"
#include "physgen/api/simulate.h"
#include "physgen/data/toy2d.h"
#include "physgen/mcmc/ising.h"

namespace physgen::cli {

namespace {

struct ChainFlags {
  int64_t samples = 1000, therm = 1000, every = 1, chains = 4;
  uint64_t seed = 1;
  std::string out;
  bool resume = false;
  double snapshot_seconds = 60.0;
  CommonOptions common;
};

void add_chain_flags(CLI::App* sub, ChainFlags& f) {
  sub->add_option("--samples", f.samples, "samples recorded per chain")->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--therm", f.therm, "thermalisation updates discarded first")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--every", f.every, "updates between recorded samples")->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--chains", f.chains, "independent chains run at once")->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--seed", f.seed, "random seed (runs are reproducible)")->capture_default_str();
  sub->add_option("--out", f.out, "output FILE.npy (a FILE.npy.json sidecar is written beside it) or FILE.h5 (HDF5, by extension)")
      ->required();
  sub->add_flag("--resume", f.resume,
                "continue the interrupted run of the same command (FILE.npy.partial + FILE.npy.resume); "
                "--samples may differ");
  sub->add_option("--snapshot-seconds", f.snapshot_seconds,
                  "seconds between resume snapshots (rows synced to disk; 0: after every sample)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  add_common_options(sub, f.common);
}

ChainSettings chain_settings(const ChainFlags& f) {
  ChainSettings s;
  s.chains = f.chains;
  s.seed = f.seed;
  s.record.therm = f.therm;
  s.record.samples = f.samples;
  s.record.every = f.every;
  return s;
}

// Streams the chain to FILE.npy.partial, resumable (mcmc/simulate.h), then writes the sidecar.
void run_chain(SimulationChain& sim, const ChainFlags& f) {
  StreamOptions stream;
  stream.path = f.out;
  stream.snapshot_seconds = f.snapshot_seconds;
  stream.resume = f.resume;
  const auto result = simulate_to_file(sim, chain_settings(f), stream);
  if (result.resumed_at >= 0)
    std::cout << "resumed at sample " << result.resumed_at << " of " << f.samples << " per chain\n";
  std::cout << "wrote " << f.out << "  shape " << c10::IntArrayRef(result.shape) << "  " << sim.chain->info().dump()
            << "\n";
}

}  // namespace

void register_simulate(CLI::App& app) {
  auto* sim = app.add_subcommand("simulate", "generate an ensemble: ising | phi4 | toy");
  sim->require_subcommand(1);

  // --- ising ---------------------------------------------------------------
  {
    auto f = std::make_shared<ChainFlags>();
    auto p = std::make_shared<IsingParams>(IsingParams{16, 0.5 * std::log(1.0 + std::sqrt(2.0))});
    auto algo = std::make_shared<std::string>("wolff");
    auto* sub = sim->add_subcommand(
        "ising", "2D Ising, H = -J sum_<ij> s_i s_j - h sum_i s_i, periodic L x L (CPU kernels)");
    sub->add_option("--L", p->L, "lattice size")->capture_default_str()->check(CLI::Range(2, 4096));
    sub->add_option("--beta", p->beta, "inverse temperature (default: beta_c = ln(1+sqrt 2)/2)")
        ->capture_default_str();
    sub->add_option("--h", p->h, "external field")->capture_default_str();
    sub->add_option("--J", p->J, "coupling")->capture_default_str();
    sub->add_option("--algo", *algo, "update algorithm")
        ->capture_default_str()
        ->check(CLI::IsMember(IsingSampler::algorithms()));
    add_chain_flags(sub, *f);
    sub->callback([f, p, algo] {
      const torch::Device device = apply_common_options(f->common);
      if (!device.is_cpu())
        std::cerr << "note: the Ising multispin and Wolff kernels are CPU-only; running on the CPU\n";
      SimulationChain sim = ising_chain(*p, *algo, chain_settings(*f));
      run_chain(sim, *f);
    });
  }

  // --- phi4 ----------------------------------------------------------------
  {
    auto f = std::make_shared<ChainFlags>();
    struct Phi4Flags {
      int64_t L = 8;
      double m2 = -4.0, lambda = 8.0, kappa = 0.0, lambda_hop = 0.0;
      std::string algo = "hmc", integrator = "omelyan", dtype = "float32";
      double step_size = 0.1, delta = 1.0;
      int64_t n_steps = 10, hits = 1;
    };
    auto p = std::make_shared<Phi4Flags>();
    auto* sub = sim->add_subcommand(
        "phi4",
        "2D phi^4, S = sum_x [sum_mu (phi_{x+mu}-phi_x)^2 + m2 phi^2 + lambda phi^4] (or the hopping form)");
    sub->add_option("--L", p->L, "lattice size")->capture_default_str()->check(CLI::Range(2, 4096));
    sub->add_option("--m2", p->m2, "bare mass squared")->capture_default_str();
    sub->add_option("--lambda", p->lambda, "quartic coupling (>= 0)")->capture_default_str();
    auto* kap = sub->add_option("--kappa", p->kappa, "hopping parameter (hopping form; needs --lambda-hop)");
    auto* lh = sub->add_option("--lambda-hop", p->lambda_hop, "quartic coupling of the hopping form");
    kap->needs(lh);
    lh->needs(kap);
    sub->add_option("--algo", p->algo, "update algorithm")
        ->capture_default_str()
        ->check(CLI::IsMember({"hmc", "metropolis"}));
    sub->add_option("--step-size", p->step_size, "HMC integrator step size")->capture_default_str()
        ->check(CLI::PositiveNumber);
    sub->add_option("--n-steps", p->n_steps, "HMC integrator steps per trajectory")
        ->capture_default_str()->check(CLI::PositiveNumber);
    sub->add_option("--integrator", p->integrator, "HMC integrator")
        ->capture_default_str()
        ->check(CLI::IsMember({"leapfrog", "omelyan"}));
    sub->add_option("--delta", p->delta, "Metropolis proposal width")->capture_default_str()
        ->check(CLI::PositiveNumber);
    sub->add_option("--hits", p->hits, "Metropolis hits per site and sweep")->capture_default_str()
        ->check(CLI::PositiveNumber);
    sub->add_option("--dtype", p->dtype, "stored dtype (chains always run in float64)")
        ->capture_default_str()
        ->check(CLI::IsMember({"float32", "float64"}));
    add_chain_flags(sub, *f);
    sub->callback([f, p, kap] {
      const torch::Device device = apply_common_options(f->common);
      const Phi4Params params = kap->count() > 0 ? Phi4Params::from_hopping(p->L, p->kappa, p->lambda_hop)
                                                 : Phi4Params{p->L, p->m2, p->lambda};
      Phi4Update update;
      update.algorithm = p->algo;
      update.hmc = HmcOptions().step_size(p->step_size).n_steps(p->n_steps).integrator(p->integrator);
      update.metropolis = Phi4MetropolisOptions().delta(p->delta).n_hits(p->hits);
      update.stored_dtype = p->dtype == "float32" ? torch::kFloat32 : torch::kFloat64;
      SimulationChain sim = phi4_chain(params, update, chain_settings(*f), device);
      run_chain(sim, *f);
    });
  }

  // --- toy -----------------------------------------------------------------
  {
    auto name = std::make_shared<std::string>("two-moons");
    auto n = std::make_shared<int64_t>(10000);
    auto seed = std::make_shared<uint64_t>(1);
    auto out = std::make_shared<std::string>();
    auto common = std::make_shared<CommonOptions>();
    auto* sub = sim->add_subcommand("toy", "toy 2D densities (exact samples; point cloud (N, 2))");
    sub->add_option("--name", *name, "density")
        ->capture_default_str()
        ->check(CLI::IsMember(toy_density_names()));
    sub->add_option("--samples", *n, "number of points")->capture_default_str()->check(CLI::PositiveNumber);
    sub->add_option("--seed", *seed, "random seed")->capture_default_str();
    sub->add_option("--out", *out, "output FILE.npy (+ sidecar) or FILE.h5")->required();
    add_common_options(sub, *common);
    sub->callback([name, n, seed, out, common] {
      apply_common_options(*common);
      const Ensemble e = simulate_toy(*name, *n, *seed);
      save_ensemble(*out, e.x, e.meta);
      std::cout << "wrote " << *out << "  shape " << e.x.sizes() << "  " << e.meta.params.dump() << "\n";
    });
  }
}

}  // namespace physgen::cli
