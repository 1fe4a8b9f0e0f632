#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>

#include "ising_kernels.h"
#include "physgen/core/check.h"
#include "physgen/core/registry.h"
#include "physgen/mcmc/ising.h"

namespace physgen {

const std::vector<std::string>& IsingSampler::algorithms() {
  static const std::vector<std::string> names{"metropolis", "heatbath", "wolff"};
  return names;
}

IsingSampler::IsingSampler(IsingParams params, const std::string& algorithm, int64_t chains,
                           uint64_t seed)
    : params_(params), algorithm_(algorithm), chains_(chains) {
  params_.validate();
  check_choice("algorithm", algorithm, algorithms());
  check_arg(chains >= 1, "chains", chains, "an integer >= 1");
  const int64_t V = params_.volume();
  if (algorithm == "wolff") {
    kind_ = Kind::kWolff;
    check_arg(params_.h == 0.0, "h", params_.h,
              "0 for algorithm 'wolff' (no field term in the cluster move; use metropolis or "
              "heatbath)");
    check_arg(params_.J >= 0.0, "J", params_.J, "J >= 0 for algorithm 'wolff' (ferromagnet)");
    spins_.resize(static_cast<size_t>(chains * V));
    chain_rngs_.reserve(static_cast<size_t>(chains));
    for (int64_t c = 0; c < chains; ++c) {
      chain_rngs_.emplace_back(seed, static_cast<uint64_t>(c));
      Xoshiro256pp& r = chain_rngs_.back();
      int8_t* s = &spins_[static_cast<size_t>(c * V)];
      for (int64_t i = 0; i < V; i += 64) {
        const uint64_t bits = r.next();
        for (int64_t b = 0; b < 64 && i + b < V; ++b) s[i + b] = ((bits >> b) & 1) ? 1 : -1;
      }
    }
    neighbours_ = detail::lattice_neighbours(params_.L);
    cluster_count_.assign(static_cast<size_t>(chains), 0);
    cluster_spins_.assign(static_cast<size_t>(chains), 0);
    const long double p_bond = -std::expm1(-2.0L * params_.beta * params_.J);
    const long double q = std::ldexp(p_bond, 64);
    bond_threshold_ = q >= 18446744073709551616.0L ? ~uint64_t{0} : static_cast<uint64_t>(q);
    calib_clusters_.assign(static_cast<size_t>(chains), 0);
    calib_spins_.assign(static_cast<size_t>(chains), 0);
  } else {
    kind_ = algorithm == "metropolis" ? Kind::kMetropolis : Kind::kHeatbath;
    groups_ = (chains + 63) / 64;
    words_.resize(static_cast<size_t>(groups_ * V));
    group_rngs_.reserve(static_cast<size_t>(groups_));
    for (int64_t g = 0; g < groups_; ++g) {
      group_rngs_.emplace_back(seed, static_cast<uint64_t>(g));
      for (int64_t i = 0; i < V; ++i)
        words_[static_cast<size_t>(g * V + i)] = group_rngs_.back().next();
    }
    flips_.assign(static_cast<size_t>(groups_), 0);
    table_ = std::make_unique<detail::IsingFlipTable>(
        detail::make_flip_table(params_, kind_ == Kind::kHeatbath));
  }
}

IsingSampler::~IsingSampler() = default;

IsingSampler& IsingSampler::set_clusters_per_sweep(int64_t k) {
  check_arg(kind_ == Kind::kWolff, "algorithm", algorithm_, "'wolff' for set_clusters_per_sweep");
  check_arg(k >= 1, "k", k, "an integer >= 1");
  clusters_per_sweep_ = k;
  return *this;
}

void IsingSampler::update(int64_t n) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  if (n == 0) return;
  const int64_t L = params_.L, V = params_.volume();
  // Grain: enough work per task (~50 us and up) that waking threads pays off.
  const int64_t grain = 2000 / std::max<int64_t>(1, V * n) + 1;
  if (kind_ != Kind::kWolff) {
    at::parallel_for(0, groups_, grain, [&](int64_t begin, int64_t end) {
      for (int64_t g = begin; g < end; ++g) {
        const int64_t real = std::min<int64_t>(64, chains_ - 64 * g);
        const uint64_t lanes = real == 64 ? ~uint64_t{0} : (uint64_t{1} << real) - 1;
        flips_[static_cast<size_t>(g)] +=
            detail::multispin_sweeps(&words_[static_cast<size_t>(g * V)], L, *table_,
                                     group_rngs_[static_cast<size_t>(g)], lanes, n);
      }
    });
    sweeps_ += n;
    return;
  }

  // Wolff calibration sweeps: clusters until >= V spins flipped; the second half
  // measures the mean cluster size that fixes clusters_per_sweep_.
  if (clusters_per_sweep_ == 0) {
    const int64_t m = std::min(n, kWolffCalibrationSweeps - sweeps_);
    const int64_t half = kWolffCalibrationSweeps / 2;
    at::parallel_for(0, chains_, grain, [&](int64_t begin, int64_t end) {
      std::vector<int32_t> stack;
      for (int64_t c = begin; c < end; ++c) {
        const size_t ci = static_cast<size_t>(c);
        int8_t* s = &spins_[ci * static_cast<size_t>(V)];
        for (int64_t t = sweeps_; t < sweeps_ + m; ++t) {
          uint64_t clusters = 0, flipped = 0;
          detail::wolff_sweep_to_volume(s, V, neighbours_.data(), bond_threshold_, chain_rngs_[ci],
                                        stack, clusters, flipped);
          cluster_count_[ci] += clusters;
          cluster_spins_[ci] += flipped;
          if (t >= half) {
            calib_clusters_[ci] += clusters;
            calib_spins_[ci] += flipped;
          }
        }
      }
    });
    sweeps_ += m;
    n -= m;
    if (sweeps_ >= kWolffCalibrationSweeps) {
      uint64_t clusters = 0, flipped = 0;
      for (int64_t c = 0; c < chains_; ++c) {
        clusters += calib_clusters_[static_cast<size_t>(c)];
        flipped += calib_spins_[static_cast<size_t>(c)];
      }
      const double mean_size = static_cast<double>(flipped) / static_cast<double>(clusters);
      clusters_per_sweep_ = std::max<int64_t>(1, std::llround(static_cast<double>(V) / mean_size));
    }
    if (n == 0) return;
  }
  at::parallel_for(0, chains_, grain, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> stack;
    for (int64_t c = begin; c < end; ++c) {
      const size_t ci = static_cast<size_t>(c);
      detail::wolff_clusters(&spins_[ci * static_cast<size_t>(V)], V, neighbours_.data(),
                             bond_threshold_, chain_rngs_[ci], n * clusters_per_sweep_, stack,
                             cluster_count_[ci], cluster_spins_[ci]);
    }
  });
  sweeps_ += n;
}

torch::Tensor IsingSampler::state() const {
  const int64_t L = params_.L, V = params_.volume();
  auto out = torch::empty({chains_, L, L}, torch::kInt8);
  int8_t* o = out.data_ptr<int8_t>();
  if (kind_ == Kind::kWolff) {
    std::copy(spins_.begin(), spins_.end(), o);
    return out;
  }
  for (int64_t c = 0; c < chains_; ++c) {
    const uint64_t* w = &words_[static_cast<size_t>((c / 64) * V)];
    const int b = static_cast<int>(c % 64);
    for (int64_t i = 0; i < V; ++i) o[c * V + i] = ((w[i] >> b) & 1) ? 1 : -1;
  }
  return out;
}

void IsingSampler::set_state(const torch::Tensor& s) {
  const int64_t L = params_.L, V = params_.volume();
  const std::string expected = "a (" + std::to_string(chains_) + ", " + std::to_string(L) + ", " +
                               std::to_string(L) + ") tensor";
  check_arg(s.defined() && s.dim() == 3 && s.size(0) == chains_ && s.size(1) == L && s.size(2) == L,
            "s.shape", s.defined() ? s.sizes() : c10::IntArrayRef{}, expected);
  auto cpu = s.to(torch::kCPU);
  check_arg(torch::logical_or(cpu == 1, cpu == -1).all().item<bool>(), "s", "(values)",
            "only +1 and -1 entries");
  auto t = cpu.to(torch::kInt8).contiguous();
  const int8_t* in = t.data_ptr<int8_t>();
  if (kind_ == Kind::kWolff) {
    std::copy(in, in + chains_ * V, spins_.begin());
    return;
  }
  for (int64_t c = 0; c < chains_; ++c) {
    uint64_t* w = &words_[static_cast<size_t>((c / 64) * V)];
    const uint64_t bit = uint64_t{1} << (c % 64);
    for (int64_t i = 0; i < V; ++i) w[i] = in[c * V + i] > 0 ? (w[i] | bit) : (w[i] & ~bit);
  }
}

namespace {
std::vector<uint64_t> rng_words(const std::vector<Xoshiro256pp>& rngs) {
  std::vector<uint64_t> w;
  w.reserve(rngs.size() * 4);
  for (const auto& r : rngs) w.insert(w.end(), r.s, r.s + 4);
  return w;
}
void set_rng_words(std::vector<Xoshiro256pp>& rngs, const std::vector<uint64_t>& w) {
  for (size_t i = 0; i < rngs.size(); ++i) std::copy(w.begin() + 4 * i, w.begin() + 4 * i + 4, rngs[i].s);
}
torch::Tensor int8_tensor(const std::vector<int8_t>& v) {
  return torch::from_blob(const_cast<int8_t*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kInt8).clone();
}
}  // namespace

ChainSnapshot IsingSampler::snapshot() const {
  ChainSnapshot s;
  s.algorithm = algorithm_;
  s.tensors["sweeps"] = torch::tensor(sweeps_, torch::kInt64);
  s.tensors["chains"] = torch::tensor(chains_, torch::kInt64);
  s.tensors["L"] = torch::tensor(params_.L, torch::kInt64);
  if (kind_ == Kind::kWolff) {
    s.tensors["spins"] = int8_tensor(spins_);
    s.tensors["rngs"] = ChainSnapshot::from_words(rng_words(chain_rngs_));
    s.tensors["clusters_per_sweep"] = torch::tensor(clusters_per_sweep_, torch::kInt64);
    s.tensors["calib_clusters"] = ChainSnapshot::from_words(calib_clusters_);
    s.tensors["calib_spins"] = ChainSnapshot::from_words(calib_spins_);
    s.tensors["cluster_count"] = ChainSnapshot::from_words(cluster_count_);
    s.tensors["cluster_spins"] = ChainSnapshot::from_words(cluster_spins_);
  } else {
    s.tensors["words"] = ChainSnapshot::from_words(words_);
    s.tensors["rngs"] = ChainSnapshot::from_words(rng_words(group_rngs_));
    s.tensors["flips"] = ChainSnapshot::from_words(flips_);
  }
  return s;
}

void IsingSampler::restore(const ChainSnapshot& s) {
  s.check_algorithm(algorithm_);
  if (s.integer("chains") != chains_ || s.integer("L") != params_.L) {
    throw IoError("chain snapshot (" + algorithm_ + "): " + std::to_string(s.integer("chains")) + " chains of L = " +
                  std::to_string(s.integer("L")) + ", this chain has " + std::to_string(chains_) + " of L = " +
                  std::to_string(params_.L));
  }
  const auto V = static_cast<size_t>(params_.volume());
  const auto C = static_cast<size_t>(chains_);
  if (kind_ == Kind::kWolff) {
    const auto& sp = s.at("spins");
    if (sp.scalar_type() != torch::kInt8 || static_cast<size_t>(sp.numel()) != C * V)
      throw IoError("chain snapshot (wolff): 'spins' does not hold chains x L x L int8 values");
    const auto spc = sp.contiguous();
    std::copy(spc.data_ptr<int8_t>(), spc.data_ptr<int8_t>() + C * V, spins_.begin());
    set_rng_words(chain_rngs_, s.words("rngs", 4 * C));
    clusters_per_sweep_ = s.integer("clusters_per_sweep");
    calib_clusters_ = s.words("calib_clusters", C);
    calib_spins_ = s.words("calib_spins", C);
    cluster_count_ = s.words("cluster_count", C);
    cluster_spins_ = s.words("cluster_spins", C);
  } else {
    const auto G = static_cast<size_t>(groups_);
    words_ = s.words("words", G * V);
    set_rng_words(group_rngs_, s.words("rngs", 4 * G));
    flips_ = s.words("flips", G);
  }
  sweeps_ = s.integer("sweeps");
}

nlohmann::json IsingSampler::info() const {
  nlohmann::json j = params_.to_json();
  j["algorithm"] = algorithm_;
  j["chains"] = chains_;
  j["sweeps"] = sweeps_;
  if (kind_ == Kind::kWolff) {
    uint64_t clusters = 0, spins = 0;
    for (size_t c = 0; c < cluster_count_.size(); ++c) {
      clusters += cluster_count_[c];
      spins += cluster_spins_[c];
    }
    j["clusters_per_sweep"] = clusters_per_sweep_;
    j["mean_cluster_size"] = clusters > 0 ? static_cast<double>(spins) / clusters : 0.0;
    j["flipped_per_sweep"] =
        sweeps_ > 0 ? static_cast<double>(spins) / (static_cast<double>(sweeps_) * chains_) : 0.0;
  } else {
    uint64_t flips = 0;
    for (uint64_t f : flips_) flips += f;
    const double attempts =
        static_cast<double>(sweeps_) * static_cast<double>(chains_) * params_.volume();
    j["acceptance"] = attempts > 0 ? static_cast<double>(flips) / attempts : 0.0;
  }
  return j;
}

}  // namespace physgen
