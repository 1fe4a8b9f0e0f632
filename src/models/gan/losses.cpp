#include "physgen/models/gan/losses.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

std::vector<std::string> gan_loss_names() {
  return {"minimax", "non-saturating", "wasserstein", "least-squares"};
}

GanLoss gan_loss_from_name(const std::string& name) {
  check_choice("loss", name, gan_loss_names());
  if (name == "minimax") return GanLoss::Minimax;
  if (name == "non-saturating") return GanLoss::NonSaturating;
  if (name == "wasserstein") return GanLoss::Wasserstein;
  return GanLoss::LeastSquares;
}

std::string gan_loss_name(GanLoss loss) {
  switch (loss) {
    case GanLoss::Minimax: return "minimax";
    case GanLoss::NonSaturating: return "non-saturating";
    case GanLoss::Wasserstein: return "wasserstein";
    case GanLoss::LeastSquares: return "least-squares";
  }
  return "";
}

torch::Tensor discriminator_loss(GanLoss loss, const torch::Tensor& real_out, const torch::Tensor& fake_out) {
  switch (loss) {
    case GanLoss::Minimax:
    case GanLoss::NonSaturating:
      return torch::softplus(-real_out).mean() + torch::softplus(fake_out).mean();
    case GanLoss::Wasserstein:
      return fake_out.mean() - real_out.mean();
    case GanLoss::LeastSquares:
      return 0.5 * ((real_out - 1).pow(2).mean() + fake_out.pow(2).mean());
  }
  return {};
}

torch::Tensor generator_loss(GanLoss loss, const torch::Tensor& fake_out) {
  switch (loss) {
    case GanLoss::Minimax: return -torch::softplus(fake_out).mean();
    case GanLoss::NonSaturating: return torch::softplus(-fake_out).mean();
    case GanLoss::Wasserstein: return -fake_out.mean();
    case GanLoss::LeastSquares: return (fake_out - 1).pow(2).mean();
  }
  return {};
}

torch::Tensor gradient_penalty_interpolates(const torch::Tensor& real, const torch::Tensor& fake,
                                            torch::Tensor* eps_out) {
  std::vector<int64_t> shape(real.dim(), 1);
  shape[0] = real.size(0);
  auto eps = torch::rand(shape, real.options().requires_grad(false));
  if (eps_out) *eps_out = eps.view({-1});
  return eps * real + (1 - eps) * fake;
}

torch::Tensor gradient_penalty_at(const CriticFn& critic, const torch::Tensor& x, double lambda,
                                  torch::Tensor* grad_norms) {
  auto xi = x.detach().requires_grad_(true);
  auto out = critic(xi);
  auto grad = torch::autograd::grad({out.sum()}, {xi}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  auto norms = grad.flatten(1).norm(2, 1);
  if (grad_norms) *grad_norms = norms.detach();
  return lambda * (norms - 1).pow(2).mean();
}

torch::Tensor gradient_penalty(const CriticFn& critic, const torch::Tensor& real, const torch::Tensor& fake,
                               double lambda, torch::Tensor* grad_norms) {
  check_arg(real.sizes() == fake.sizes(), "fake", fake.sizes(), "the shape of real " + detail::to_display(real.sizes()));
  check_arg(real.dim() >= 1 && real.size(0) >= 1, "real", real.sizes(), "a non-empty (n, ...) batch");
  check_arg(lambda >= 0, "lambda", lambda, "a number >= 0");
  return gradient_penalty_at(critic, gradient_penalty_interpolates(real.detach(), fake.detach()), lambda,
                             grad_norms);
}

}  // namespace physgen
