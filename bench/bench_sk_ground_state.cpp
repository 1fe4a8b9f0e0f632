// Ground-state energy per spin of the Sherrington-Kirkpatrick model against N, extrapolated to
// N -> infinity and compared with Parisi's e0 = -0.7633 (docs/ising_machines.md). Not a speed
// benchmark: a physics measurement of the solvers, kept here with the other measurement
// programs.
//
// For every N, Gaussian SK instances (generate_sk(N, false, 1000 + k)) are solved by SA and by
// discrete SB with the replicas and sweeps of the plan below; the instance's estimate is the
// lower of the two, and the fraction of instances where both agree to 1e-9 is reported (a
// proxy for the true ground state: a heuristic can only overestimate E0). The per-N mean of
// E0/N has the standard error of the instance-to-instance spread; the fit is weighted least
// squares of
//     e0(N) = e_inf + A N^(-2/3)
// (the finite-size form of A. Andreanov et al., Eur. Phys. J. B 41, 365 (2004); S. Boettcher,
// Eur. Phys. J. B 46, 501 (2005)), its errors from the fit covariance, scaled by
// sqrt(chi2 / dof) when that exceeds 1. Criterion (fixed before running):
// |e_inf - (-0.7633)| < 2 sigma(e_inf).
//
// Run: ./build/bench/bench_sk_ground_state [--quick] [--min-n N] [--max-n N]
// (--min-n 1024: only the N = 1024 row; --min-n 2048 --max-n 2048: the N = 2048 row (~40 min);
// "dSB lower" counts the instances where dSB beat SA; bench/sk_fit.py refits e_inf from the rows of several runs)
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "physgen/core/runtime.h"
#include "physgen/ising_machines/problem.h"
#include "physgen/ising_machines/solvers.h"

int main(int argc, char** argv) {
  using namespace physgen;
  bool quick = false;
  int64_t max_n = 1024, min_n = 0;  // the 2048 row runs only when asked: --min-n 2048 --max-n 2048
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    if (a == "--max-n" && i + 1 < argc) max_n = std::stoll(argv[++i]);
    if (a == "--min-n" && i + 1 < argc) min_n = std::stoll(argv[++i]);
  }
  configure_runtime(0);
  struct Plan {
    int64_t n, instances, replicas, sweeps;
    int64_t sb_sweeps = 0;  // dSB iterations when they differ from the SA sweeps (0: the same)
  };
  std::vector<Plan> plan = quick ? std::vector<Plan>{{64, 10, 8, 1000}, {128, 10, 8, 1000}}
                                 : std::vector<Plan>{{64, 200, 8, 2000},
                                                     {128, 100, 8, 4000},
                                                     {256, 50, 16, 8000},
                                                     {512, 20, 16, 16000},
                                                     {1024, 8, 16, 32000},
                                                     // SA costs ~O(N^2) per sweep on SK (90 s for
                                                     // 16 x 2000 at N = 2048 on 2 cores), dSB one
                                                     // GEMM per iteration (6 s for 2000): SA gets
                                                     // 4000 sweeps as a cross-check, dSB 64000.
                                                     {2048, 6, 16, 4000, 64000}};
  std::printf("| N | instances | replicas x sweeps | mean E0/N | std. error | SA = dSB | dSB lower | seconds |\n"
              "|---|---|---|---|---|---|---|---|\n");
  struct Row {
    double n, mean, se;
  };
  std::vector<Row> rows;
  for (const auto& pl : plan) {
    if (pl.n > max_n || pl.n < min_n) continue;
    std::vector<double> e;
    int agree = 0, sb_lower = 0;
    double secs = 0;
    for (int64_t k = 0; k < pl.instances; ++k) {
      const IsingProblem p = generate_sk(pl.n, false, 1000 + k);
      SolverOptions o;
      o.replicas = pl.replicas;
      o.sweeps = pl.sweeps;
      o.seed = k + 1;
      o.solver = "sa";
      const SolverResult sa = solve_ising(p, o);
      o.solver = "sb-discrete";
      if (pl.sb_sweeps > 0) o.sweeps = pl.sb_sweeps;
      const SolverResult sb = solve_ising(p, o);
      secs += sa.seconds + sb.seconds;
      agree += std::abs(sa.best_energy - sb.best_energy) <= 1e-9 * (1 + std::abs(sa.best_energy));
      sb_lower += sb.best_energy < sa.best_energy - 1e-9 * (1 + std::abs(sa.best_energy));
      e.push_back(std::min(sa.best_energy, sb.best_energy) / double(pl.n));
    }
    double mean = 0, var = 0;
    for (double v : e) mean += v / e.size();
    for (double v : e) var += (v - mean) * (v - mean) / (e.size() - 1);
    const double se = std::sqrt(var / e.size());
    rows.push_back({double(pl.n), mean, se});
    const std::string sweeps = pl.sb_sweeps > 0 ? std::to_string(pl.sweeps) + " (dSB " + std::to_string(pl.sb_sweeps) + ")"
                                                : std::to_string(pl.sweeps);
    std::printf("| %lld | %lld | %lld x %s | %.5f | %.5f | %d/%lld | %d/%lld | %.0f |\n", (long long)pl.n,
                (long long)pl.instances, (long long)pl.replicas, sweeps.c_str(), mean, se, agree,
                (long long)pl.instances, sb_lower, (long long)pl.instances, secs);
    std::fflush(stdout);
  }
  if (rows.size() < 2) {
    std::printf("\n(one row: no fit; bench/sk_fit.py fits the rows of several runs together)\n");
    return 0;
  }
  double S = 0, Sx = 0, Sxx = 0, Sy = 0, Sxy = 0;
  for (const auto& r : rows) {
    const double w = 1 / (r.se * r.se), x = std::pow(r.n, -2.0 / 3.0);
    S += w, Sx += w * x, Sxx += w * x * x, Sy += w * r.mean, Sxy += w * x * r.mean;
  }
  const double D = S * Sxx - Sx * Sx;
  const double e_inf = (Sxx * Sy - Sx * Sxy) / D, A = (S * Sxy - Sx * Sy) / D;
  double chi2 = 0;
  for (const auto& r : rows) chi2 += std::pow((r.mean - e_inf - A * std::pow(r.n, -2.0 / 3.0)) / r.se, 2);
  const int dof = static_cast<int>(rows.size()) - 2;
  const double scale = dof > 0 && chi2 > dof ? std::sqrt(chi2 / dof) : 1.0;
  const double err = std::sqrt(Sxx / D) * scale, errA = std::sqrt(S / D) * scale;
  const double z = (e_inf + 0.7633) / err;
  std::printf("\ne_inf = %.4f +- %.4f, A = %.3f +- %.3f, chi2/dof = %.2f/%d; Parisi -0.7633: z = %+.2f -> "
              "criterion |z| < 2 %s\n",
              e_inf, err, A, errA, chi2, dof, z, std::abs(z) < 2 ? "met" : "NOT met");
  return 0;
}
