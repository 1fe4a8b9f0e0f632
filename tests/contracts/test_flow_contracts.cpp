// One typed contract test over every bijector and every composed flow (DESIGN.md, Style 6):
// invertibility, log-det against the autograd Jacobian's slogdet (float64), forward and
// inverse log-dets summing to zero, gradients reaching every parameter, save/load, and
// Z2 equivariance where a layer claims it. A case may declare kVolumePreserving (its log-det
// must then be exactly 0 instead of nonzero); a layer without parameters skips the "other
// parameters give other outputs" half of the save/load check.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <type_traits>
#include <unistd.h>

#include <torch/torch.h>

#include "physgen/models/flows/affine_coupling.h"
#include "physgen/models/flows/factory.h"
#include "physgen/models/flows/maf.h"
#include "physgen/models/flows/masks.h"
#include "physgen/models/flows/spline_coupling.h"
#include "physgen/models/flows/wavelet.h"

using namespace physgen;

namespace {

ConditionerOptions mlp(std::vector<int64_t> hidden) {
  return ConditionerOptions().network(ConditionerNetwork::kMLP).hidden(std::move(hidden));
}
ConditionerOptions conv(std::vector<int64_t> hidden) {
  return ConditionerOptions().network(ConditionerNetwork::kConv).hidden(std::move(hidden));
}

// Each case: shape, context width, whether it claims Z2 equivariance, whether it is a Flow,
// and a builder (float32, zero-initialised last layers; the fixture randomises and casts).
struct AffineVector {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {5}; }
  static BijectorPtr make() {
    return AffineCoupling(AffineCouplingOptions(vector_mask(5, VectorMask::kHalves)).conditioner(mlp({16}))).ptr();
  }
};
struct AffineVectorContext {
  static constexpr int64_t C = 3;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {6}; }
  static BijectorPtr make() {
    return AffineCoupling(AffineCouplingOptions(vector_mask(6, VectorMask::kAlternating, true))
                              .conditioner(mlp({16, 16}))
                              .context_features(C))
        .ptr();
  }
};
struct AffineVectorZ2 {
  static constexpr int64_t C = 2;
  static constexpr bool kZ2 = true;
  static std::vector<int64_t> shape() { return {4}; }
  static BijectorPtr make() {
    return AffineCoupling(AffineCouplingOptions(vector_mask(4, VectorMask::kHalves))
                              .conditioner(mlp({16}))
                              .context_features(C)
                              .z2_equivariant(true))
        .ptr();
  }
};
struct AffineLattice {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() {
    return AffineCoupling(AffineCouplingOptions(checkerboard_mask(4, 4, 0))
                              .conditioner(conv({4, 4}))
                              .scale_clamp(1.0))
        .ptr();
  }
};
struct AffineLatticeContext {
  static constexpr int64_t C = 2;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() {
    return AffineCoupling(AffineCouplingOptions(checkerboard_mask(4, 4, 1))
                              .conditioner(conv({4}).kernel_size(5))
                              .context_features(C))
        .ptr();
  }
};
struct AffineLatticeZ2 {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = true;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() {
    return AffineCoupling(AffineCouplingOptions(checkerboard_mask(4, 4, 0))
                              .conditioner(conv({4, 4}))
                              .z2_equivariant(true))
        .ptr();
  }
};
struct AffineLatticeOddZ2 {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = true;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() {
    return AffineCoupling(AffineCouplingOptions(checkerboard_mask(4, 4, 1))
                              .conditioner(conv({4, 4}).activation(Activation::kTanh))
                              .z2_equivariant(true)
                              .z2_method(Z2Method::kOddNetwork))
        .ptr();
  }
};
struct AffineVectorOddZ2 {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = true;
  static std::vector<int64_t> shape() { return {5}; }
  static BijectorPtr make() {
    return AffineCoupling(AffineCouplingOptions(vector_mask(5, VectorMask::kAlternating))
                              .conditioner(mlp({16}).activation(Activation::kTanh))
                              .z2_equivariant(true)
                              .z2_method(Z2Method::kOddNetwork))
        .ptr();
  }
};
struct MAF {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {5}; }
  static BijectorPtr make() {
    return MaskedAutoregressive(MaskedAutoregressiveOptions(5).hidden({16, 16})).ptr();
  }
};
struct MAFContextReversed {
  static constexpr int64_t C = 2;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {4}; }
  static BijectorPtr make() {
    return MaskedAutoregressive(
               MaskedAutoregressiveOptions(4).hidden({12}).context_features(C).reverse_order(true))
        .ptr();
  }
};
struct IAF {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {4}; }
  static BijectorPtr make() {
    return MaskedAutoregressive(
               MaskedAutoregressiveOptions(4).hidden({16}).inverse_autoregressive(true))
        .ptr();
  }
};
struct MAFZ2 {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = true;
  static std::vector<int64_t> shape() { return {5}; }
  static BijectorPtr make() {
    return MaskedAutoregressive(MaskedAutoregressiveOptions(5).hidden({16}).z2_equivariant(true))
        .ptr();
  }
};
struct SplineVector {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {5}; }
  static BijectorPtr make() {
    return SplineCoupling(SplineCouplingOptions(vector_mask(5, VectorMask::kAlternating))
                              .bins(6)
                              .tail_bound(2.5)
                              .conditioner(mlp({16})))
        .ptr();
  }
};
struct SplineVectorContext {
  static constexpr int64_t C = 3;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {4}; }
  static BijectorPtr make() {
    return SplineCoupling(SplineCouplingOptions(vector_mask(4, VectorMask::kHalves, true))
                              .bins(4)
                              .conditioner(mlp({16}))
                              .context_features(C))
        .ptr();
  }
};
struct SplineLatticeZ2 {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = true;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() {
    return SplineCoupling(SplineCouplingOptions(checkerboard_mask(4, 4, 1))
                              .bins(5)
                              .tail_bound(2.0)
                              .conditioner(conv({4}))
                              .z2_equivariant(true))
        .ptr();
  }
};
struct FlowRealNVPLattice {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() { return make_realnvp_lattice(4, 4, {4, 4}, 3).ptr(); }
};
struct FlowRealNVPLatticeZ2Context {
  static constexpr int64_t C = 2;
  static constexpr bool kZ2 = true;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() { return make_realnvp_lattice(4, 3, {4}, 3, true, C).ptr(); }
};
struct FlowRealNVPLatticeOddZ2 {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = true;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() {
    return make_flow(FlowOptions("affine", {4, 4})
                         .n_layers(3)
                         .hidden({4, 4})
                         .activation("tanh")
                         .z2_equivariant(true)
                         .z2_method("odd"))
        .ptr();
  }
};
struct FlowRealNVPVectorGaussianBase {
  static constexpr int64_t C = 2;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {6}; }
  static BijectorPtr make() {
    return make_flow(FlowOptions("affine", {6})
                         .n_layers(5)
                         .hidden({16})
                         .context_features(C)
                         .base("diagonal_gaussian"))
        .ptr();
  }
};
struct FlowMAF {
  static constexpr int64_t C = 2;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {4}; }
  static BijectorPtr make() { return make_maf(4, 3, {16}, C).ptr(); }
};
struct FlowIAFZ2 {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = true;
  static std::vector<int64_t> shape() { return {4}; }
  static BijectorPtr make() {
    return make_flow(FlowOptions("iaf", {4}).n_layers(3).hidden({16}).z2_equivariant(true)).ptr();
  }
};
struct FlowSplineVector {
  static constexpr int64_t C = 1;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {5}; }
  static BijectorPtr make() { return make_spline_flow({5}, 4, 5, 2.5, {16}, C).ptr(); }
};
struct FlowSplineLattice {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = false;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() { return make_spline_flow({4, 4}, 2, 4, 2.0, {4}).ptr(); }
};

struct WaveletHaar {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = true;
  static constexpr bool kVolumePreserving = true;
  static std::vector<int64_t> shape() { return {4, 4}; }
  static BijectorPtr make() { return WaveletBijector(WaveletBijectorOptions({4, 4}).levels(2)).ptr(); }
};
struct WaveletDb4 {
  static constexpr int64_t C = 0;
  static constexpr bool kZ2 = true;
  static constexpr bool kVolumePreserving = true;
  static std::vector<int64_t> shape() { return {8, 4}; }
  static BijectorPtr make() { return WaveletBijector(WaveletBijectorOptions({8, 4}).wavelet("db4").levels(1)).ptr(); }
};

/// Case::kVolumePreserving where declared, else false.
template <class C, class = void>
struct VolumePreserving : std::false_type {};
template <class C>
struct VolumePreserving<C, std::void_t<decltype(C::kVolumePreserving)>> : std::bool_constant<C::kVolumePreserving> {};

std::vector<int64_t> batch_shape(int64_t b, std::vector<int64_t> s) {
  s.insert(s.begin(), b);
  return s;
}

// Builds the case in float64 with every parameter perturbed (the zero-initialised last layers
// included), so that each layer is a non-trivial map.
template <class Case>
BijectorPtr build(uint64_t seed) {
  torch::manual_seed(seed);
  auto b = Case::make();
  b->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : b->parameters()) p.add_(torch::randn_like(p) * 0.3);
  return b;
}

}  // namespace

template <class Case>
class FlowContract : public ::testing::Test {
 protected:
  void SetUp() override {
    bij = build<Case>(1234);
    torch::manual_seed(99);
    x = torch::randn(batch_shape(B, Case::shape()), torch::kFloat64) * 1.5;
    if (Case::C > 0) context = torch::randn({B, Case::C}, torch::kFloat64);
  }
  static constexpr int64_t B = 3;
  BijectorPtr bij;
  torch::Tensor x, context;
};

using Cases = ::testing::Types<AffineVector, AffineVectorContext, AffineVectorZ2, AffineLattice,
                               AffineLatticeContext, AffineLatticeZ2, AffineLatticeOddZ2,
                               AffineVectorOddZ2, MAF, MAFContextReversed,
                               IAF, MAFZ2, SplineVector, SplineVectorContext, SplineLatticeZ2,
                               FlowRealNVPLattice, FlowRealNVPLatticeZ2Context,
                               FlowRealNVPLatticeOddZ2, FlowRealNVPVectorGaussianBase, FlowMAF, FlowIAFZ2,
                               FlowSplineVector, FlowSplineLattice, WaveletHaar, WaveletDb4>;

class CaseNames {
 public:
  template <class T>
  static std::string GetName(int i) {
    static const char* names[] = {"AffineVector", "AffineVectorContext", "AffineVectorZ2",
                                  "AffineLattice", "AffineLatticeContext", "AffineLatticeZ2",
                                  "AffineLatticeOddZ2", "AffineVectorOddZ2", "MAF", "MAFContextReversed", "IAF", "MAFZ2", "SplineVector",
                                  "SplineVectorContext", "SplineLatticeZ2",
                                  "FlowRealNVPLattice", "FlowRealNVPLatticeZ2Context",
                                  "FlowRealNVPLatticeOddZ2", "FlowRealNVPVectorGaussianBase", "FlowMAF", "FlowIAFZ2",
                                  "FlowSplineVector", "FlowSplineLattice", "WaveletHaar", "WaveletDb4"};
    return names[i];
  }
};
TYPED_TEST_SUITE(FlowContract, Cases, CaseNames);

TYPED_TEST(FlowContract, DeclaresShapeContextAndSymmetry) {
  EXPECT_EQ(this->bij->event_shape(), TypeParam::shape());
  EXPECT_EQ(this->bij->context_features(), TypeParam::C);
  EXPECT_EQ(this->bij->z2_equivariant(), TypeParam::kZ2);
}

TYPED_TEST(FlowContract, InverseUndoesForwardAndLogDetsCancel) {
  torch::NoGradGuard no_grad;
  auto f = this->bij->forward_and_log_det(this->x, this->context);
  auto g = this->bij->inverse_and_log_det(f.first, this->context);
  EXPECT_LT((g.first - this->x).abs().max().template item<double>(), 1e-10);
  EXPECT_LT((f.second + g.second).abs().max().template item<double>(), 1e-10);
  // The other order runs the other code path (sequential vs parallel for MAF / IAF).
  auto h = this->bij->inverse_and_log_det(this->x, this->context);
  auto k = this->bij->forward_and_log_det(h.first, this->context);
  EXPECT_LT((k.first - this->x).abs().max().template item<double>(), 1e-10);
  EXPECT_LT((h.second + k.second).abs().max().template item<double>(), 1e-10);
  // A non-trivial map: the test would not pass vacuously with an identity.
  EXPECT_GT((f.first - this->x).abs().max().template item<double>(), 1e-3);
  if (VolumePreserving<TypeParam>::value)
    EXPECT_EQ(f.second.abs().max().template item<double>(), 0.0);
  else
    EXPECT_GT(f.second.abs().max().template item<double>(), 1e-3);
}

TYPED_TEST(FlowContract, LogDetMatchesAutogradJacobian) {
  const int64_t B = this->B;
  auto x = this->x.clone().requires_grad_(true);
  auto f = this->bij->forward_and_log_det(x, this->context);
  auto y = f.first.reshape({B, -1});
  const int64_t D = y.size(1);
  auto jac = torch::zeros({B, D, D}, torch::kFloat64);
  for (int64_t j = 0; j < D; ++j) {
    auto g = torch::autograd::grad({y.select(1, j).sum()}, {x}, {}, /*retain_graph=*/true)[0];
    jac.select(1, j).copy_(g.reshape({B, D}));
  }
  auto sld = torch::linalg_slogdet(jac);
  auto logabsdet = std::get<1>(sld);
  EXPECT_LT((logabsdet - f.second.detach()).abs().max().template item<double>(), 1e-9)
      << "autograd " << logabsdet << " layer " << f.second;
  // Same for the inverse direction.
  auto yv = f.first.detach().clone().requires_grad_(true);
  auto g = this->bij->inverse_and_log_det(yv, this->context);
  auto xv = g.first.reshape({B, -1});
  auto jinv = torch::zeros({B, D, D}, torch::kFloat64);
  for (int64_t j = 0; j < D; ++j) {
    auto gr = torch::autograd::grad({xv.select(1, j).sum()}, {yv}, {}, true)[0];
    jinv.select(1, j).copy_(gr.reshape({B, D}));
  }
  auto inv_logabsdet = std::get<1>(torch::linalg_slogdet(jinv));
  EXPECT_LT((inv_logabsdet - g.second.detach()).abs().max().template item<double>(), 1e-9);
}

TYPED_TEST(FlowContract, EveryParameterGetsAGradient) {
  auto flow = std::dynamic_pointer_cast<FlowImpl>(this->bij);
  // The input too: a layer without parameters must still pass gradients through.
  auto x = this->x.clone().requires_grad_(true);
  torch::Tensor loss;
  if (flow) {
    // log_prob reaches the base too (the learnable diagonal Gaussian).
    loss = flow->log_prob(x, this->context).sum();
  } else {
    auto f = this->bij->forward_and_log_det(x, this->context);
    loss = f.first.square().sum() + f.second.sum();
  }
  loss.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().template item<double>(), 0.0);
  EXPECT_TRUE(torch::isfinite(x.grad()).all().template item<bool>());
  for (const auto& p : this->bij->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().template item<double>(), 0.0) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().template item<bool>()) << p.key();
  }
}

TYPED_TEST(FlowContract, SaveThenLoadGivesIdenticalOutputs) {
  char path[] = "/tmp/physgen_flow_contract_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  torch::save(std::static_pointer_cast<torch::nn::Module>(this->bij), path);
  auto other = build<TypeParam>(777);  // same architecture, different parameters
  torch::NoGradGuard no_grad;
  auto before = other->forward_and_log_det(this->x, this->context);
  auto ref = this->bij->forward_and_log_det(this->x, this->context);
  if (!this->bij->parameters().empty())
    EXPECT_GT((before.first - ref.first).abs().max().template item<double>(), 1e-6);
  std::shared_ptr<torch::nn::Module> as_module = other;
  torch::load(as_module, path);
  std::remove(path);
  auto after = other->forward_and_log_det(this->x, this->context);
  EXPECT_TRUE(torch::equal(after.first, ref.first));
  EXPECT_TRUE(torch::equal(after.second, ref.second));
  if (auto f = std::dynamic_pointer_cast<FlowImpl>(this->bij)) {
    auto g = std::dynamic_pointer_cast<FlowImpl>(other);
    EXPECT_TRUE(torch::equal(f->log_prob(this->x, this->context),
                             g->log_prob(this->x, this->context)));
  }
}

TYPED_TEST(FlowContract, EquivariantWhereClaimed) {
  if (!TypeParam::kZ2) GTEST_SKIP() << "not claimed";
  torch::NoGradGuard no_grad;
  auto f = this->bij->forward_and_log_det(this->x, this->context);
  auto fm = this->bij->forward_and_log_det(-this->x, this->context);
  EXPECT_LT((fm.first + f.first).abs().max().template item<double>(), 1e-12);
  EXPECT_LT((fm.second - f.second).abs().max().template item<double>(), 1e-12);
  auto g = this->bij->inverse_and_log_det(this->x, this->context);
  auto gm = this->bij->inverse_and_log_det(-this->x, this->context);
  EXPECT_LT((gm.first + g.first).abs().max().template item<double>(), 1e-12);
  EXPECT_LT((gm.second - g.second).abs().max().template item<double>(), 1e-12);
  if (auto flow = std::dynamic_pointer_cast<FlowImpl>(this->bij)) {
    auto lp = flow->log_prob(this->x, this->context);
    auto lpm = flow->log_prob(-this->x, this->context);
    EXPECT_LT((lp - lpm).abs().max().template item<double>(), 1e-12);
  }
}

// The equivariance check can fail: the same architecture without the symmetrisation is not
// equivariant once its parameters are random.
TEST(FlowContractSanity, NonEquivariantLayerFailsTheEquivarianceCheck) {
  auto b = build<AffineLattice>(5);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({3, 4, 4}, torch::kFloat64);
  auto f = b->forward_and_log_det(x);
  auto fm = b->forward_and_log_det(-x);
  EXPECT_GT((fm.first + f.first).abs().max().template item<double>(), 1e-3);
}

// The rational-quadratic spline at and beyond its tail bound: finite, C^0 with the identity,
// invertible, log-det 0 outside, finite gradients everywhere.
TEST(SplineTails, FiniteAndInvertibleAtAndBeyondTheBound) {
  const double Bd = 2.0;
  const int64_t K = 5;
  torch::manual_seed(3);
  auto x = torch::tensor({-1e6, -10.0, -Bd - 1e-9, -Bd, -Bd + 1e-9, -1.0, 0.0, 0.7, Bd - 1e-9,
                          Bd, Bd + 1e-9, 10.0, 1e6},
                         torch::kFloat64)
               .requires_grad_(true);
  auto params = (torch::randn({x.numel(), 3 * K - 1}, torch::kFloat64) * 2).requires_grad_(true);
  auto f = rational_quadratic_spline(x, params, K, Bd, false);
  EXPECT_TRUE(torch::isfinite(f.first).all().template item<bool>());
  EXPECT_TRUE(torch::isfinite(f.second).all().template item<bool>());
  (f.first.sum() + f.second.sum()).backward();
  EXPECT_TRUE(torch::isfinite(x.grad()).all().template item<bool>());
  EXPECT_TRUE(torch::isfinite(params.grad()).all().template item<bool>());
  torch::NoGradGuard no_grad;
  auto xd = x.detach();
  auto outside = xd.abs() > Bd;
  // Identity tails, and the knots at +-B are fixed points: continuity with the tails.
  EXPECT_TRUE(torch::equal(f.first.masked_select(outside), xd.masked_select(outside)));
  EXPECT_TRUE(torch::equal(f.second.masked_select(outside),
                           torch::zeros_like(f.second).masked_select(outside)));
  EXPECT_LT((f.first - xd).abs().masked_select(xd.abs() >= Bd - 1e-9).max().template item<double>(), 1e-8);
  auto g = rational_quadratic_spline(f.first, params.detach(), K, Bd, true);
  EXPECT_LT((g.first - xd).abs().max().template item<double>(), 1e-10);
  EXPECT_LT((g.second + f.second).abs().max().template item<double>(), 1e-10);
  // Slope 1 at the boundaries (matches the linear tails): log-det -> 0 at +-B.
  EXPECT_LT(f.second[3].abs().template item<double>(), 1e-12);
  EXPECT_LT(f.second[9].abs().template item<double>(), 1e-12);
}

TEST(SplineTails, ZeroParametersGiveTheIdentity) {
  auto x = torch::linspace(-4, 4, 33, torch::kFloat64);
  auto params = torch::zeros({33, 3 * 6 - 1}, torch::kFloat64);
  auto f = rational_quadratic_spline(x, params, 6, 3.0, false);
  EXPECT_LT((f.first - x).abs().max().template item<double>(), 1e-12);
  EXPECT_LT(f.second.abs().max().template item<double>(), 1e-12);
}
