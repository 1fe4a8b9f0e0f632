#pragma once
// The 2D Ising model on a periodic L x L square lattice.
//
//   H(s) = -J sum_<ij> s_i s_j - h sum_i s_i,     s_i = +-1,
//   p(s) = exp(-beta H(s)) / Z,                  action S(s) = beta H(s).
//
// sum_<ij> runs over the 2V nearest-neighbour bonds (x, x + e_mu), mu = 1, 2,
// with periodic wrap-around (for L = 2 each pair of sites is joined by two
// bonds, as in the transfer-matrix solution). The ferromagnet (J > 0, h = 0)
// orders below T_c = 1/beta_c = 2 J / ln(1 + sqrt 2) ~ 2.269 J.
//
// References: E. Ising, Z. Phys. 31, 253 (1925); L. Onsager, Phys. Rev. 65, 117 (1944).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/lattice/target.h"

namespace physgen {

/// Parameters of the 2D Ising model: lattice size L (L x L, periodic), inverse
/// temperature beta, external field h (default 0) and coupling J (default 1).
/// Aggregate: IsingParams{16, 0.44} or IsingParams{16, 0.44, 0.1}.
struct IsingParams {
  int64_t L = 0;
  double beta = 0.0;
  double h = 0.0;
  double J = 1.0;

  /// Throws InvalidArgument unless L >= 2, beta >= 0 and beta, h, J are finite.
  void validate() const;
  /// Number of sites V = L * L.
  int64_t volume() const { return L * L; }
  /// {"L": L, "beta": beta, "h": h, "J": J}.
  nlohmann::json to_json() const;
};

/// Critical inverse temperature of the 2D square-lattice Ising ferromagnet with
/// J = 1: beta_c = ln(1 + sqrt 2) / 2 ~ 0.4406868.
/// References: H. A. Kramers & G. H. Wannier, Phys. Rev. 60, 252 (1941).
double ising_beta_critical();

/// Projects fields onto Ising spins, s = +1 where x >= 0 and -1 where x < 0, as int8 (any
/// shape, on x's device). The one rule every command uses to turn a model's continuous output
/// into spins (sample, interpolate, translate, inpaint); x = 0 maps to +1 (torch::sign would
/// give 0, which is no spin). Throws InvalidArgument for an undefined tensor.
torch::Tensor to_spins(const torch::Tensor& x);

/// The Ising model as a physgen Target: action(s) = beta H(s).
///
/// Configurations are (B, L, L) tensors of +-1 values in any dtype and on any
/// device (int8 ensembles from the samplers, or float relaxations for
/// generative models). energy() and action() return (B) float64.
class IsingModel : public Target {
 public:
  /// Validates `params` (IsingParams::validate).
  explicit IsingModel(IsingParams params);

  /// H(s) = -J sum_<ij> s_i s_j - h sum_i s_i per configuration: (B, L, L) -> (B) float64.
  torch::Tensor energy(const torch::Tensor& s) const;

  /// S(s) = beta H(s): (B, L, L) -> (B) float64.
  torch::Tensor action(const torch::Tensor& s) const override;

  /// Closed-form gradient of beta H with respect to continuous s:
  ///   dS/ds_x = -beta (J sum_{y nn x} s_y + h),
  /// (B, L, L) -> (B, L, L), in s's dtype when floating, float64 otherwise.
  torch::Tensor force(const torch::Tensor& s) const override;

  /// {L, L}.
  std::vector<int64_t> event_shape() const override;
  /// "ising".
  std::string name() const override;
  /// {"L": L, "beta": beta, "h": h, "J": J}.
  nlohmann::json params() const override;
  /// True: spins.
  bool discrete() const override { return true; }
  /// beta (S = beta H).
  double beta() const override { return params_.beta; }

  /// The parameters the model was built with.
  const IsingParams& ising_params() const { return params_; }

 private:
  void check_configs(const torch::Tensor& s) const;
  IsingParams params_;
};

}  // namespace physgen
