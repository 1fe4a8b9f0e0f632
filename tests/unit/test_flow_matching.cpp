// Flow matching: paths against closed forms, exact assignment against enumeration,
// loss, reflow and the likelihood contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/models/flow_matching/flow_matching.h"
#include "physgen/models/flow_matching/paths.h"
#include "physgen/ode/assignment.h"

using namespace physgen;

namespace {

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

void expect_velocity_is_time_derivative(const ProbabilityPath& path) {
  torch::manual_seed(1);
  auto x0 = torch::randn({5, 3}, torch::kFloat64);
  auto x1 = torch::randn({5, 3}, torch::kFloat64);
  const double h = 1e-6;
  for (double t : {0.0 + 2 * h, 0.1, 0.37, 0.5, 0.8, 0.95, path.t_max() - 2 * h}) {
    auto tt = torch::full({5}, t, torch::kFloat64);
    auto [xt, ut] = path.point_and_velocity(x0, x1, tt);
    auto xp = path.point_and_velocity(x0, x1, tt + h).first;
    auto xm = path.point_and_velocity(x0, x1, tt - h).first;
    auto fd = (xp - xm) / (2 * h);
    const double scale = std::max(1.0, max_abs(ut));
    EXPECT_LT(max_abs(fd - ut) / scale, 1e-6) << path.name() << " t=" << t;
  }
}

}  // namespace

TEST(FlowMatchingPaths, LinearPathClosedForm) {
  LinearPath path;
  auto x0 = torch::randn({4, 2}, torch::kFloat64);
  auto x1 = torch::randn({4, 2}, torch::kFloat64);
  auto t = torch::tensor({0.0, 0.25, 0.6, 1.0}, torch::kFloat64);
  auto [xt, ut] = path.point_and_velocity(x0, x1, t);
  auto tc = t.unsqueeze(1);
  EXPECT_LT(max_abs(xt - ((1 - tc) * x0 + tc * x1)), 1e-15);
  EXPECT_LT(max_abs(ut - (x1 - x0)), 1e-15);
  EXPECT_LT(max_abs(xt[0] - x0[0]), 1e-15);
  EXPECT_LT(max_abs(xt[3] - x1[3]), 1e-15);
  // sigma_min: u = x1 - (1 - sigma_min) x0 and x_1 = x1 + sigma_min x0.
  LinearPath noisy(0.1);
  auto [xn, un] = noisy.point_and_velocity(x0, x1, t);
  EXPECT_LT(max_abs(un - (x1 - 0.9 * x0)), 1e-15);
  EXPECT_LT(max_abs(xn[3] - (x1[3] + 0.1 * x0[3])), 1e-15);
  expect_velocity_is_time_derivative(path);
  expect_velocity_is_time_derivative(noisy);
}

TEST(FlowMatchingPaths, VariancePreservingPathClosedForm) {
  VPPath path(0.1, 20.0);
  auto t = torch::tensor({0.0, 0.3, 0.9, 1.0}, torch::kFloat64);
  auto c = path.coefficients(t);
  // Variance preserving: alpha^2 + sigma^2 = 1.
  EXPECT_LT(max_abs(c.alpha.square() + c.sigma.square() - 1.0), 1e-14);
  // alpha(0) = exp(-T(1)/2), T(1) = 0.1 + 19.9 / 2; alpha(1) = 1.
  EXPECT_NEAR(c.alpha[0].item<double>(), std::exp(-0.5 * (0.1 + 9.95)), 1e-15);
  EXPECT_NEAR(c.alpha[3].item<double>(), 1.0, 1e-15);
  // alpha(0.3): s = 0.7, T = 0.07 + 9.95 * 0.49.
  EXPECT_NEAR(c.alpha[1].item<double>(), std::exp(-0.5 * (0.07 + 9.95 * 0.49)), 1e-15);
  EXPECT_DOUBLE_EQ(path.t_max(), 1.0 - 1e-3);
  expect_velocity_is_time_derivative(path);
}

TEST(FlowMatchingPaths, RegistryListsNames) {
  EXPECT_EQ(make_path("vp")->name(), "vp");
  try {
    make_path("cosine");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("linear|vp"), std::string::npos) << e.what();
  }
}

TEST(Assignment, OptimalOnSmallCasesByEnumeration) {
  torch::manual_seed(2);
  for (int64_t n = 1; n <= 7; ++n) {
    for (int rep = 0; rep < 6; ++rep) {
      // Integer costs make ties (several optima) common; real costs make them rare.
      auto cost = rep % 2 == 0 ? torch::randint(0, 4, {n, n}).to(torch::kFloat64)
                               : torch::rand({n, n}, torch::kFloat64);
      auto a = linear_sum_assignment(cost);
      std::vector<int64_t> sorted = a;
      std::sort(sorted.begin(), sorted.end());
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(sorted[i], i) << "not a permutation";
      std::vector<int64_t> perm(n);
      std::iota(perm.begin(), perm.end(), 0);
      double best = std::numeric_limits<double>::infinity();
      do {
        best = std::min(best, assignment_cost(cost, perm));
      } while (std::next_permutation(perm.begin(), perm.end()));
      EXPECT_NEAR(assignment_cost(cost, a), best, 1e-12) << "n=" << n << " rep=" << rep;
    }
  }
}

TEST(Assignment, RectangularAndValidation) {
  // 2 rows, 4 columns: row 0 -> column 3, row 1 -> column 0 is the unique optimum.
  auto cost = torch::tensor({{5.0, 4.0, 3.0, 0.5}, {0.1, 2.0, 2.0, 0.2}}, torch::kFloat64);
  auto a = linear_sum_assignment(cost);
  EXPECT_EQ(a, std::vector<int64_t>({3, 0}));
  EXPECT_THROW(linear_sum_assignment(torch::zeros({3, 2})), InvalidArgument);
  auto bad = torch::zeros({2, 2});
  bad[0][0] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(linear_sum_assignment(bad), InvalidArgument);
}

TEST(Assignment, OtPairingRecoversAShuffledMatching) {
  // x1 is a permutation of x0 plus tiny noise: the OT pairing must undo the permutation.
  torch::manual_seed(3);
  const int64_t n = 128;
  auto x0 = torch::randn({n, 2}, torch::kFloat64);
  auto perm = torch::randperm(n);
  auto x1 = x0.index_select(0, perm) + 1e-3 * torch::randn({n, 2}, torch::kFloat64);
  auto paired = FlowMatchingImpl::ot_pair(x0, x1);
  EXPECT_LT(max_abs(paired - x0), 1e-2);
  // And the OT cost never exceeds the identity pairing's on random batches.
  auto y = torch::randn({n, 2}, torch::kFloat64);
  auto cost = squared_distance_cost(x0, y);
  std::vector<int64_t> identity(n);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_LT(assignment_cost(cost, linear_sum_assignment(cost)), 0.5 * assignment_cost(cost, identity));
}

TEST(FlowMatching, LossMatchesManualComputation) {
  torch::manual_seed(4);
  FlowMatching m(FlowMatchingOptions({2}).field(TimeMLPOptions(2).hidden({8})));
  m->to(torch::kFloat64);
  auto x0 = torch::randn({6, 2}, torch::kFloat64);
  auto x1 = torch::randn({6, 2}, torch::kFloat64);
  auto t = torch::rand({6}, torch::kFloat64);
  auto tc = t.unsqueeze(1);
  auto xt = (1 - tc) * x0 + tc * x1;
  auto expected = (m->field->forward(t, xt) - (x1 - x0)).square().mean();
  EXPECT_NEAR(m->loss_pairs_at(x0, x1, t).item<double>(), expected.item<double>(), 1e-14);
  // A field equal to the target makes the loss zero: for x1 = x0 + c the target is the
  // constant c, which the zeroed network with last bias c reproduces.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : m->parameters()) p.zero_();
    m->field->layers[1]->as<torch::nn::Linear>()->bias.copy_(torch::tensor({0.5, -2.0}));
  }
  auto shifted = x0 + torch::tensor({0.5, -2.0}, torch::kFloat64);
  EXPECT_LT(m->loss_pairs(x0, shifted).item<double>(), 1e-28);
}

TEST(FlowMatching, SamplingAndLikelihoodAreConsistent) {
  torch::manual_seed(5);
  FlowMatching m(FlowMatchingOptions({3})
                     .field(TimeMLPOptions(3).hidden({16}).time_conditioning("sinusoidal").time_embedding_dim(4))
                     .solver(OdeOptions().rtol(1e-9).atol(1e-9)));
  m->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : m->parameters()) p.normal_(0.0, 0.3);
  }
  torch::NoGradGuard no_grad;
  torch::manual_seed(6);
  auto [x, lq] = m->sample_and_log_prob(20);
  EXPECT_GT(m->last_stats().nfe, 0);
  EXPECT_LT(max_abs(m->log_prob(x) - lq), 1e-6);
  torch::manual_seed(6);
  auto xs = m->sample(20);
  EXPECT_LT(max_abs(xs - x), 1e-7);
}

TEST(FlowMatching, ReflowPairsComeFromTheTeacherFlow) {
  torch::manual_seed(7);
  FlowMatching teacher(FlowMatchingOptions({2}).field(TimeMLPOptions(2).hidden({8})).solver(OdeOptions("rk4").n_steps(20)));
  auto [z, x1] = teacher->reflow_pairs(10);
  EXPECT_LT(max_abs(teacher->transport(z) - x1), 1e-6);
  // A student trained through loss(batch) with the teacher sees the teacher's pairs: with
  // the same seed, loss(batch) equals loss_pairs on freshly regenerated pairs.
  FlowMatching student(FlowMatchingOptions({2}).field(TimeMLPOptions(2).hidden({8})));
  student->set_reflow_teacher(std::dynamic_pointer_cast<FlowMatchingImpl>(teacher->clone()));
  auto batch = torch::randn({10, 2});
  torch::manual_seed(8);
  const double via_batch = student->loss(batch).item<double>();
  torch::manual_seed(8);
  auto pairs = teacher->reflow_pairs(10);
  const double via_pairs = student->loss_pairs(pairs.first, pairs.second).item<double>();
  EXPECT_NEAR(via_batch, via_pairs, 1e-6);
}

TEST(FlowMatching, ValidatesArguments) {
  EXPECT_THROW(FlowMatching(FlowMatchingOptions({2}).coupling("sinkhorn")), InvalidArgument);
  EXPECT_THROW(FlowMatching(FlowMatchingOptions({2}).path("cosine")), InvalidArgument);
  FlowMatching m(FlowMatchingOptions({2}));
  EXPECT_THROW(m->loss(torch::randn({4, 3})), InvalidArgument);
  EXPECT_THROW(m->sample(0), InvalidArgument);
}
