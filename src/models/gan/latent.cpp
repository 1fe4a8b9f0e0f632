#include "physgen/models/gan/latent.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/registry.h"

namespace physgen {

std::vector<std::string> latent_interpolation_methods() { return {"linear", "spherical"}; }

torch::Tensor interpolate_latents(const torch::Tensor& z0, const torch::Tensor& z1, const torch::Tensor& t,
                                  const std::string& method) {
  check_choice("method", method, latent_interpolation_methods());
  check_arg(z0.sizes() == z1.sizes(), "z1", detail::to_display(z1.sizes()),
            "the shape of z0 " + detail::to_display(z0.sizes()));
  check_arg(z0.dim() == 1 || z0.dim() == 2, "z0", detail::to_display(z0.sizes()), "(k) or (n, k)");
  check_arg(t.dim() == 1, "t", detail::to_display(t.sizes()), "(m) fractions");
  const bool single = z0.dim() == 1;
  auto a = (single ? z0.unsqueeze(0) : z0).unsqueeze(0);  // (1, n, k)
  auto b = (single ? z1.unsqueeze(0) : z1).unsqueeze(0);
  auto tt = t.to(a.options()).view({-1, 1, 1});            // (m, 1, 1)
  auto linear = (1 - tt) * a + tt * b;
  torch::Tensor out = linear;
  if (method == "spherical") {
    auto cosw = (a * b).sum(-1, true) / (a.norm(2, -1, true) * b.norm(2, -1, true)).clamp_min(1e-30);
    auto w = torch::acos(cosw.clamp(-1.0, 1.0));
    auto s = torch::sin(w);
    auto slerp = (torch::sin((1 - tt) * w) * a + torch::sin(tt * w) * b) / s.clamp_min(1e-12);
    out = torch::where(s > 1e-6, slerp, linear);
  }
  return single ? out.squeeze(1) : out;
}

torch::Tensor interpolate_latents(const torch::Tensor& z0, const torch::Tensor& z1, int64_t n_points,
                                  const std::string& method) {
  check_arg(n_points >= 2, "n_points", n_points, "an integer >= 2");
  return interpolate_latents(z0, z1, torch::linspace(0.0, 1.0, n_points, z0.options()), method);
}

namespace {
torch::Tensor set_mean(const torch::Tensor& s, const char* name) {
  check_arg(s.dim() == 1 || (s.dim() == 2 && s.size(0) >= 1), name, detail::to_display(s.sizes()),
            "a latent (k) or a non-empty set (m, k)");
  return s.dim() == 1 ? s : s.mean(0);
}
}  // namespace

torch::Tensor latent_arithmetic(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& c) {
  auto ma = set_mean(a, "a"), mb = set_mean(b, "b"), mc = set_mean(c, "c");
  check_arg(ma.size(0) == mb.size(0) && ma.size(0) == mc.size(0), "b", detail::to_display(b.sizes()),
            "the latent dimension of a (" + std::to_string(ma.size(0)) + ")");
  return ma - mb + mc;
}

torch::Tensor latent_direction(const torch::Tensor& a, const torch::Tensor& b) {
  auto ma = set_mean(a, "a"), mb = set_mean(b, "b");
  check_arg(ma.size(0) == mb.size(0), "b", detail::to_display(b.sizes()),
            "the latent dimension of a (" + std::to_string(ma.size(0)) + ")");
  return ma - mb;
}

torch::Tensor invert_generator(const std::function<torch::Tensor(const torch::Tensor&)>& generate,
                               const torch::Tensor& x, const torch::Tensor& z0, const InversionOptions& options) {
  check_arg(options.steps() >= 1, "steps", options.steps(), "an integer >= 1");
  check_arg(options.lr() > 0 && std::isfinite(options.lr()), "lr", options.lr(), "a finite value > 0");
  check_arg(options.prior_weight() >= 0, "prior_weight", options.prior_weight(), "a value >= 0");
  check_arg(z0.defined() && z0.dim() == 2, "z0", z0.defined() ? c10::str(z0.sizes()) : "undefined",
            "latents (n, k)");
  check_arg(x.defined() && x.dim() >= 1 && x.size(0) == z0.size(0), "x", x.defined() ? c10::str(x.sizes()) : "undefined",
            "one field per latent: (" + std::to_string(z0.size(0)) + ", *event_shape)");
  torch::AutoGradMode grad(true);
  torch::Tensor z = z0.detach().clone().requires_grad_(true);
  const torch::Tensor target = x.detach().to(z.options());
  torch::optim::Adam opt({z}, torch::optim::AdamOptions(options.lr()));
  for (int64_t i = 0; i < options.steps(); ++i) {
    const torch::Tensor residual = generate(z) - target;
    const torch::Tensor loss =
        0.5 * residual.pow(2).sum() + 0.5 * options.prior_weight() * z.pow(2).sum();
    opt.zero_grad();
    z.mutable_grad() = torch::autograd::grad({loss}, {z})[0];
    opt.step();
  }
  return z.detach();
}

}  // namespace physgen
