#include "physgen/ising_machines/problem.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/io/atomic_file.h"

namespace physgen {

IsingProblem IsingProblem::from_edges(int64_t n, const std::vector<IsingEdge>& couplings, std::vector<double> h,
                                      double offset, const std::string& kind) {
  check_arg(n >= 1, "n", n, "at least one spin");
  check_arg(h.empty() || static_cast<int64_t>(h.size()) == n, "h", h.size(), std::to_string(n) + " fields (or none)");
  check_arg(std::isfinite(offset), "offset", offset, "a finite number");
  for (size_t e = 0; e < couplings.size(); ++e) {
    const auto& c = couplings[e];
    const std::string name = "edge " + std::to_string(e);
    check_arg(c.i >= 0 && c.i < n && c.j >= 0 && c.j < n, name,
              "(" + std::to_string(c.i) + ", " + std::to_string(c.j) + ")",
              "0-based indices in [0, " + std::to_string(n) + ")");
    check_arg(c.i != c.j, name, "(" + std::to_string(c.i) + ", " + std::to_string(c.j) + ")",
              "two different spins (a self loop is a field)");
    check_arg(std::isfinite(c.w), name + " weight", c.w, "a finite number");
  }
  // merge repeated pairs, then lay out both directions row by row
  std::map<std::pair<int64_t, int64_t>, double> pairs;
  for (const auto& c : couplings) pairs[{std::min(c.i, c.j), std::max(c.i, c.j)}] += c.w;
  std::vector<std::vector<std::pair<int32_t, double>>> rows(n);
  for (const auto& [ij, w] : pairs) {  // zero couplings are kept: a structure to learn on
    rows[ij.first].push_back({static_cast<int32_t>(ij.second), w});
    rows[ij.second].push_back({static_cast<int32_t>(ij.first), w});
  }
  IsingProblem p;
  p.n = n;
  p.kind = kind;
  p.offset = offset;
  p.row_ptr.assign(n + 1, 0);
  for (int64_t i = 0; i < n; ++i) {
    std::sort(rows[i].begin(), rows[i].end());
    p.row_ptr[i + 1] = p.row_ptr[i] + static_cast<int64_t>(rows[i].size());
    for (const auto& [j, w] : rows[i]) {
      p.col.push_back(j);
      p.J.push_back(w);
    }
  }
  p.h = h.empty() ? std::vector<double>(n, 0.0) : std::move(h);
  for (int64_t i = 0; i < n; ++i) check_arg(std::isfinite(p.h[i]), "h[" + std::to_string(i) + "]", p.h[i], "a finite number");
  return p;
}

IsingProblem IsingProblem::maxcut(int64_t n, const std::vector<IsingEdge>& weights) {
  std::vector<IsingEdge> J;
  J.reserve(weights.size());
  double W = 0.0;
  for (const auto& e : weights) {
    J.push_back({e.i, e.j, -e.w});
    W += e.w;
  }
  IsingProblem p = from_edges(n, J, {}, 0.0, "maxcut");
  p.maxcut_weight = W;
  return p;
}

void IsingProblem::validate() const {
  check_arg(n >= 1, "problem.n", n, "at least one spin");
  check_arg(static_cast<int64_t>(row_ptr.size()) == n + 1 && row_ptr.front() == 0 &&
                row_ptr.back() == static_cast<int64_t>(col.size()) && col.size() == J.size(),
            "problem", "CSR of " + std::to_string(n) + " rows", "consistent row_ptr / col / J arrays");
  check_arg(static_cast<int64_t>(h.size()) == n, "problem.h", h.size(), std::to_string(n) + " fields");
  std::map<std::pair<int64_t, int64_t>, double> seen;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; ++k) {
      check_arg(col[k] >= 0 && col[k] < n && col[k] != i, "problem.col", col[k], "a neighbour index != row, in [0, n)");
      check_arg(std::isfinite(J[k]), "problem.J", J[k], "finite couplings");
      seen[{i, col[k]}] = J[k];
    }
  }
  for (const auto& [ij, w] : seen) {
    auto it = seen.find({ij.second, ij.first});
    check_arg(it != seen.end() && it->second == w, "problem.J",
              "J[" + std::to_string(ij.first) + "][" + std::to_string(ij.second) + "]", "symmetric couplings");
  }
}

std::vector<IsingEdge> IsingProblem::edge_list() const {
  std::vector<IsingEdge> out;
  out.reserve(col.size() / 2);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; ++k)
      if (col[k] > i) out.push_back({i, col[k], J[k]});
  return out;
}

double IsingProblem::energy(const int8_t* s) const {
  double pair = 0.0, field = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double f = 0.0;
    for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; ++k) f += J[k] * s[col[k]];
    pair += s[i] * f;
    field += h[i] * s[i];
  }
  return -0.5 * pair - field;
}

torch::Tensor IsingProblem::sparse_couplings(torch::Dtype dtype) const {
  std::vector<int64_t> rows(col.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; ++k) rows[k] = i;
  auto opts = torch::TensorOptions().dtype(torch::kInt64);
  torch::Tensor idx = torch::stack({torch::tensor(rows, opts),
                                    torch::tensor(std::vector<int64_t>(col.begin(), col.end()), opts)});
  if (col.empty()) idx = torch::zeros({2, 0}, opts);
  torch::Tensor vals = torch::tensor(J, torch::kFloat64).to(dtype);
  if (J.empty()) vals = torch::zeros({0}, torch::TensorOptions().dtype(dtype));
  return torch::sparse_coo_tensor(idx, vals, {n, n}).coalesce();
}

torch::Tensor IsingProblem::dense_couplings() const {
  check_arg(n <= 20000, "problem.n", n, "at most 20000 spins for a dense coupling matrix");
  torch::Tensor d = torch::zeros({n, n}, torch::kFloat64);
  auto a = d.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = row_ptr[i]; k < row_ptr[i + 1]; ++k) a[i][col[k]] = J[k];
  return d;
}

torch::Tensor IsingProblem::fields(torch::Dtype dtype) const { return torch::tensor(h, torch::kFloat64).to(dtype); }

torch::Tensor IsingProblem::energy(const torch::Tensor& s) const {
  check_arg(s.defined() && s.dim() == 2 && s.size(1) == n, "s", s.defined() ? s.sizes() : torch::IntArrayRef{},
            "a (R, " + std::to_string(n) + ") batch of spins");
  torch::Tensor x = s.to(torch::kFloat64);
  torch::Tensor Jsp = sparse_couplings().to(x.device());
  torch::Tensor Jx = torch::mm(Jsp, x.t()).t();  // (R, n) local coupling fields
  return -0.5 * (x * Jx).sum(1) - torch::mv(x, fields().to(x.device()));
}

nlohmann::json IsingProblem::info() const {
  nlohmann::json j = {{"kind", kind}, {"n", n}, {"edges", edges()}, {"offset", offset},
                      {"has_fields", std::any_of(h.begin(), h.end(), [](double v) { return v != 0.0; })}};
  if (is_maxcut()) j["maxcut_weight"] = maxcut_weight;
  return j;
}

// --- QUBO ------------------------------------------------------------------------------

double QuboProblem::value(const int8_t* x) const {
  double f = constant;
  for (const auto& e : entries) f += e.w * x[e.i] * x[e.j];
  return f;
}

IsingProblem problem_from_qubo(const QuboProblem& q) {
  std::vector<IsingEdge> J;
  std::vector<double> h(q.n, 0.0);
  double offset = q.constant;
  for (const auto& e : q.entries) {
    check_arg(e.i >= 0 && e.j >= 0 && e.i < q.n && e.j < q.n, "qubo entry",
              "(" + std::to_string(e.i) + ", " + std::to_string(e.j) + ")", "indices in [0, n)");
    if (e.i == e.j) {  // Q_ii x_i = Q_ii (1 + s_i) / 2
      h[e.i] -= e.w / 2;
      offset += e.w / 2;
    } else {  // Q_ij x_i x_j = Q_ij (1 + s_i + s_j + s_i s_j) / 4
      J.push_back({e.i, e.j, -e.w / 4});
      h[e.i] -= e.w / 4;
      h[e.j] -= e.w / 4;
      offset += e.w / 4;
    }
  }
  return IsingProblem::from_edges(q.n, J, h, offset, "qubo");
}

QuboProblem qubo_from_problem(const IsingProblem& p) {
  QuboProblem q;
  q.n = p.n;
  q.constant = p.offset;
  std::vector<double> diag(p.n, 0.0);
  for (int64_t i = 0; i < p.n; ++i) {
    diag[i] = -2 * p.h[i];
    q.constant += p.h[i];
  }
  for (const auto& e : p.edge_list()) {  // -J s_i s_j = -4J x_i x_j + 2J x_i + 2J x_j - J
    q.entries.push_back({e.i, e.j, -4 * e.w});
    diag[e.i] += 2 * e.w;
    diag[e.j] += 2 * e.w;
    q.constant -= e.w;
  }
  for (int64_t i = 0; i < p.n; ++i)
    if (diag[i] != 0.0) q.entries.push_back({i, i, diag[i]});
  return q;
}

// --- files -----------------------------------------------------------------------------

namespace {

[[noreturn]] void bad_line(const std::string& path, int64_t line, const std::string& what) {
  throw IoError(path + ":" + std::to_string(line) + ": " + what);
}

std::vector<std::string> split_ws(const std::string& s) {
  std::istringstream is(s);
  std::vector<std::string> out;
  std::string t;
  while (is >> t) out.push_back(t);
  return out;
}

int64_t parse_int(const std::string& t, const std::string& path, int64_t line) {
  size_t pos = 0;
  long long v = 0;
  try {
    v = std::stoll(t, &pos);
  } catch (const std::exception&) {
    bad_line(path, line, "'" + t + "' is not an integer");
  }
  if (pos != t.size()) bad_line(path, line, "'" + t + "' is not an integer");
  return v;
}

double parse_double(const std::string& t, const std::string& path, int64_t line) {
  size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(t, &pos);
  } catch (const std::exception&) {
    bad_line(path, line, "'" + t + "' is not a number");
  }
  if (pos != t.size() || !std::isfinite(v)) bad_line(path, line, "'" + t + "' is not a finite number");
  return v;
}

IsingProblem read_qubo(std::istream& in, const std::string& path) {
  QuboProblem q;
  std::string line;
  int64_t lineno = 0, n_nodes = -1, n_couplers = -1, got_nodes = 0, got_couplers = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++lineno;
    auto t = split_ws(line);
    if (t.empty() || t[0] == "c") continue;
    if (t[0] == "p") {
      if (header) bad_line(path, lineno, "a second 'p' line");
      if (t.size() != 6 || t[1] != "qubo") bad_line(path, lineno, "expected 'p qubo 0 maxNodes nNodes nCouplers'");
      q.n = parse_int(t[3], path, lineno);
      n_nodes = parse_int(t[4], path, lineno);
      n_couplers = parse_int(t[5], path, lineno);
      if (q.n < 1 || n_nodes < 0 || n_couplers < 0) bad_line(path, lineno, "counts must be positive");
      header = true;
      continue;
    }
    if (!header) bad_line(path, lineno, "an entry before the 'p qubo' line");
    if (t.size() != 3) bad_line(path, lineno, "expected 'i j Q_ij'");
    const int64_t i = parse_int(t[0], path, lineno), j = parse_int(t[1], path, lineno);
    const double w = parse_double(t[2], path, lineno);
    if (i < 0 || j < 0 || i >= q.n || j >= q.n)
      bad_line(path, lineno, "index (" + t[0] + ", " + t[1] + ") outside [0, " + std::to_string(q.n) + ")");
    (i == j ? got_nodes : got_couplers)++;
    q.entries.push_back({std::min(i, j), std::max(i, j), w});
  }
  if (!header) throw IoError(path + ": no 'p qubo' line");
  if (got_nodes != n_nodes || got_couplers != n_couplers)
    throw IoError(path + ": the 'p qubo' line announces " + std::to_string(n_nodes) + " diagonal and " +
                  std::to_string(n_couplers) + " off-diagonal entries, the file has " + std::to_string(got_nodes) +
                  " and " + std::to_string(got_couplers));
  return problem_from_qubo(q);
}

}  // namespace

IsingProblem read_problem(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot open problem file '" + path + "'");
  std::string line;
  int64_t lineno = 0;
  std::string kind;
  double offset = 0.0;
  // comments and the first content line
  std::vector<std::string> first;
  while (std::getline(in, line)) {
    ++lineno;
    auto t = split_ws(line);
    if (t.empty()) continue;
    if (t[0] == "c" || t[0] == "p") {  // qbsolv QUBO
      in.clear();
      in.seekg(0);
      return read_qubo(in, path);
    }
    if (t[0][0] == '#') {
      if (t.size() >= 3 && t[1] == "kind") kind = t[2];
      if (t.size() >= 3 && t[1] == "offset") offset = parse_double(t[2], path, lineno);
      continue;
    }
    first = t;
    break;
  }
  if (first.empty()) throw IoError(path + ": empty problem file (expected a first line 'N E')");
  if (first.size() != 2) bad_line(path, lineno, "expected the first line 'N E' (spins and edges)");
  const int64_t n = parse_int(first[0], path, lineno), m = parse_int(first[1], path, lineno);
  if (n < 1 || m < 0) bad_line(path, lineno, "N must be >= 1 and E >= 0");
  const bool maxcut = kind.empty() || kind == "maxcut";
  std::vector<IsingEdge> edges;
  std::vector<double> h(n, 0.0);
  int64_t got = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto t = split_ws(line);
    if (t.empty() || t[0][0] == '#') continue;
    if (t.size() != 3) bad_line(path, lineno, "expected 'i j w' (1-based spins, weight)");
    const int64_t i = parse_int(t[0], path, lineno), j = parse_int(t[1], path, lineno);
    const double w = parse_double(t[2], path, lineno);
    if (i < 1 || j < 1 || i > n || j > n)
      bad_line(path, lineno, "spin (" + t[0] + ", " + t[1] + ") outside [1, " + std::to_string(n) + "]");
    ++got;
    if (i == j) {
      if (maxcut) bad_line(path, lineno, "a self loop in a Max-Cut file");
      h[i - 1] += w;
    } else {
      edges.push_back({i - 1, j - 1, w});
    }
  }
  if (got != m)
    throw IoError(path + ": the first line announces " + std::to_string(m) + " edges, the file has " +
                  std::to_string(got));
  if (maxcut) return IsingProblem::maxcut(n, edges);
  return IsingProblem::from_edges(n, edges, h, offset, kind);
}

void write_problem(const std::string& path, const IsingProblem& p) {
  write_file_atomic(path, [&](std::ostream& os) {
    os << std::setprecision(17);
    const auto edges = p.edge_list();
    int64_t fields = 0;
    for (double v : p.h) fields += v != 0.0;
    if (!p.is_maxcut()) {
      os << "# physgen Ising problem: E(s) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i; lines 'i j J_ij', 'i i h_i'\n";
      os << "# kind " << p.kind << "\n# offset " << p.offset << "\n";
    }
    os << p.n << " " << edges.size() + (p.is_maxcut() ? 0 : fields) << "\n";
    for (const auto& e : edges) os << e.i + 1 << " " << e.j + 1 << " " << (p.is_maxcut() ? -e.w : e.w) << "\n";
    if (!p.is_maxcut())
      for (int64_t i = 0; i < p.n; ++i)
        if (p.h[i] != 0.0) os << i + 1 << " " << i + 1 << " " << p.h[i] << "\n";
  });
}

// --- generators ------------------------------------------------------------------------

namespace {
double gaussian(Xoshiro256pp& r) {  // Box-Muller
  double u1 = r.uniform();
  while (u1 <= 0.0) u1 = r.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * r.uniform());
}
double pm1(Xoshiro256pp& r) { return (r.next() >> 63) ? 1.0 : -1.0; }
}  // namespace

IsingProblem generate_sk(int64_t n, bool pm_one, uint64_t seed) {
  check_arg(n >= 2 && n <= 20000, "n", n, "2 .. 20000 spins");
  Xoshiro256pp r(seed, 0x5c);
  std::vector<IsingEdge> e;
  e.reserve(n * (n - 1) / 2);
  const double s = 1.0 / std::sqrt(static_cast<double>(n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) e.push_back({i, j, s * (pm_one ? pm1(r) : gaussian(r))});
  return IsingProblem::from_edges(n, e, {}, 0.0, "sk");
}

IsingProblem generate_maxcut_random(int64_t n, double density, bool pm_one_weights, uint64_t seed) {
  check_arg(n >= 2, "n", n, "at least 2 nodes");
  check_arg(density > 0 && density <= 1, "density", density, "an edge probability in (0, 1]");
  Xoshiro256pp r(seed, 0xe7);
  std::vector<IsingEdge> e;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j)
      if (r.uniform() < density) e.push_back({i, j, pm_one_weights ? pm1(r) : 1.0});
  return IsingProblem::maxcut(n, e);
}

IsingProblem generate_maxcut_regular(int64_t n, int64_t d, uint64_t seed) {
  check_arg(d >= 1 && d < n, "degree", d, "1 <= d < n = " + std::to_string(n));
  check_arg((n * d) % 2 == 0, "degree", d, "n * d even (n = " + std::to_string(n) + ")");
  Xoshiro256pp r(seed, 0x7e);
  for (int attempt = 0; attempt < 10000; ++attempt) {
    std::vector<int64_t> stubs;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < d; ++k) stubs.push_back(i);
    for (int64_t k = static_cast<int64_t>(stubs.size()) - 1; k > 0; --k) std::swap(stubs[k], stubs[r.below(k + 1)]);
    std::set<std::pair<int64_t, int64_t>> seen;
    bool ok = true;
    std::vector<IsingEdge> e;
    for (size_t k = 0; k < stubs.size() && ok; k += 2) {
      const int64_t a = std::min(stubs[k], stubs[k + 1]), b = std::max(stubs[k], stubs[k + 1]);
      ok = a != b && seen.insert({a, b}).second;
      e.push_back({a, b, 1.0});
    }
    if (ok) return IsingProblem::maxcut(n, e);
  }
  throw InvalidArgument("argument degree = " + std::to_string(d) + ": no simple " + std::to_string(d) +
                        "-regular graph found on " + std::to_string(n) + " nodes in 10000 pairings");
}

IsingProblem generate_maxcut_toroidal(int64_t rows, int64_t cols, bool pm_one_weights, uint64_t seed) {
  check_arg(rows >= 3 && cols >= 3, "size", std::to_string(rows) + "x" + std::to_string(cols), "at least 3x3");
  Xoshiro256pp r(seed, 0x70);
  std::vector<IsingEdge> e;
  for (int64_t y = 0; y < rows; ++y)
    for (int64_t x = 0; x < cols; ++x) {
      const int64_t i = y * cols + x;
      e.push_back({i, y * cols + (x + 1) % cols, pm_one_weights ? pm1(r) : 1.0});
      e.push_back({i, ((y + 1) % rows) * cols + x, pm_one_weights ? pm1(r) : 1.0});
    }
  return IsingProblem::maxcut(rows * cols, e);
}

IsingProblem generate_ea(int64_t L, int64_t dim, uint64_t seed) {
  check_arg(dim == 2 || dim == 3, "dim", dim, "2 or 3");
  check_arg(L >= 3, "L", L, "at least 3 (periodic without double bonds)");
  Xoshiro256pp r(seed, 0xea);
  const int64_t n = dim == 2 ? L * L : L * L * L;
  std::vector<IsingEdge> e;
  for (int64_t i = 0; i < n; ++i) {
    int64_t c[3] = {i % L, (i / L) % L, dim == 3 ? i / (L * L) : 0};
    for (int64_t mu = 0; mu < dim; ++mu) {
      int64_t d[3] = {c[0], c[1], c[2]};
      d[mu] = (d[mu] + 1) % L;
      e.push_back({i, d[0] + L * d[1] + L * L * d[2], pm1(r)});
    }
  }
  return IsingProblem::from_edges(n, e, {}, 0.0, "ea");
}

IsingProblem partition_problem(const std::vector<double>& a) {
  const int64_t n = static_cast<int64_t>(a.size());
  check_arg(n >= 2, "numbers", n, "at least 2 numbers");
  std::vector<IsingEdge> e;
  double offset = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    offset += a[i] * a[i];
    for (int64_t j = i + 1; j < n; ++j) e.push_back({i, j, -2.0 * a[i] * a[j]});
  }
  return IsingProblem::from_edges(n, e, {}, offset, "partition");
}

IsingProblem generate_partition(int64_t n, int64_t max_value, uint64_t seed) {
  check_arg(n >= 2 && n <= 20000, "n", n, "2 .. 20000 numbers");
  check_arg(max_value >= 1, "max_value", max_value, "at least 1");
  Xoshiro256pp r(seed, 0x9a);
  std::vector<double> a(n);
  for (auto& v : a) v = 1.0 + static_cast<double>(r.below(max_value));
  return partition_problem(a);
}

}  // namespace physgen
