// The accuracy tables of docs/nbody.md: (1) the PM force of a point mass against the exact
// periodic (Ewald) force as a function of distance, per gradient / Laplacian option, 2-D and 3-D
// (32 cells per side, the mass on a node, test points along an axis and a diagonal);
// (2) linear growth in Einstein-de Sitter: P(k, a = 0.5) / P(k, a_i = 0.05) per shell against
// the exact (a / a_i)^2 = 100, for 16^3, 32^3, 64^3 particles (mesh twice as fine) and 128^2
// particles (mesh 256^2),
// box 2000 Mpc/h, dopri5 and leapfrog (40 steps). Float64 throughout.
//
//   ./build/bench/bench_pm_accuracy
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "physgen/particles/nbody.h"
#include "physgen/particles/pm.h"

using namespace physgen;

int main() {
  torch::set_num_threads(1);
  std::printf("## PM force of a point mass / Ewald force (32 cells per side)\n\n");
  std::printf("| dim | gradient | laplace | r_split | direction | r = 2 | 3 | 4 | 6 | 8 | 12 |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  struct Config {
    std::string gradient, laplace;
    double r_split;
  };
  const std::vector<Config> configs = {{"fd4", "exact", 0}, {"fd2", "exact", 0}, {"fd2", "discrete", 0},
                                       {"fourier", "exact", 0}, {"fourier", "exact", 1.0}};
  for (int64_t d : {2, 3}) {
    const int64_t n = 32;
    for (const Config& c : configs) {
      const PmMesh mesh(PmOptions().mesh(n).dim(d).gradient(c.gradient).laplace(c.laplace).r_split(c.r_split),
                        torch::kFloat64);
      const torch::Tensor src = torch::full({1, d}, 16.0, torch::kFloat64);
      const torch::Tensor field =
          mesh.force_field(mesh.potential_k(mesh.paint(src, 1.0) - 1.0 / std::pow(double(n), double(d))));
      for (int diag = 0; diag < 2; ++diag) {
        std::printf("| %ld | %s | %s | %.1f | %s |", long(d), c.gradient.c_str(), c.laplace.c_str(), c.r_split,
                    diag ? "diagonal" : "axis");
        for (double r : {2.0, 3.0, 4.0, 6.0, 8.0, 12.0}) {
          torch::Tensor sep = torch::zeros({1, d}, torch::kFloat64);
          for (int64_t i = 0; i < (diag ? d : 1); ++i) sep[0][i] = r / std::sqrt(diag ? double(d) : 1.0);
          const torch::Tensor fp = mesh.readout(field, src + sep), fe = ewald_force(sep, n, 1.0);
          // the radial component's ratio
          std::printf(" %.3f |", ((fp * fe).sum() / (fe * fe).sum()).item<double>());
        }
        std::printf("\n");
      }
    }
  }
  std::printf("\n## Einstein-de Sitter: P(k, 0.5) / P(k, 0.05) / 100 per shell (k = 1..8 k_f)\n\n");
  std::printf("| dim | particles | mesh | integrator | k_f | 2 k_f | 3 k_f | 4 k_f | 5 k_f | 6 k_f | 7 k_f | 8 k_f |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (auto [d, np] : std::vector<std::pair<int64_t, int64_t>>{{3, 16}, {3, 32}, {3, 64}, {2, 128}}) {
    for (const std::string integ : {"dopri5", "leapfrog"}) {
      if (d == 3 && np != 32 && integ == "leapfrog") continue;  // the particle-number series: dopri5 only
      NbodyOptions o;
      o.cosmology.omega_m = 1.0;
      o.cosmology.omega_b = 0.04;
      o.dim(d).particles(np).mesh(2 * np).box(2000.0).a_init(0.05).snapshots({0.5}).lpt_order(1).float64(true);
      o.integration(NbodyIntegration().integrator(integ).steps(integ == "leapfrog" ? 40 : 0));
      const NbodyRun run = run_nbody(o);
      const int64_t N = run.initial.x.size(0);
      const PowerSpectrum p0 = power_spectrum(density_contrast(run.initial.x, 2 * np, d, N), 2000.0);
      const PowerSpectrum p1 = power_spectrum(density_contrast(run.trajectory.states[0].x, 2 * np, d, N), 2000.0);
      std::printf("| %ld | %ld^%ld | %ld^%ld | %s |", long(d), long(np), long(d), long(2 * np), long(d), integ.c_str());
      for (int b = 0; b < 8; ++b) std::printf(" %.4f |", (p1.power[b] / p0.power[b]).item<double>() / 100.0);
      std::printf("\n");
    }
  }
  return 0;
}
