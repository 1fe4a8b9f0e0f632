#include "physgen/ode/assignment.h"

#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {

std::vector<int64_t> linear_sum_assignment(const torch::Tensor& cost) {
  check_arg(cost.defined() && cost.dim() == 2, "cost.dim()", cost.defined() ? cost.dim() : -1,
            "a 2-D cost matrix");
  const int64_t n = cost.size(0), m = cost.size(1);
  check_arg(n <= m, "cost.size(0)", n, "at most cost.size(1) = " + std::to_string(m));
  if (n == 0) return {};
  auto c = cost.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  check_arg(torch::isfinite(c).all().item<bool>(), "cost", "non-finite entries",
            "finite costs");
  const double* a = c.data_ptr<double>();
  const double inf = std::numeric_limits<double>::infinity();

  // 1-based potentials u (rows), v (columns); column_row[j] = row matched to column j
  // (0: free); column 0 is the virtual start of every augmenting path.
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0), min_slack(m + 1);
  std::vector<int64_t> column_row(m + 1, 0), previous(m + 1, 0);
  std::vector<char> visited(m + 1);
  for (int64_t row = 1; row <= n; ++row) {
    column_row[0] = row;
    int64_t j0 = 0;
    std::fill(min_slack.begin(), min_slack.end(), inf);
    std::fill(visited.begin(), visited.end(), 0);
    // Dijkstra-like growth of the alternating tree until a free column is reached.
    do {
      visited[j0] = 1;
      const int64_t i0 = column_row[j0];
      double delta = inf;
      int64_t j1 = 0;
      const double* a_row = a + (i0 - 1) * m;
      for (int64_t j = 1; j <= m; ++j) {
        if (visited[j]) continue;
        const double reduced = a_row[j - 1] - u[i0] - v[j];
        if (reduced < min_slack[j]) {
          min_slack[j] = reduced;
          previous[j] = j0;
        }
        if (min_slack[j] < delta) {
          delta = min_slack[j];
          j1 = j;
        }
      }
      for (int64_t j = 0; j <= m; ++j) {
        if (visited[j]) {
          u[column_row[j]] += delta;
          v[j] -= delta;
        } else {
          min_slack[j] -= delta;
        }
      }
      j0 = j1;
    } while (column_row[j0] != 0);
    // Flip the matching along the augmenting path.
    do {
      const int64_t j1 = previous[j0];
      column_row[j0] = column_row[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> assignment(n, -1);
  for (int64_t j = 1; j <= m; ++j) {
    if (column_row[j] != 0) assignment[column_row[j] - 1] = j - 1;
  }
  return assignment;
}

double assignment_cost(const torch::Tensor& cost, const std::vector<int64_t>& assignment) {
  auto c = cost.detach().to(torch::kCPU, torch::kFloat64);
  check_arg(c.dim() == 2 && static_cast<int64_t>(assignment.size()) == c.size(0),
            "assignment.size()", assignment.size(), "cost.size(0)");
  auto acc = c.accessor<double, 2>();
  double total = 0.0;
  for (size_t i = 0; i < assignment.size(); ++i) total += acc[i][assignment[i]];
  return total;
}

torch::Tensor squared_distance_cost(const torch::Tensor& a, const torch::Tensor& b) {
  auto fa = a.reshape({a.size(0), -1});
  auto fb = b.reshape({b.size(0), -1});
  check_arg(fa.size(1) == fb.size(1), "b.numel / b.size(0)", fb.size(1),
            "the per-row size of a, " + std::to_string(fa.size(1)));
  // |a|^2 + |b|^2 - 2 a.b, clamped at 0 against rounding.
  auto d = fa.square().sum(1, true) + fb.square().sum(1).unsqueeze(0) - 2.0 * fa.matmul(fb.t());
  return d.clamp_min(0.0);
}

}  // namespace physgen
