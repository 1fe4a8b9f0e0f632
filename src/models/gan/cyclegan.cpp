#include "physgen/models/gan/cyclegan.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/registry.h"
#include "physgen/io/config.h"

namespace physgen {

// ------------------------------------------------------------------------ options

void CycleGanOptions::validate() const {
  check_arg(!event_shape_.empty(), "event_shape", "[]", "a non-empty shape");
  for (int64_t s : event_shape_) check_arg(s >= 1, "event_shape", s, "entries >= 1");
  check_choice("network", network_, {"mlp", "conv"});
  if (network_ == "conv")
    check_arg(event_shape_.size() == 2 && event_shape_[0] == event_shape_[1], "event_shape",
              detail::to_display(torch::IntArrayRef(event_shape_)), "{L, L} for network 'conv'");
  check_choice("loss", loss_, gan_loss_names());
  check_arg(lambda_cycle_ >= 0, "lambda_cycle", lambda_cycle_, "a number >= 0");
  check_arg(lambda_identity_ >= 0, "lambda_identity", lambda_identity_, "a number >= 0");
  check_arg(adam_beta1_ >= 0 && adam_beta1_ < 1, "adam_beta1", adam_beta1_, "a number in [0, 1)");
  check_arg(adam_beta2_ >= 0 && adam_beta2_ < 1, "adam_beta2", adam_beta2_, "a number in [0, 1)");
}

nlohmann::json CycleGanOptions::to_json() const { return options_to_json(*this); }

CycleGanOptions CycleGanOptions::from_json(const nlohmann::json& j) {
  check_arg(j.is_object() && j.contains("event_shape"), "event_shape", "(missing)", "a shape such as [8, 8]");
  CycleGanOptions o(j["event_shape"].get<std::vector<int64_t>>());
  options_from_json(o, j, "model");
  o.validate();
  return o;
}

// -------------------------------------------------------------------------- model

CycleGanImpl::CycleGanImpl(const CycleGanOptions& options_) : options(options_) {
  options.validate();
  reset();
}

void CycleGanImpl::reset() {
  dim_ = 1;
  for (int64_t s : options.event_shape()) dim_ *= s;
  const char* g_names[2] = {"g_ab", "g_ba"};
  const char* d_names[2] = {"d_a", "d_b"};
  std::shared_ptr<torch::nn::Module> g[2], d[2];
  for (int i = 0; i < 2; ++i) {
    if (options.network() == "mlp") {
      g_mlp_[i] = VectorMLP(VectorMLPOptions(dim_, dim_)
                                .hidden(options.hidden())
                                .activation(options.activation())
                                .zero_init_output(true));
      d_mlp_[i] = VectorMLP(VectorMLPOptions(dim_, 1).hidden(options.hidden()).activation(options.activation()));
      g[i] = register_module(g_names[i], g_mlp_[i].ptr());
      d[i] = register_module(d_names[i], d_mlp_[i].ptr());
    } else {
      g_conv_[i] = LatticeResNet(
          LatticeResNetOptions().channels(options.channels()).depth(options.depth()).periodic(options.periodic()));
      d_conv_[i] = LatticeDiscriminator(LatticeDiscriminatorOptions(options.event_shape()[0])
                                            .channels(options.discriminator_channels())
                                            .downsamplings(options.scales())
                                            .periodic(options.periodic()));
      g[i] = register_module(g_names[i], g_conv_[i].ptr());
      d[i] = register_module(d_names[i], d_conv_[i].ptr());
    }
  }
  g_ab = g[0];
  g_ba = g[1];
  d_a = d[0];
  d_b = d[1];
}

torch::Tensor CycleGanImpl::run_generator(int which, const torch::Tensor& x) {
  if (options.network() == "conv") return g_conv_[which]->forward(x);
  auto flat = x.reshape({x.size(0), dim_});
  return (flat + g_mlp_[which]->forward(flat)).view(x.sizes());
}

torch::Tensor CycleGanImpl::run_discriminator(int which, const torch::Tensor& x) {
  if (options.network() == "conv") return d_conv_[which]->forward(x);
  return d_mlp_[which]->forward(x.reshape({x.size(0), dim_})).squeeze(1);
}

torch::Tensor CycleGanImpl::translate_ab(const torch::Tensor& a) { return run_generator(0, a); }
torch::Tensor CycleGanImpl::translate_ba(const torch::Tensor& b) { return run_generator(1, b); }
torch::Tensor CycleGanImpl::discriminate_a(const torch::Tensor& x) { return run_discriminator(0, x); }
torch::Tensor CycleGanImpl::discriminate_b(const torch::Tensor& x) { return run_discriminator(1, x); }

torch::Tensor CycleGanImpl::translate(const torch::Tensor& x, const std::string& direction, int64_t batch) {
  check_choice("direction", direction, {"ab", "ba"});
  check_arg(batch >= 1, "batch", batch, "an integer >= 1");
  std::vector<int64_t> expected{-1};
  expected.insert(expected.end(), options.event_shape().begin(), options.event_shape().end());
  check_arg(x.dim() == static_cast<int64_t>(expected.size()) &&
                x.sizes().slice(1).equals(torch::IntArrayRef(options.event_shape())),
            "x", detail::to_display(x.sizes()), "(n, *event_shape) with event_shape " +
                                                   detail::to_display(torch::IntArrayRef(options.event_shape())));
  torch::NoGradGuard no_grad;
  const torch::Tensor p = parameters().front();
  auto xin = x.to(p.device(), p.scalar_type());
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < xin.size(0); i += batch) {
    auto chunk = xin.narrow(0, i, std::min(batch, xin.size(0) - i));
    out.push_back(run_generator(direction == "ab" ? 0 : 1, chunk));
  }
  return out.empty() ? xin.clone() : torch::cat(out, 0);
}

std::vector<torch::Tensor> CycleGanImpl::generator_parameters() const {
  auto p = g_ab->parameters();
  auto q = g_ba->parameters();
  p.insert(p.end(), q.begin(), q.end());
  return p;
}

std::vector<torch::Tensor> CycleGanImpl::discriminator_parameters() const {
  auto p = d_a->parameters();
  auto q = d_b->parameters();
  p.insert(p.end(), q.begin(), q.end());
  return p;
}

torch::Tensor pack_unpaired(const torch::Tensor& a, const torch::Tensor& b) {
  check_arg(a.dim() >= 2 && a.size(0) >= 1, "a", detail::to_display(a.sizes()), "a non-empty batch (N_a, ...)");
  check_arg(b.dim() == a.dim() && b.size(0) >= 1 && b.sizes().slice(1) == a.sizes().slice(1), "b",
            detail::to_display(b.sizes()), "(N_b, ...) with a's event shape");
  const int64_t n = std::min(a.size(0), b.size(0));
  const auto dtype = a.is_floating_point() ? a.scalar_type() : torch::kFloat32;
  auto pa = torch::randperm(n, torch::kLong);
  auto pb = torch::randperm(n, torch::kLong);
  auto ra = a.narrow(0, 0, n).index_select(0, pa.to(a.device())).to(dtype);
  auto rb = b.narrow(0, 0, n).index_select(0, pb.to(b.device())).to(a.device(), dtype);
  return torch::stack({ra, rb}, 1);
}

// --------------------------------------------------------------------------- task

CycleGanTask::CycleGanTask(CycleGan model)
    : model_(std::move(model)), loss_(gan_loss_from_name(model_->options.loss())) {}

std::vector<std::pair<std::string, std::vector<torch::Tensor>>> CycleGanTask::parameter_groups() {
  return {{"generators", model_->generator_parameters()}, {"discriminators", model_->discriminator_parameters()}};
}

torch::Tensor CycleGanTask::generator_objective(const torch::Tensor& batch, Translations& t, Diagnostics& diag) {
  auto& m = *model_;
  check_arg(batch.dim() >= 3 && batch.size(1) == 2, "batch", detail::to_display(batch.sizes()),
            "packed unpaired rows (B, 2, *event_shape) from pack_unpaired");
  t.a = batch.select(1, 0);
  t.b = batch.select(1, 1);
  t.fake_b = m.translate_ab(t.a);
  t.fake_a = m.translate_ba(t.b);
  auto adversarial = generator_loss(loss_, m.discriminate_b(t.fake_b)) + generator_loss(loss_, m.discriminate_a(t.fake_a));
  auto cycle = (m.translate_ba(t.fake_b) - t.a).abs().mean() + (m.translate_ab(t.fake_a) - t.b).abs().mean();
  auto total = adversarial + m.options.lambda_cycle() * cycle;
  torch::Tensor identity = torch::zeros({}, batch.options());
  if (m.options.lambda_identity() > 0) {
    identity = (m.translate_ab(t.b) - t.b).abs().mean() + (m.translate_ba(t.a) - t.a).abs().mean();
    total = total + m.options.lambda_identity() * identity;
  }
  diag["adversarial"] = adversarial.item<double>();
  diag["cycle"] = cycle.item<double>();
  diag["identity"] = identity.item<double>();
  return total;
}

torch::Tensor CycleGanTask::loss(const torch::Tensor& batch, Diagnostics& diag) {
  Translations t;
  return generator_objective(batch, t, diag);
}

GroupSettings CycleGanTask::group_settings(const std::string&) const {
  GroupSettings g;
  g.beta1 = model_->options.adam_beta1();
  g.beta2 = model_->options.adam_beta2();
  return g;
}

double CycleGanTask::train_step(const torch::Tensor& batch, std::vector<torch::optim::Optimizer*>& optimisers,
                                double clip, int64_t /*step*/, Diagnostics& diag) {
  auto& m = *model_;
  auto* opt_g = optimisers.at(0);
  auto* opt_d = optimisers.at(1);

  opt_g->zero_grad();
  Translations t;
  auto total = generator_objective(batch, t, diag);
  total.backward();
  if (clip > 0) torch::nn::utils::clip_grad_norm_(m.generator_parameters(), clip);
  opt_g->step();

  opt_d->zero_grad();
  auto d_a = discriminator_loss(loss_, m.discriminate_a(t.a), m.discriminate_a(t.fake_a.detach()));
  auto d_b = discriminator_loss(loss_, m.discriminate_b(t.b), m.discriminate_b(t.fake_b.detach()));
  (d_a + d_b).backward();
  if (clip > 0) torch::nn::utils::clip_grad_norm_(m.discriminator_parameters(), clip);
  opt_d->step();
  diag["d_a"] = d_a.item<double>();
  diag["d_b"] = d_b.item<double>();
  return total.item<double>();
}

nlohmann::json CycleGanTask::options() const {
  return {{"family", "cyclegan"}, {"cyclegan", model_->options.to_json()}};
}

}  // namespace physgen
