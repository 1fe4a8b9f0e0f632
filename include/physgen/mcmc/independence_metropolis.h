#pragma once
// Exact sampling with any approximate likelihood model q (a flow, a CNF, a score SDE, ...) for a target
// p(x) = exp(-S(x)) / Z: independence Metropolis-Hastings and importance reweighting.
//
// Importance weights: log w(x) = -S(x) - log q(x), x ~ q.
//   ESS fraction = (sum w)^2 / (N sum w^2) in (0, 1]     (1: q = p)
//   log Z estimate = log mean w                           (unbiased in Z, not in log Z)
//   reweighted mean <O> = sum w O / sum w, error^2 = sum wn^2 (O - <O>)^2, wn = w / sum w
// Independence Metropolis-Hastings: propose x' ~ q independently of the state x, accept with
//   min(1, p(x') q(x) / (p(x) q(x'))) = min(1, w(x') / w(x)),
// which leaves p exactly invariant. Proposals are drawn in batches with sample_and_log_prob
// (one model pass per batch); the accept/reject chain over a batch is a cheap sequential
// loop in plain C++ (Xoshiro256++ uniforms). The chain starts from the first proposal.
//
// References: Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019), arXiv:1904.12072;
// Nicoli et al., PRE 101, 023304 (2020), arXiv:1910.13496; Kong, "A note on importance
// sampling using standardized weights" (1992) for the ESS.
#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/core/rng.h"
#include "physgen/lattice/target.h"
#include "physgen/mcmc/markov_chain.h"
#include "physgen/models/generative.h"
#include "physgen/observables/estimators/reweighting.h"

namespace physgen {

/// Draws from q with their importance weights for the target.
struct ImportanceSample {
  torch::Tensor samples;      ///< (N, *event), the model's dtype and device
  torch::Tensor log_weights;  ///< (N) float64 CPU, -S - log q
  double ess = 0;             ///< ess(log_weights): pooled over all N draws
  double batch_ess = 0;       ///< batch_ess(log_weights, 64) (the lattice-flow literature's ESS); 0 if N < 64
  double log_z = 0;           ///< log_mean_exp(log_weights)
};

/// n draws of `model` in batches of batch_size (no gradients), weighted for `target`.
ImportanceSample importance_sample(LikelihoodModel& model, const Target& target, int64_t n,
                                   int64_t batch_size = 1024);

/// Options of IndependenceMetropolis / independence_metropolis.
struct IndependenceMetropolisOptions {
  /// Proposals drawn per model call. Default 1024.
  TORCH_ARG(int64_t, batch_size) = 1024;
  /// Seed of the accept/reject uniforms (the proposals use LibTorch's generator). Default 0.
  TORCH_ARG(uint64_t, seed) = 0;
};

/// A recorded stretch of the independence chain.
struct IndependenceMetropolisResult {
  torch::Tensor chain;        ///< (N, *event): the state after each step
  torch::Tensor accepted;     ///< (N) bool: whether step i accepted its proposal
  torch::Tensor log_weights;  ///< (N) float64: log w of the state after step i
  double acceptance = 0;      ///< mean of accepted
  double proposal_ess = 0;    ///< ESS fraction of the proposals drawn in these N steps (pooled)
  double proposal_batch_ess = 0;  ///< batch_ess of those proposals in blocks of 64; 0 if fewer
  torch::Tensor proposal_log_weights;  ///< (N) float64: log w of the N independent proposals of these steps
};

/// Independence Metropolis-Hastings with proposals from a LikelihoodModel; one chain
/// (chains() == 1). As a MarkovChain, update(n) makes n accept/reject steps (proposals are
/// buffered, so update(1) is cheap) and state() is (1, *event).
class IndependenceMetropolis : public MarkovChain {
 public:
  IndependenceMetropolis(std::shared_ptr<LikelihoodModel> model, TargetPtr target,
                 IndependenceMetropolisOptions options = IndependenceMetropolisOptions());
  /// n more steps, recorded.
  IndependenceMetropolisResult run(int64_t n);
  void update(int64_t n = 1) override;
  torch::Tensor state() const override { return current_; }
  int64_t chains() const override { return 1; }
  /// {"algorithm": "flow_mh", "batch_size", "steps", "acceptance"}.
  nlohmann::json info() const override;
  /// Acceptance rate over all steps so far.
  double acceptance() const { return steps_ ? static_cast<double>(accepted_) / steps_ : 0.0; }
  int64_t steps() const { return steps_; }

 private:
  void refill();
  /// Advances min(n, buffered) steps; returns, per step, the buffer index of the state
  /// (-1: the state before this call) and whether it was an acceptance.
  void advance(int64_t n, std::vector<int64_t>* held, std::vector<uint8_t>* acc);

  std::shared_ptr<LikelihoodModel> model_;
  TargetPtr target_;
  IndependenceMetropolisOptions options_;
  Xoshiro256pp rng_;
  torch::Tensor buffer_;            // (batch, *event) proposals
  std::vector<double> buffer_logw_;
  int64_t pos_ = 0;                 // next unused proposal
  torch::Tensor current_;           // (1, *event), undefined before the first step
  double current_logw_ = 0;
  int64_t steps_ = 0, accepted_ = 0;
};

/// n_steps of independence Metropolis-Hastings from `model` for `target` (a fresh chain).
IndependenceMetropolisResult independence_metropolis(LikelihoodModel& model, const Target& target, int64_t n_steps,
                         const IndependenceMetropolisOptions& options = IndependenceMetropolisOptions());

}  // namespace physgen
