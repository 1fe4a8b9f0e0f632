#pragma once
// Adversarial losses and the WGAN-GP gradient penalty.
//
// The discriminator outputs a real number per sample: a logit l (D = sigmoid(l)) for
// "minimax", "non-saturating" and "least-squares" (where D = l directly), a critic value
// f for "wasserstein". With r = outputs on real data, g = outputs on generated samples
// (means over the batch; softplus(u) = log(1 + e^u), so -log sigmoid(l) = softplus(-l)):
//
//   loss             discriminator minimises                 generator minimises
//   minimax          E softplus(-r) + E softplus(g)          -E softplus(g)    (= E log(1 - D(G(z))))
//   non-saturating   E softplus(-r) + E softplus(g)          E softplus(-g)    (= -E log D(G(z)))
//   wasserstein      E g - E r                               -E g
//   least-squares    (E (r - 1)^2 + E g^2) / 2               E (g - 1)^2
//
// The minimax discriminator loss is the cross-entropy of real vs generated; at a fixed
// generator its minimiser is D*(x) = p_data(x) / (p_data(x) + p_G(x)) (Goodfellow et al.,
// Prop. 1). The non-saturating generator loss has the same fixed point but strong
// gradients early in training.
//
// Gradient penalty (WGAN-GP): x_hat = eps x_real + (1 - eps) x_fake with one
// eps ~ U[0, 1] PER SAMPLE (shared by all components of that sample), and
//   GP = lambda E_{x_hat} (|grad_x f(x_hat)|_2 - 1)^2,      lambda = 10 by default,
// the 2-norm taken over all components of one sample. The gradient is built with
// create_graph so GP can be backpropagated into the critic.
//
// References: I. Goodfellow et al., "Generative adversarial nets", arXiv:1406.2661;
// M. Arjovsky, S. Chintala, L. Bottou, "Wasserstein GAN", arXiv:1701.07875;
// I. Gulrajani et al., "Improved training of Wasserstein GANs", arXiv:1704.00028;
// X. Mao et al., "Least squares generative adversarial networks", arXiv:1611.04076.
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace physgen {

enum class GanLoss { Minimax, NonSaturating, Wasserstein, LeastSquares };

/// {"minimax", "non-saturating", "wasserstein", "least-squares"}.
std::vector<std::string> gan_loss_names();
/// The loss named `name` (gan_loss_names()); throws InvalidArgument listing the valid names.
GanLoss gan_loss_from_name(const std::string& name);
std::string gan_loss_name(GanLoss loss);

/// Discriminator loss from its outputs on real (n) and generated (m) samples (table above).
torch::Tensor discriminator_loss(GanLoss loss, const torch::Tensor& real_out, const torch::Tensor& fake_out);

/// Generator loss from the discriminator's outputs on generated samples (m) (table above).
torch::Tensor generator_loss(GanLoss loss, const torch::Tensor& fake_out);

/// A critic as a function of a batch (n, *event_shape) -> (n).
using CriticFn = std::function<torch::Tensor(const torch::Tensor&)>;

/// Interpolates x_hat = eps real + (1 - eps) fake, eps ~ U[0, 1] of shape (n, 1, ..., 1)
/// (one per sample), drawn from LibTorch's default generator. real, fake: same shape (n, ...).
/// If `eps_out` is given it receives eps as (n).
torch::Tensor gradient_penalty_interpolates(const torch::Tensor& real, const torch::Tensor& fake,
                                            torch::Tensor* eps_out = nullptr);

/// lambda * mean_i (|grad f(x_i)|_2 - 1)^2 over the given points x (n, ...), differentiable
/// with respect to the critic's parameters (create_graph). `grad_norms` (optional) receives
/// |grad f(x_i)| as (n), detached.
torch::Tensor gradient_penalty_at(const CriticFn& critic, const torch::Tensor& x, double lambda = 10.0,
                                  torch::Tensor* grad_norms = nullptr);

/// The WGAN-GP penalty: gradient_penalty_at(critic, gradient_penalty_interpolates(real, fake), lambda).
/// real and fake are detached first; validates equal shapes and lambda >= 0.
torch::Tensor gradient_penalty(const CriticFn& critic, const torch::Tensor& real, const torch::Tensor& fake,
                               double lambda = 10.0, torch::Tensor* grad_norms = nullptr);

}  // namespace physgen
