// VAE on a linear-Gaussian model where log p(x) and the exact posterior are known in closed form:
//   z ~ N(0, I_2),  x | z ~ N(W z + b, s^2 I_3),  so  x ~ N(b, W W^T + s^2 I)  and
//   p(z | x) = N(S W^T (x - b) / s^2, S),  S = (I + W^T W / s^2)^{-1}  (diagonal: W has orthogonal columns).
// With the exact posterior as encoder every importance weight equals p(x): ELBO = IWAE_K = log p(x).
// With a perturbed encoder ELBO = log p(x) - KL(q || p(z|x)) and IWAE_K climbs towards log p(x).
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/models/vae/vae.h"
#include "support/test_util.h"

using namespace physgen;

namespace {
using physgen_test::kF64;
constexpr double kSigma = 0.5;

struct LinearGaussian {
  torch::Tensor W = torch::stack({torch::tensor({1.2, 1.2, 0.0}, kF64), torch::tensor({0.7, -0.7, 0.7}, kF64)}, 1);
  torch::Tensor b = torch::tensor({0.3, -0.2, 0.1}, kF64);
  torch::Tensor S = torch::linalg_inv(torch::eye(2, kF64) + W.t().mm(W) / (kSigma * kSigma));  // diagonal
  torch::Tensor A = S.mm(W.t()) / (kSigma * kSigma);  // posterior mean = A (x - b)

  torch::Tensor log_p(const torch::Tensor& x) const {
    auto C = W.mm(W.t()) + kSigma * kSigma * torch::eye(3, kF64);
    auto d = x - b;
    auto quad = (d.mm(torch::linalg_inv(C)) * d).sum(1);
    return -0.5 * (quad + torch::logdet(C) + 3 * std::log(2 * 3.14159265358979323846));
  }
  /// KL(N(m1, diag v1) || N(m2, diag v2)) per row.
  static torch::Tensor kl_diag(const torch::Tensor& m1, const torch::Tensor& v1, const torch::Tensor& m2,
                               const torch::Tensor& v2) {
    return 0.5 * ((v1 / v2) + (m1 - m2).pow(2) / v2 - 1 + torch::log(v2 / v1)).sum(1);
  }
};

/// A VAE with affine encoder/decoder set to the model and (perturbed) exact posterior.
Vae make_vae(const LinearGaussian& lg, double mean_shift, double logvar_shift) {
  Vae vae(VaeOptions({3}).latent_dim(2).hidden({}));
  vae->to(torch::kFloat64);
  torch::NoGradGuard ng;
  auto enc = vae->encoder->layers[0]->as<torch::nn::Linear>();
  auto dec = vae->decoder->layers[0]->as<torch::nn::Linear>();
  auto A = lg.A + mean_shift;
  enc->weight.copy_(torch::cat({A, torch::zeros({2, 3}, kF64)}, 0));
  enc->bias.copy_(torch::cat({-A.mv(lg.b), torch::log(lg.S.diagonal()) + logvar_shift}));
  dec->weight.copy_(lg.W);
  dec->bias.copy_(lg.b);
  vae->log_sigma.fill_(std::log(kSigma));
  return vae;
}
}  // namespace

TEST(Vae, ExactPosteriorMakesElboAndIwaeExact) {
  seed_all(1);
  LinearGaussian lg;
  ASSERT_LT((lg.S - torch::diag(lg.S.diagonal())).abs().max().item<double>(), 1e-15);
  auto vae = make_vae(lg, 0.0, 0.0);
  auto x = torch::randn({50, 3}, kF64) * 1.5;
  torch::NoGradGuard ng;
  auto logp = lg.log_p(x);
  // Each importance weight p(x, z)/q(z|x) equals p(x): IWAE is exact for any K.
  EXPECT_LT((vae->iwae_log_likelihood(x, 7, 3) - logp).abs().max().item<double>(), 1e-10);
  EXPECT_LT((vae->iwae_log_likelihood(x, 1) - logp).abs().max().item<double>(), 1e-10);
  // The ELBO (reconstruction sample minus the closed-form KL) is exact in expectation.
  const int64_t S = 20000;
  auto elbo = vae->elbo(x, S);
  std::vector<torch::Tensor> draws;
  for (int i = 0; i < 64; ++i) draws.push_back(vae->elbo(x, 1));
  auto se = torch::stack(draws).std(0) / std::sqrt(static_cast<double>(S));
  EXPECT_LT(((elbo - logp) / se).abs().max().item<double>(), 4.5);
}

TEST(Vae, ElboBelowLogLikelihoodByThePosteriorKl) {
  seed_all(2);
  LinearGaussian lg;
  auto vae = make_vae(lg, 0.15, 0.6);
  auto x = torch::randn({40, 3}, kF64) * 1.5;
  torch::NoGradGuard ng;
  auto logp = lg.log_p(x);
  auto [m, v] = vae->encode(x);
  auto gap = LinearGaussian::kl_diag(m, v.exp(), (x - lg.b).mm(lg.A.t()), lg.S.diagonal().expand({40, 2}));
  ASSERT_GT(gap.min().item<double>(), 0.05);
  // Monte Carlo ELBO per x from S samples: its error from the spread of single-sample ELBOs.
  const int64_t S = 4000;
  auto elbo = vae->elbo(x, S);
  std::vector<torch::Tensor> draws;
  for (int i = 0; i < 64; ++i) draws.push_back(vae->elbo(x, 1));
  auto se = torch::stack(draws).std(0) / std::sqrt(static_cast<double>(S));
  auto z = (elbo - (logp - gap)) / se;
  EXPECT_LT(z.abs().max().item<double>(), 4.5) << "ELBO != log p - KL(q || posterior)";
  EXPECT_TRUE((elbo < logp).all().item<bool>());
  // IWAE: increasing in K, and approaching log p(x).
  double prev = -1e300;
  for (int64_t K : {1, 10, 100, 2000}) {
    const double mean_gap = (logp - vae->iwae_log_likelihood(x, K)).mean().item<double>();
    const double iwae = -mean_gap;
    EXPECT_GT(iwae, prev) << "K = " << K;
    prev = iwae;
    if (K == 2000) {
      EXPECT_LT(mean_gap, 0.05 * gap.mean().item<double>());
      EXPECT_GT(mean_gap, -0.01);
    }
  }
}

TEST(Vae, OptionsAndSampling) {
  auto o = VaeOptions({4, 4}).latent_dim(3).decoder_variance("fixed").decoder_sigma(0.2).beta(0.5);
  auto j = o.to_json();
  EXPECT_EQ(VaeOptions::from_json(j).to_json(), j);
  Vae vae(o);
  EXPECT_TRUE(vae->named_parameters().find("log_sigma") == nullptr);
  EXPECT_TRUE(vae->named_buffers().find("log_sigma") != nullptr);
  EXPECT_EQ(vae->sample(5).sizes(), torch::IntArrayRef({5, 4, 4}));
  EXPECT_THROW(vae->elbo(torch::randn({2, 16})), InvalidArgument);
  EXPECT_THROW(VaeOptions({2}).decoder_sigma(0).validate(), InvalidArgument);
  VaeTask task(vae);
  Diagnostics diag;
  auto l = task.loss(torch::randn({8, 4, 4}), diag);
  EXPECT_NEAR(l.item<double>(), -(diag["reconstruction"] - 0.5 * diag["kl"]), 1e-4);
}
