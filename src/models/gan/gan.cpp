#include "physgen/models/gan/gan.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"

namespace physgen {

// ------------------------------------------------------------------------ options

std::vector<std::string> gan_variant_names() { return {"gan", "cgan", "wgan", "wgan-gp"}; }

GanOptions GanOptions::preset(const std::string& variant, std::vector<int64_t> event_shape,
                              int64_t condition_dim) {
  check_choice("variant", variant, gan_variant_names());
  GanOptions o(std::move(event_shape));
  o.condition_dim(condition_dim);
  if (variant == "wgan") o.loss("wasserstein").constraint("clip").n_critic(5);
  if (variant == "wgan-gp") o.loss("wasserstein").constraint("gp").n_critic(5).adam_beta1(0.5).adam_beta2(0.9);
  return o;
}

void GanOptions::validate() const {
  check_arg(!event_shape_.empty(), "event_shape", "[]", "a non-empty shape");
  for (int64_t s : event_shape_) check_arg(s >= 1, "event_shape", s, "entries >= 1");
  check_arg(latent_dim_ >= 1, "latent_dim", latent_dim_, "an integer >= 1");
  check_choice("latent_distribution", latent_distribution_, {"normal", "uniform"});
  check_choice("loss", loss_, gan_loss_names());
  check_choice("constraint", constraint_, {"none", "clip", "gp"});
  check_arg(clip_value_ > 0, "clip_value", clip_value_, "a number > 0");
  check_arg(gp_lambda_ >= 0, "gp_lambda", gp_lambda_, "a number >= 0");
  check_arg(n_critic_ >= 1, "n_critic", n_critic_, "an integer >= 1");
  check_arg(condition_dim_ >= 0, "condition_dim", condition_dim_, "an integer >= 0");
  check_choice("network", network_, {"mlp", "dcgan"});
  for (int64_t h : generator_hidden_) check_arg(h >= 1, "generator_hidden", h, "widths >= 1");
  for (int64_t h : discriminator_hidden_) check_arg(h >= 1, "discriminator_hidden", h, "widths >= 1");
  if (network_ == "dcgan")
    check_arg(event_shape_.size() == 2 && event_shape_[0] == event_shape_[1], "event_shape",
              detail::to_display(torch::IntArrayRef(event_shape_)), "{L, L} for network 'dcgan'");
  check_choice("output_activation", output_activation_, {"none", "tanh", "sign"});
  check_arg(generator_lr_scale_ > 0 && std::isfinite(generator_lr_scale_), "generator_lr_scale",
            generator_lr_scale_, "a finite number > 0");
  check_arg(generator_ema_ >= 0 && generator_ema_ < 1, "generator_ema", generator_ema_, "a number in [0, 1)");
  check_arg(adam_beta1_ >= 0 && adam_beta1_ < 1, "adam_beta1", adam_beta1_, "a number in [0, 1)");
  check_arg(adam_beta2_ >= 0 && adam_beta2_ < 1, "adam_beta2", adam_beta2_, "a number in [0, 1)");
  check_arg(instance_noise_ >= 0 && std::isfinite(instance_noise_), "instance_noise", instance_noise_,
            "a finite number >= 0");
  check_arg(minibatch_std_ == 0 || minibatch_std_ >= 2, "minibatch_std", minibatch_std_,
            "0 (off) or a group size >= 2");
}

nlohmann::json GanOptions::to_json() const { return options_to_json(*this); }

GanOptions GanOptions::from_json(const nlohmann::json& j) {
  check_arg(j.is_object() && j.contains("event_shape"), "event_shape", "(missing)", "a shape such as [8, 8]");
  GanOptions o(j["event_shape"].get<std::vector<int64_t>>());
  // "hidden" sets generator_hidden and discriminator_hidden at once (an input alias).
  nlohmann::json j_fields = j;
  if (j_fields.contains("hidden")) {
    o.hidden(j_fields["hidden"].get<std::vector<int64_t>>());
    j_fields.erase("hidden");
  }
  options_from_json(o, j_fields, "model");
  o.validate();
  return o;
}

// -------------------------------------------------------------------------- model

GanImpl::GanImpl(const GanOptions& options_) : options(options_) {
  options.validate();
  reset();
}

void GanImpl::reset() {
  dim_ = 1;
  for (int64_t s : options.event_shape()) dim_ *= s;
  const int64_t cdim = options.condition_dim();
  const int64_t d_cdim = cdim + (options.minibatch_std() > 0 ? 2 : 0);
  if (options.network() == "mlp") {
    g_mlp_ = VectorMLP(VectorMLPOptions(options.latent_dim(), dim_)
                           .condition_dim(cdim)
                           .hidden(options.generator_hidden())
                           .activation(options.activation())
                           .output_activation(net_output_activation()));
    d_mlp_ = VectorMLP(VectorMLPOptions(dim_, 1)
                           .condition_dim(d_cdim)
                           .hidden(options.discriminator_hidden())
                           .activation(options.activation()));
    generator = register_module("generator", g_mlp_.ptr());
    discriminator = register_module("discriminator", d_mlp_.ptr());
    if (options.generator_ema() > 0) {
      g_mlp_avg_ = std::dynamic_pointer_cast<VectorMLPImpl>(g_mlp_->clone());
      generator_average = register_module("generator_average", g_mlp_avg_.ptr());
    }
  } else {
    const int64_t L = options.event_shape()[0];
    g_conv_ = LatticeGenerator(LatticeGeneratorOptions(L, options.latent_dim())
                                   .condition_dim(cdim)
                                   .upsamplings(options.scales())
                                   .channels(options.channels())
                                   .batch_norm(options.batch_norm())
                                   .periodic(options.periodic())
                                   .output_activation(net_output_activation()));
    d_conv_ = LatticeDiscriminator(LatticeDiscriminatorOptions(L)
                                       .condition_dim(d_cdim)
                                       .downsamplings(options.scales())
                                       .channels(std::max<int64_t>(1, options.channels() / 2))
                                       .periodic(options.periodic()));
    generator = register_module("generator", g_conv_.ptr());
    discriminator = register_module("discriminator", d_conv_.ptr());
    if (options.generator_ema() > 0) {
      g_conv_avg_ = std::dynamic_pointer_cast<LatticeGeneratorImpl>(g_conv_->clone());
      generator_average = register_module("generator_average", g_conv_avg_.ptr());
    }
  }
  if (generator_average) {
    for (auto& p : generator_average->parameters()) p.set_requires_grad(false);
    average_updates_ = register_buffer("average_updates", torch::zeros({}, torch::kFloat64));
  }
}

void GanImpl::update_generator_average() {
  if (!generator_average) return;
  torch::NoGradGuard no_grad;
  const double k = average_updates_.item<double>();
  const double d = std::min(options.generator_ema(), (1.0 + k) / (10.0 + k));
  auto avg = generator_average->parameters();
  auto live = generator->parameters();
  for (size_t i = 0; i < avg.size(); ++i) avg[i].mul_(d).add_(live[i].detach(), 1.0 - d);
  auto avg_b = generator_average->buffers();
  auto live_b = generator->buffers();
  for (size_t i = 0; i < avg_b.size(); ++i) avg_b[i].copy_(live_b[i]);
  average_updates_.add_(1.0);
}

torch::Tensor GanImpl::sample_latent(int64_t n) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  auto opts = generator->parameters().front().options();
  if (options.latent_distribution() == "uniform") return 2 * torch::rand({n, options.latent_dim()}, opts) - 1;
  return torch::randn({n, options.latent_dim()}, opts);
}

torch::Tensor GanImpl::run_generator(int which, const torch::Tensor& z0, const torch::Tensor& c) {
  const int64_t n = z0.size(0);
  torch::Tensor z = z0, sign;
  if (options.z2_symmetric()) {
    auto first = z0.select(1, 0);
    sign = torch::where(first < 0, -torch::ones_like(first), torch::ones_like(first));
    z = torch::cat({first.abs().unsqueeze(1), z0.slice(1, 1)}, 1);
  }
  torch::Tensor x;
  if (options.network() == "mlp") {
    std::vector<int64_t> shape{n};
    shape.insert(shape.end(), options.event_shape().begin(), options.event_shape().end());
    x = (which == 0 ? g_mlp_ : g_mlp_avg_)->forward(z, c).view(shape);
  } else {
    x = (which == 0 ? g_conv_ : g_conv_avg_)->forward(z, c);
  }
  if (options.output_activation() == "sign") {
    // Straight-through: forward sign(tanh h) (0 -> +1), backward d tanh.
    auto hard = torch::where(x < 0, -torch::ones_like(x), torch::ones_like(x));
    x = x + (hard - x).detach();
  }
  if (!sign.defined()) return x;
  std::vector<int64_t> bshape(static_cast<size_t>(x.dim()), 1);
  bshape[0] = n;
  return x * sign.to(x.scalar_type()).view(bshape);
}

torch::Tensor GanImpl::generate(const torch::Tensor& z, const torch::Tensor& c) {
  return run_generator(generator_average ? 1 : 0, z, c);
}

torch::Tensor GanImpl::generate_trained(const torch::Tensor& z, const torch::Tensor& c) {
  return run_generator(0, z, c);
}

torch::Tensor GanImpl::discriminator_features(const torch::Tensor& x, const torch::Tensor& c) const {
  const int64_t G0 = options.minibatch_std();
  if (G0 == 0) return c;
  const int64_t n = x.size(0);
  const int64_t G = n % G0 == 0 ? G0 : n;
  auto xg = x.reshape({n / G, G, dim_});
  auto group_std = [](const torch::Tensor& t) {  // population std over dim 1
    return (t.var(1, /*unbiased=*/false) + 1e-8).sqrt();
  };
  auto s1 = group_std(xg).mean(1);         // (n / G)
  auto s2 = group_std(xg.mean(2, true)).squeeze(1);  // (n / G)
  auto stats = torch::stack({s1, s2}, 1).repeat_interleave(G, 0);  // (n, 2)
  return c.defined() && c.numel() > 0 ? torch::cat({c.to(stats.scalar_type()), stats}, 1) : stats;
}

torch::Tensor GanImpl::discriminate(const torch::Tensor& x0, const torch::Tensor& c) {
  const double sigma = options.instance_noise();
  auto x = sigma > 0 && is_training() ? x0 + sigma * torch::randn_like(x0) : x0;
  auto f = discriminator_features(x, c);
  if (options.network() == "mlp") return d_mlp_->forward(x.reshape({x.size(0), dim_}), f).squeeze(1);
  return d_conv_->forward(x, f);
}

torch::Tensor GanImpl::expand_condition(const torch::Tensor& c, int64_t n) const {
  const int64_t cdim = options.condition_dim();
  check_arg(c.defined() && c.numel() >= 1, "condition", "(undefined)", "a tensor of " + std::to_string(cdim) + " features");
  if (c.dim() == 2 && c.size(0) == n && c.size(1) == cdim) return c;
  check_arg(c.numel() == cdim, "condition", detail::to_display(c.sizes()),
            "(n, " + std::to_string(cdim) + "), (" + std::to_string(cdim) + ") or (1, " + std::to_string(cdim) + ")");
  return c.reshape({1, cdim}).expand({n, cdim});
}

torch::Tensor GanImpl::sample(int64_t n) {
  check_arg(!conditional() || sampling_condition_.defined(), "condition", "(none)",
            "set_sampling_condition() before sample(n) on a conditional GAN");
  return sample(n, sampling_condition_);
}

torch::Tensor GanImpl::sample(int64_t n, const torch::Tensor& c) {
  torch::NoGradGuard no_grad;
  auto z = sample_latent(n);
  torch::Tensor cc;
  if (conditional()) cc = expand_condition(c, n).to(z.options());
  return generate(z, cc);
}

void GanImpl::set_sampling_condition(const torch::Tensor& c) {
  check_arg(conditional(), "condition", detail::to_display(c.sizes()), "none: the GAN is unconditional");
  check_arg(c.numel() == options.condition_dim(), "condition", detail::to_display(c.sizes()),
            std::to_string(options.condition_dim()) + " values");
  sampling_condition_ = c.detach().reshape({options.condition_dim()}).clone();
}


// --------------------------------------------------------------------------- task

GanTask::GanTask(Gan model, std::string variant)
    : variant_(std::move(variant)), model_(std::move(model)), loss_(gan_loss_from_name(model_->options.loss())) {}

std::vector<std::pair<std::string, std::vector<torch::Tensor>>> GanTask::parameter_groups() {
  return {{"generator", model_->generator_parameters()}, {"discriminator", model_->discriminator_parameters()}};
}

GroupSettings GanTask::group_settings(const std::string& name) const {
  const GanOptions& o = model_->options;
  GroupSettings g;
  g.beta1 = o.adam_beta1();
  g.beta2 = o.adam_beta2();
  if (name == "generator") g.lr_scale = o.generator_lr_scale();
  return g;
}

std::pair<torch::Tensor, torch::Tensor> GanTask::split(const torch::Tensor& batch) const {
  const auto& o = model_->options;
  if (o.condition_dim() == 0) return {batch, torch::Tensor()};
  int64_t d = 1;
  for (int64_t s : o.event_shape()) d *= s;
  check_arg(batch.dim() == 2 && batch.size(1) == d + o.condition_dim(), "batch", detail::to_display(batch.sizes()),
            "packed rows (B, " + std::to_string(d + o.condition_dim()) + ") from pack_condition");
  std::vector<int64_t> shape{batch.size(0)};
  shape.insert(shape.end(), o.event_shape().begin(), o.event_shape().end());
  return {batch.narrow(1, 0, d).reshape(shape), batch.narrow(1, d, o.condition_dim())};
}

torch::Tensor GanTask::loss(const torch::Tensor& batch, Diagnostics& diag) {
  auto [x, c] = split(batch);
  auto fake = model_->generate_trained(model_->sample_latent(x.size(0)), c).detach();
  auto l = discriminator_loss(loss_, model_->discriminate(x, c), model_->discriminate(fake, c));
  diag["d_loss"] = l.item<double>();
  return l;
}

double GanTask::train_step(const torch::Tensor& batch, std::vector<torch::optim::Optimizer*>& optimisers,
                           double clip, int64_t step, Diagnostics& diag) {
  auto& m = *model_;
  const auto& o = m.options;
  auto* opt_g = optimisers.at(0);
  auto* opt_d = optimisers.at(1);
  auto [x, c] = split(batch);
  const int64_t n = x.size(0);

  // Critic / discriminator step.
  opt_d->zero_grad();
  torch::Tensor fake;
  {
    torch::NoGradGuard no_grad;
    fake = m.generate_trained(m.sample_latent(n), c);
  }
  auto real_out = m.discriminate(x, c);
  auto fake_out = m.discriminate(fake, c);
  auto d_loss = discriminator_loss(loss_, real_out, fake_out);
  auto total = d_loss;
  if (o.constraint() == "gp") {
    torch::Tensor norms;
    auto critic = [&](const torch::Tensor& xi) { return m.discriminate(xi, c); };
    auto gp = gradient_penalty_at(critic, gradient_penalty_interpolates(x, fake), o.gp_lambda(), &norms);
    total = total + gp;
    diag["gp"] = gp.item<double>();
    diag["grad_norm"] = norms.mean().item<double>();
  }
  total.backward();
  if (clip > 0) torch::nn::utils::clip_grad_norm_(m.discriminator_parameters(), clip);
  opt_d->step();
  if (o.constraint() == "clip") {
    torch::NoGradGuard no_grad;
    for (auto& p : m.discriminator_parameters()) p.clamp_(-o.clip_value(), o.clip_value());
  }

  // Generator step every n_critic-th trainer step.
  if ((step + 1) % o.n_critic() == 0) {
    opt_g->zero_grad();
    auto g_loss = generator_loss(loss_, m.discriminate(m.generate_trained(m.sample_latent(n), c), c));
    g_loss.backward();
    if (clip > 0) torch::nn::utils::clip_grad_norm_(m.generator_parameters(), clip);
    opt_g->step();
    m.update_generator_average();
    last_g_loss_ = g_loss.item<double>();
  }
  const double d = d_loss.item<double>();
  diag["d_loss"] = d;
  diag["g_loss"] = last_g_loss_;
  diag["d_real"] = real_out.mean().item<double>();
  diag["d_fake"] = fake_out.mean().item<double>();
  return total.item<double>();
}

nlohmann::json GanTask::options() const { return {{"family", variant_}, {"options", model_->options.to_json()}}; }

}  // namespace physgen
