#include "physgen/models/vae/vae.h"

#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"

namespace physgen {

namespace {
constexpr double kLog2Pi = 1.8378770664093454836;
}

void VaeOptions::validate() const {
  check_arg(!event_shape_.empty(), "event_shape", "[]", "a non-empty shape");
  for (int64_t s : event_shape_) check_arg(s >= 1, "event_shape", s, "entries >= 1");
  check_arg(latent_dim_ >= 1, "latent_dim", latent_dim_, "an integer >= 1");
  for (int64_t h : hidden_) check_arg(h >= 1, "hidden", h, "widths >= 1");
  check_choice("activation", activation_, vector_mlp_activations());
  check_choice("decoder_variance", decoder_variance_, {"learned", "fixed"});
  check_arg(decoder_sigma_ > 0 && std::isfinite(decoder_sigma_), "decoder_sigma", decoder_sigma_, "a finite number > 0");
  check_arg(beta_ >= 0 && std::isfinite(beta_), "beta", beta_, "a finite number >= 0");
}

nlohmann::json VaeOptions::to_json() const { return options_to_json(*this); }

VaeOptions VaeOptions::from_json(const nlohmann::json& j) {
  check_arg(j.is_object() && j.contains("event_shape"), "event_shape", "(missing)", "a shape such as [8, 8]");
  VaeOptions o(j["event_shape"].get<std::vector<int64_t>>());
  options_from_json(o, j, "model");
  o.validate();
  return o;
}

VaeImpl::VaeImpl(const VaeOptions& options_) : options(options_) {
  options.validate();
  reset();
}

void VaeImpl::reset() {
  dim_ = 1;
  for (int64_t s : options.event_shape()) dim_ *= s;
  const int64_t k = options.latent_dim();
  encoder = register_module(
      "encoder", VectorMLP(VectorMLPOptions(dim_, 2 * k).hidden(options.hidden()).activation(options.activation())));
  decoder = register_module(
      "decoder", VectorMLP(VectorMLPOptions(k, dim_).hidden(options.hidden()).activation(options.activation())));
  auto init = torch::full({dim_}, std::log(options.decoder_sigma()));
  if (options.decoder_variance() == "learned")
    log_sigma = register_parameter("log_sigma", init);
  else
    log_sigma = register_buffer("log_sigma", init);
}

torch::Tensor VaeImpl::flat(const torch::Tensor& x) const {
  check_arg(x.dim() == static_cast<int64_t>(options.event_shape().size()) + 1 &&
                x.sizes().slice(1).equals(torch::IntArrayRef(options.event_shape())),
            "x", detail::to_display(x.sizes()),
            "(n, *event_shape) with event_shape " + detail::to_display(torch::IntArrayRef(options.event_shape())));
  return x.reshape({x.size(0), dim_}).to(log_sigma.scalar_type());
}

std::pair<torch::Tensor, torch::Tensor> VaeImpl::encode(const torch::Tensor& x) {
  auto h = encoder->forward(flat(x));
  const int64_t k = options.latent_dim();
  return {h.narrow(1, 0, k), h.narrow(1, k, k)};
}

torch::Tensor VaeImpl::decode(const torch::Tensor& z) {
  std::vector<int64_t> shape{z.size(0)};
  shape.insert(shape.end(), options.event_shape().begin(), options.event_shape().end());
  return decoder->forward(z).view(shape);
}

namespace {
/// log N(x; mu, diag(exp(2 ls))) summed over the last dimension.
torch::Tensor gaussian_log_density(const torch::Tensor& x, const torch::Tensor& mu, const torch::Tensor& ls) {
  return (-0.5 * ((x - mu) * torch::exp(-ls)).pow(2) - ls - 0.5 * kLog2Pi).sum(-1);
}
}  // namespace

torch::Tensor VaeImpl::log_likelihood(const torch::Tensor& x, const torch::Tensor& z) {
  return gaussian_log_density(flat(x), decoder->forward(z), log_sigma);
}

ElboTerms VaeImpl::elbo_terms(const torch::Tensor& x, int64_t n_samples) {
  check_arg(n_samples >= 1, "n_samples", n_samples, "an integer >= 1");
  auto xf = flat(x);
  auto h = encoder->forward(xf);
  const int64_t k = options.latent_dim(), n = xf.size(0);
  auto m = h.narrow(1, 0, k), v = h.narrow(1, k, k);
  auto kl = 0.5 * (v.exp() + m.pow(2) - 1 - v).sum(1);
  auto eps = torch::randn({n_samples, n, k}, m.options());
  auto z = m.unsqueeze(0) + (0.5 * v).exp().unsqueeze(0) * eps;  // (S, n, k)
  auto mu = decoder->forward(z.reshape({n_samples * n, k})).view({n_samples, n, dim_});
  auto rec = gaussian_log_density(xf.unsqueeze(0), mu, log_sigma).mean(0);
  return {rec, kl};
}

torch::Tensor VaeImpl::iwae_log_likelihood(const torch::Tensor& x, int64_t K, int64_t chunk) {
  check_arg(K >= 1, "K", K, "an integer >= 1");
  check_arg(chunk >= 1, "chunk", chunk, "an integer >= 1");
  auto xf = flat(x);
  auto h = encoder->forward(xf);
  const int64_t k = options.latent_dim(), n = xf.size(0);
  auto m = h.narrow(1, 0, k), v = h.narrow(1, k, k);
  auto sd = (0.5 * v).exp();
  std::vector<torch::Tensor> parts;
  for (int64_t done = 0; done < K; done += chunk) {
    const int64_t s = std::min(chunk, K - done);
    auto eps = torch::randn({s, n, k}, m.options());
    auto z = m.unsqueeze(0) + sd.unsqueeze(0) * eps;
    auto mu = decoder->forward(z.reshape({s * n, k})).view({s, n, dim_});
    auto log_px_z = gaussian_log_density(xf.unsqueeze(0), mu, log_sigma);
    auto log_pz = (-0.5 * z.pow(2) - 0.5 * kLog2Pi).sum(-1);
    auto log_qz = (-0.5 * eps.pow(2) - 0.5 * v.unsqueeze(0) - 0.5 * kLog2Pi).sum(-1);
    parts.push_back(torch::logsumexp(log_px_z + log_pz - log_qz, 0));  // (n)
  }
  return torch::logsumexp(torch::stack(parts, 0), 0) - std::log(static_cast<double>(K));
}

torch::Tensor VaeImpl::sample(int64_t n) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  torch::NoGradGuard no_grad;
  auto z = torch::randn({n, options.latent_dim()}, log_sigma.options());
  auto mu = decoder->forward(z);
  if (options.sample_noise()) mu = mu + log_sigma.exp() * torch::randn_like(mu);
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), options.event_shape().begin(), options.event_shape().end());
  return mu.view(shape);
}

torch::Tensor VaeTask::loss(const torch::Tensor& batch, Diagnostics& diag) {
  auto t = model_->elbo_terms(batch, 1);
  auto rec = t.reconstruction.mean(), kl = t.kl.mean();
  diag["reconstruction"] = rec.item<double>();
  diag["kl"] = kl.item<double>();
  diag["elbo"] = (rec - kl).item<double>();
  return -(rec - model_->options.beta() * kl);
}

nlohmann::json VaeTask::options() const { return {{"family", "vae"}, {"vae", model_->options.to_json()}}; }

}  // namespace physgen
