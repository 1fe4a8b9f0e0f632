// Zoo families "gan", "cgan", "wgan", "wgan-gp": Gan (models/gan/gan.h) with the variant's
// preset (GanOptions::preset). Lattice events ({L, L}) default to the periodic DCGAN, other
// shapes to MLPs. Trains natively (alternating generator / discriminator steps, GanTask).
//
// Conditions (ModelSpec::condition, set by `physgen train --condition`): every variant accepts
// one and "cgan" requires one. A class condition enters the networks one-hot (condition_dim =
// classes), a continuous one as its k raw values (Condition::features); training rows are
// pack_condition(x, features) and sample_with reads SamplerSettings::condition.
//
// Views: the latent view (LatentModel) decodes with the sampling generator and encodes by
// generator inversion (models/gan/latent.h), so `physgen interpolate` and latent arithmetic
// work as for the VAE.
#include "physgen/core/check.h"
#include "physgen/models/gan/gan.h"
#include "physgen/models/gan/latent.h"
#include "physgen/zoo/kit.h"

namespace physgen::zoo {

namespace {

// DCGAN stages for an L x L lattice: at most 2, each halving L (L0 = L / 2^scales >= 2).
int64_t dcgan_scales(int64_t L) {
  int64_t s = 0;
  while (s < 2 && L % (int64_t{1} << (s + 1)) == 0 && L / (int64_t{1} << (s + 1)) >= 2) ++s;
  return s;
}

/// The latent view of a GAN: decode = the sampling generator G(z, c); encode = inversion.
class GanLatent : public LatentModel {
 public:
  explicit GanLatent(Gan gan) : gan_(std::move(gan)) {}
  int64_t latent_dim() const override { return gan_->options.latent_dim(); }
  torch::Tensor sample_latent(int64_t n) override { return gan_->sample_latent(n); }
  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& c) override { return gan_->generate(z, c); }
  torch::Tensor encode(const torch::Tensor& x) override {
    check_arg(!gan_->conditional(), "model", "a conditional GAN",
              "an unconditional one for inversion (the condition of a field is not known)");
    return invert_generator([this](const torch::Tensor& z) { return gan_->generate(z); }, x,
                            gan_->sample_latent(x.size(0)));
  }
  std::string encoder() const override { return "inversion"; }
  bool conditional() const override { return gan_->conditional(); }
  std::vector<int64_t> event_shape() const override { return gan_->event_shape(); }

 private:
  Gan gan_;
};

nlohmann::json gan_defaults(const std::string& variant, const std::vector<int64_t>& shape) {
  GanOptions o = GanOptions::preset(variant, shape, variant == "cgan" ? 1 : 0);
  if (is_square_lattice(shape)) {
    // Periodic DCGAN (Pawlowski & Urban's lattice GAN scale): 64 channels at the coarsest
    // grid, up to two x2 stages; batch norm in the generator except for the critics of
    // the Wasserstein variants, where it is harmless in G but we keep the DCGAN default.
    o.network("dcgan").latent_dim(32).channels(64).scales(dcgan_scales(shape[0]));
  }
  o.condition_dim(0);  // set from ModelSpec::condition when the model is built
  return o.to_json();
}

TrainerOptions gan_train_defaults(const std::string& variant, const std::vector<int64_t>&) {
  // Adam with the DCGAN lr 2e-4 (beta1 0.5, set by GanTask); WGAN-GP's lr 1e-4 with 5
  // critic steps per generator step (Gulrajani et al.); WGAN (weight clipping) at 5e-5
  // (Arjovsky et al. use RMSprop at that rate). A trainer step is one critic step.
  if (variant == "wgan-gp") return TrainerOptions().steps(10000).batch_size(64).lr(1e-4).schedule("constant");
  if (variant == "wgan") return TrainerOptions().steps(10000).batch_size(64).lr(5e-5).schedule("constant");
  return TrainerOptions().steps(4000).batch_size(64).lr(2e-4).schedule("constant");
}

Model build_gan(const std::string& variant, const ModelSpec& spec) {
  const Condition& condition = spec.condition;
  const int64_t cdim = condition.width();
  check_arg(variant != "cgan" || cdim > 0, "condition", "(none)",
            "a condition for 'cgan' (physgen train cgan --condition label|PARAM with several --data files)");
  nlohmann::json j = spec.model;
  if (j.contains("condition_dim") && j["condition_dim"].is_number_integer() && j["condition_dim"].get<int64_t>() != 0)
    check_arg(j["condition_dim"].get<int64_t>() == cdim, "condition_dim", j["condition_dim"].dump(),
              std::to_string(cdim) + " (the width of the model's condition " + condition.to_json().dump() +
                  "; leave it 0 to derive it)");
  j["condition_dim"] = cdim;
  Gan gan(GanOptions::from_json(j));
  Model m = make_model(spec, gan);
  m.latent = std::make_shared<GanLatent>(gan);
  m.native_training = [gan, condition, variant](const TrainingData& data) {
    require_data(data, "a GAN");
    NativeTraining t;
    t.task = std::make_shared<GanTask>(gan, variant);
    t.fit_data = data.x.to(torch::kFloat32);
    if (!condition.none()) t.fit_data = pack_condition(t.fit_data, condition.features(data.condition));
    return t;
  };
  m.sample_with = [g = gan.ptr(), family = spec.family, condition](int64_t n, const SamplerSettings& settings,
                                                                 nlohmann::json&) {
    torch::NoGradGuard ng;
    const torch::Tensor c = condition.sampling_values(settings.condition, 1, family);
    return c.defined() ? g->sample(n, condition.features(c).view({-1})) : g->sample(n);
  };
  return m;
}

}  // namespace

void register_gan(FamilyRegistry& r) {
  for (const std::string& v : gan_variant_names()) {
    Family f = make_family([v](const ModelSpec& s) { return build_gan(v, s); },
                           [v](const std::vector<int64_t>& shape) { return gan_defaults(v, shape); },
                           by_shape([v](const std::vector<int64_t>& shape) { return gan_train_defaults(v, shape); }),
                           "'" + v + "' adversarial network: alternating generator / discriminator steps on --data",
                           /*conditional=*/true);
    f.condition_required = v == "cgan";
    r.add(v, f);
  }
}

}  // namespace physgen::zoo
