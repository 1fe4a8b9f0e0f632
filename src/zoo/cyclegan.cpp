// Zoo family "cyclegan": CycleGan (models/gan/cyclegan.h), unpaired translation between two
// ensembles (--data A and --data-b B). Lattices get the periodic conv generators. Its view is
// a Translator (`physgen translate`); it draws no samples of its own.
#include "physgen/core/check.h"
#include "physgen/models/gan/cyclegan.h"
#include "physgen/zoo/kit.h"

namespace physgen::zoo {

namespace {

/// `physgen sample` on a translator: explains what to do instead.
class TranslatorOnly : public GenerativeModel {
 public:
  explicit TranslatorOnly(std::vector<int64_t> shape) : shape_(std::move(shape)) {}
  torch::Tensor sample(int64_t) override {
    throw InvalidArgument(
        "model: a 'cyclegan' model translates ensembles and draws no samples of its own; "
        "use `physgen translate --model MODEL.pt --in A.npy --out B.npy`");
  }
  std::vector<int64_t> event_shape() const override { return shape_; }

 private:
  std::vector<int64_t> shape_;
};

/// The Translator view: G_ab, or G_ba in reverse.
class CycleGanTranslator : public Translator {
 public:
  explicit CycleGanTranslator(CycleGan net) : net_(std::move(net)) {}
  torch::Tensor translate(const torch::Tensor& x, bool reverse, int64_t batch) override {
    return net_->translate(x, reverse ? "ba" : "ab", batch);
  }
  std::vector<int64_t> event_shape() const override { return net_->event_shape(); }

 private:
  CycleGan net_;
};

nlohmann::json cyclegan_defaults(const std::vector<int64_t>& shape) {
  CycleGanOptions o(shape);
  // One x2 stage of the periodic ResNet generator where L is even and L / 2 >= 2.
  if (is_square_lattice(shape)) o.network("conv").scales(shape[0] % 2 == 0 && shape[0] / 2 >= 2 ? 1 : 0);
  return o.to_json();
}

Model build_cyclegan(const ModelSpec& spec) {
  CycleGan net(CycleGanOptions::from_json(spec.model));
  Model m;
  m.spec = spec;
  m.spec.model = net->options.to_json();
  m.module = net.ptr();
  m.generative = std::make_shared<TranslatorOnly>(net->options.event_shape());
  m.translator = std::make_shared<CycleGanTranslator>(net);
  m.native_training = [net](const TrainingData& data) {
    check_arg(data.x.defined() && data.x_b.defined(), "data", data.x_b.defined() ? "(no A)" : "(no B)",
              "two ensembles: --data A.npy and --data-b B.npy");
    NativeTraining t;
    t.task = std::make_shared<CycleGanTask>(net);
    t.fit_data = pack_unpaired(data.x.to(torch::kFloat32), data.x_b.to(torch::kFloat32));
    return t;
  };
  return m;
}

}  // namespace

void register_cyclegan(FamilyRegistry& r) {
  Family f = make_family(build_cyclegan, cyclegan_defaults, by_shape([](const std::vector<int64_t>&) {
                           return TrainerOptions().steps(3000).batch_size(64).lr(2e-4).schedule("constant");
                         }),
                         "CycleGAN: unpaired translation between --data and --data-b");
  f.needs_second_ensemble = true;
  r.add("cyclegan", f);
}

}  // namespace physgen::zoo
