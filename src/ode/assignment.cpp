#include "physgen/ode/assignment.h"

#include <algorithm>
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
  auto cost_at = [a, m](int64_t row, int64_t col) { return a[(row - 1) * m + (col - 1)]; };

  // 1-based potentials u (rows), v (columns) with c - u - v >= 0 everywhere and = 0 on
  // matched pairs; column_row[j] = row matched to column j (0: free), row_column likewise.
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0);
  std::vector<int64_t> column_row(m + 1, 0), row_column(n + 1, 0);

  // Column reduction (square problems): v_j = min_i c_ij, and match each column to its
  // cheapest row if that row is free. For n < m the dual needs v_j <= 0 with v_j = 0 on
  // unmatched columns, so v starts at 0 there (and only ever decreases on matched columns).
  if (n == m) {
    for (int64_t j = m; j >= 1; --j) {
      int64_t best = 1;
      for (int64_t i = 2; i <= n; ++i) {
        if (cost_at(i, j) < cost_at(best, j)) best = i;
      }
      v[j] = cost_at(best, j);
      if (row_column[best] == 0) {
        row_column[best] = j;
        column_row[j] = best;
      }
    }
  }

  // Augmenting row reduction (Jonker-Volgenant): a free row takes its cheapest column
  // j1 and lowers v_j1 until its second-cheapest column ties, evicting j1's owner.
  // Two passes, each capped, then the exact shortest-path phase finishes the job.
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<int64_t> free_rows;
    for (int64_t i = 1; i <= n; ++i) {
      if (row_column[i] == 0) free_rows.push_back(i);
    }
    std::vector<int64_t> next_free;
    size_t current = 0;
    int64_t budget = 8 * n;
    while (current < free_rows.size() && budget-- > 0) {
      const int64_t i = free_rows[current++];
      double u1 = inf, u2 = inf;
      int64_t j1 = 0, j2 = 0;
      for (int64_t j = 1; j <= m; ++j) {
        const double r = cost_at(i, j) - v[j];
        if (r < u2) {
          if (r < u1) {
            u2 = u1;
            j2 = j1;
            u1 = r;
            j1 = j;
          } else {
            u2 = r;
            j2 = j;
          }
        }
      }
      int64_t evicted = column_row[j1];
      const bool strict = j2 != 0 && u1 < u2;
      if (strict) {
        v[j1] -= u2 - u1;
      } else if (evicted != 0 && j2 != 0) {
        j1 = j2;
        evicted = column_row[j2];
      }
      if (evicted != 0) row_column[evicted] = 0;
      row_column[i] = j1;
      column_row[j1] = i;
      u[i] = cost_at(i, j1) - v[j1];
      if (evicted != 0) {
        if (strict) {
          free_rows[--current] = evicted;
        } else {
          next_free.push_back(evicted);
        }
      }
    }
    if (current >= free_rows.size() && next_free.empty()) break;
  }
  // Rows still free start the shortest-path phase with u_i = min_j (c_ij - v_j).
  for (int64_t i = 1; i <= n; ++i) {
    if (row_column[i] != 0) continue;
    double lo = inf;
    for (int64_t j = 1; j <= m; ++j) lo = std::min(lo, cost_at(i, j) - v[j]);
    u[i] = lo;
  }

  // Shortest augmenting paths for the free rows (Dijkstra on reduced costs c - u - v,
  // one scan of the unvisited columns per step, ties broken towards free columns; the
  // potentials of the visited rows and columns are updated once the path is found).
  std::vector<double> path_cost(m + 1);
  std::vector<int64_t> remaining(m), path_row(m + 1, 0), visited_rows, visited_cols;
  for (int64_t start = 1; start <= n; ++start) {
    if (row_column[start] != 0) continue;
    std::fill(path_cost.begin(), path_cost.end(), inf);
    for (int64_t j = 0; j < m; ++j) remaining[j] = j + 1;
    int64_t n_remaining = m;
    visited_rows.clear();
    visited_cols.clear();
    double min_value = 0.0;
    int64_t i = start, sink = 0;
    while (sink == 0) {
      visited_rows.push_back(i);
      int64_t index = -1;
      double lowest = inf;
      for (int64_t it = 0; it < n_remaining; ++it) {
        const int64_t j = remaining[it];
        const double r = min_value + cost_at(i, j) - u[i] - v[j];
        if (r < path_cost[j]) {
          path_row[j] = i;
          path_cost[j] = r;
        }
        if (path_cost[j] < lowest || (path_cost[j] == lowest && column_row[j] == 0)) {
          lowest = path_cost[j];
          index = it;
        }
      }
      min_value = lowest;
      const int64_t j = remaining[index];
      visited_cols.push_back(j);
      remaining[index] = remaining[--n_remaining];
      if (column_row[j] == 0) {
        sink = j;
      } else {
        i = column_row[j];
      }
    }
    // Potentials: keep c - u - v >= 0 and make the new path's edges tight.
    u[start] += min_value;
    for (int64_t r : visited_rows) {
      if (r != start) u[r] += min_value - path_cost[row_column[r]];
    }
    for (int64_t c2 : visited_cols) v[c2] -= min_value - path_cost[c2];
    // Flip the matching along the path.
    int64_t j = sink;
    while (true) {
      const int64_t r = path_row[j];
      column_row[j] = r;
      std::swap(row_column[r], j);
      if (r == start) break;
    }
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
