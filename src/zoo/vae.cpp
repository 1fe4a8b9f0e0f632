// Zoo family "vae": Vae (models/vae/vae.h), trained natively on --data by the ELBO (VaeTask).
// Lattices get a 16-dimensional latent and 256-wide MLPs. Its latent view decodes with the
// decoder mean and encodes to the posterior mean (`physgen interpolate --arithmetic`).
#include "physgen/models/vae/vae.h"
#include "physgen/zoo/kit.h"

namespace physgen::zoo {

namespace {

/// The latent view of a VAE: z ~ N(0, I), decode = decoder mean, encode = posterior mean.
class VaeLatent : public LatentModel {
 public:
  explicit VaeLatent(Vae vae) : vae_(std::move(vae)) {}
  int64_t latent_dim() const override { return vae_->options.latent_dim(); }
  torch::Tensor sample_latent(int64_t n) override {
    return torch::randn({n, latent_dim()}, vae_->log_sigma.options().requires_grad(false));
  }
  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor&) override { return vae_->decode(z); }
  torch::Tensor encode(const torch::Tensor& x) override {
    const torch::Tensor& p = vae_->log_sigma;
    return vae_->encode(x.to(p.device(), p.scalar_type())).first;
  }
  std::string encoder() const override { return "posterior-mean"; }
  std::vector<int64_t> event_shape() const override { return vae_->options.event_shape(); }

 private:
  Vae vae_;
};

nlohmann::json vae_defaults(const std::vector<int64_t>& shape) {
  VaeOptions o(shape);
  if (is_square_lattice(shape)) o.latent_dim(16).hidden({256, 256});
  return o.to_json();
}

Model build_vae(const ModelSpec& spec) {
  Vae vae(VaeOptions::from_json(spec.model));
  Model m = native_data_model<VaeTask>(spec, vae, "a VAE");
  m.latent = std::make_shared<VaeLatent>(vae);
  return m;
}

}  // namespace

void register_vae(FamilyRegistry& r) {
  r.add("vae", make_family(build_vae, vae_defaults, by_shape([](const std::vector<int64_t>&) {
                             return TrainerOptions().steps(3000).batch_size(128).lr(1e-3).schedule("cosine");
                           }),
                           "variational autoencoder: ELBO on --data"));
}

}  // namespace physgen::zoo
