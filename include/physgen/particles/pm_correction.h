#pragma once
// The hybrid physical-neural PM simulation of Lanzieri, Lanusse & Starck (2022): a PM run on a
// coarse mesh loses small-scale power; an isotropic Fourier filter of the PM potential, learned
// inside the ODE, restores it:
//   phi_k -> phi_k (1 + f_theta(|k|, a)),   f_theta(k, a) = sum_j c_j(a) B_j(k / k_max),
// B_j cubic B-splines on uniform centres over [0, k_max = pi sqrt(d)] (radians per cell) and the
// coefficients c(a) = MLP(a, ln a) (zero-initialised last layer: the untrained model is plain PM).
// It is trained through the ODE solver by the adjoint method (ode/adjoint.h) against a
// reference run of the same initial conditions on a finer mesh (ref_mesh cells per side, the same
// particles), with the loss of the paper summed over snapshots s:
//   L = sum_s [ mean_particles |x_s - x_ref,s|^2 (periodic minimum image, cells^2)
//             + lambda_pk mean_shells (P_s(k) / P_ref,s(k) - 1)^2 ],
// both power spectra painted on the coarse mesh.
//
// Baseline: potential gradient descent (PGD, Dai, Feng & Seljak, JCAP 11 (2018) 009): after the
// run, particles move by dx = alpha F_PGD(x), F_PGD the PM force of the final density filtered by
// O_l O_h, O_l = exp(-k_l^2 / k^2) (removes large scales), O_h = exp(-(k / k_s)^4) (removes the
// mesh scale); alpha, k_l, k_s fitted to the same loss at the last snapshot.
//
// References: Lanzieri, Lanusse, Starck, "Hybrid Physical-Neural ODEs for Fast N-body
// Simulations", ICML 2022 ML4Astro workshop, arXiv:2207.05509; Dai, Feng, Seljak (2018).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "physgen/nn/mlp.h"
#include "physgen/particles/nbody.h"
#include "physgen/train/trainer.h"

namespace physgen {

/// Cubic B-spline basis: (..., n_basis) values at x (any shape, in [0, 1]) of the n_basis
/// splines centred at j / (n_basis - 1) with unit spacing h = 1 / (n_basis - 1):
/// B(u) = 2/3 - u^2 + |u|^3 / 2 (|u| < 1), (2 - |u|)^3 / 6 (1 <= |u| < 2), 0 else; u = (x - c_j)/h.
/// They sum to 1 on [h, 1 - h] (partition of unity).
torch::Tensor bspline_basis(const torch::Tensor& x, int64_t n_basis);

/// Options of the correction network (defaults in brackets).
struct PmCorrectionOptions {
  TORCH_ARG(int64_t, dim) = 3;                                ///< [3]
  TORCH_ARG(int64_t, knots) = 12;                             ///< spline coefficients [12]
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{32, 32};  ///< MLP widths [32, 32]

 public:
  void validate() const;
  nlohmann::json to_json() const;
  static PmCorrectionOptions from_json(const nlohmann::json& j);
};

/// The learned filter f_theta(k, a) and the PGD parameters (log alpha, log k_l, log k_s; fitted
/// separately, not by the Trainer).
class PmCorrectionImpl : public torch::nn::Module {
 public:
  explicit PmCorrectionImpl(PmCorrectionOptions options);
  /// The filter 1 + f_theta(|k|, a) as a PotentialFilter.
  PotentialFilter filter_at(double a) const;
  /// The spline coefficients c(a) (knots,).
  torch::Tensor coefficients(double a) const;
  /// f_theta(k, a) on |k| (radians per cell).
  torch::Tensor correction(const torch::Tensor& kmag, double a) const;
  /// The parameters the Trainer trains (the MLP's).
  std::vector<torch::Tensor> network_parameters() const { return mlp->parameters(); }
  /// PGD displacements alpha F_PGD at positions x (N, d) painted on `mesh`.
  torch::Tensor pgd_displacement(const PmMesh& mesh, const torch::Tensor& x, double mass) const;

  PmCorrectionOptions options;
  MLP mlp{nullptr};
  torch::Tensor pgd;  ///< (3,): log alpha, log k_l, log k_s (k in radians per cell)
};
TORCH_MODULE(PmCorrection);

/// The training problem: a coarse-mesh configuration and its reference run.
struct PmTrainingSet {
  NbodyOptions coarse;             ///< the PM run to correct (snapshots = the loss snapshots)
  ParticleState initial;           ///< shared initial conditions
  std::vector<ParticleState> reference;  ///< reference snapshots (finer mesh)
  std::vector<torch::Tensor> reference_power;  ///< P_ref(k) per snapshot, painted on the coarse mesh
  double mass = 1.0;
};

/// Runs the reference (the same initial conditions on a mesh of ref_mesh cells per side) and
/// packs the training set. InvalidArgument if ref_mesh is not a multiple of the coarse mesh.
PmTrainingSet make_pm_training_set(const NbodyOptions& coarse, int64_t ref_mesh);

/// Periodic minimum-image difference x - y on a box of n cells.
torch::Tensor periodic_difference(const torch::Tensor& x, const torch::Tensor& y, double n);

/// The loss terms of one snapshot: mean squared periodic displacement error and the mean
/// squared relative power-spectrum error.
std::pair<torch::Tensor, torch::Tensor> pm_loss_terms(const torch::Tensor& x, const torch::Tensor& x_ref,
                                                      const torch::Tensor& p_ref, const NbodyOptions& o,
                                                      double mass);

/// The Trainer's task: one step integrates the corrected PM run through the loss snapshots by
/// the adjoint method and returns L (above). Data-free (batch undefined).
class PmCorrectionTask : public TrainingTask {
 public:
  PmCorrectionTask(PmCorrection model, const PmTrainingSet& set, double lambda_pk);
  torch::nn::Module& module() override { return *model_; }
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> parameter_groups() override;
  torch::Tensor loss(const torch::Tensor& batch, Diagnostics& diag) override;
  nlohmann::json options() const override;

 private:
  PmCorrection model_;
  const PmTrainingSet& set_;
  double lambda_pk_;
  PmMesh mesh_;  // the coarse mesh, built once: loss() runs every training step
};

/// Fits the PGD parameters of `model` to the last snapshot of `set` by Adam (steps, lr);
/// returns the final loss.
double fit_pgd(PmCorrection& model, const PmTrainingSet& set, double lambda_pk, int64_t steps = 200,
               double lr = 0.05);

/// P(k)/P_ref(k) and r(k) of three runs against a reference at the last snapshot.
struct PmComparison {
  std::vector<double> k;                                      ///< h/Mpc
  std::vector<double> ratio_pm, ratio_pgd, ratio_nn;          ///< P / P_ref
  std::vector<double> r_pm, r_pgd, r_nn;                      ///< cross-correlation with the reference
  nlohmann::json to_json() const;
};

/// Runs the reference (ref_mesh), plain PM, PM + PGD and PM + the learned filter for the
/// configuration `o` (its cosmology, seed, ...) and compares them at the last snapshot.
PmComparison compare_pm_corrections(const NbodyOptions& o, int64_t ref_mesh, const PmCorrection& model);

}  // namespace physgen

namespace physgen {

/// Everything `physgen train pm-correction` does, as one call: the reference run, the PGD fit
/// (skipped on resume: its parameters are in the checkpoint), the Trainer (checkpoint `out`,
/// history `out`.csv, exact resume), then the comparison at the training cosmology (a new seed,
/// eval_seed) and at a second cosmology (eval_cosmology, eval_seed).
struct PmCorrectionRun {
  NbodyOptions sim;                ///< the coarse configuration (snapshots = loss snapshots)
  int64_t ref_mesh = 128;          ///< reference mesh cells per side
  double lambda_pk = 1.0;          ///< weight of the power-spectrum term
  PmCorrectionOptions model;
  TrainerOptions trainer;          ///< steps, lr, schedule...; checkpoint/csv paths are set from out
  int64_t pgd_steps = 200;
  std::string out;                 ///< checkpoint path
  bool resume = false;
  int64_t stop_at = -1;            ///< >= 0: stop after this global step (checkpoint written; resume later)
  Cosmology eval_cosmology;        ///< the robustness check's cosmology
  uint64_t eval_seed = 1000;       ///< seed of the evaluation runs
};

/// The result: the JSON report ({"train": TrainResult summary, "pgd_loss", "comparison":
/// {"training_cosmology": PmComparison, "other_cosmology": PmComparison}}) and both comparisons.
struct PmCorrectionReport {
  nlohmann::json json;
  PmComparison same, other;
};
PmCorrectionReport train_pm_correction(const PmCorrectionRun& run);

/// Loads a checkpoint written by train_pm_correction (the model options from its metadata).
PmCorrection load_pm_correction(const std::string& path);

}  // namespace physgen
