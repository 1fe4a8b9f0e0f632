#pragma once
// The Markov-chain contract shared by every MCMC algorithm in physgen.
//
// A MarkovChain advances C independent chains at once (one tensor / one bit-plane
// per chain); update(n) applies n elementary updates (a checkerboard sweep for
// local algorithms, one trajectory for HMC, one sweep-equivalent of clusters for
// Wolff). record_chain() in mcmc/simulate.h turns any MarkovChain into an
// ensemble with thermalisation and thinning; record_chain_to_file() streams it to
// disk and, through snapshot() / restore(), makes the run resumable.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace physgen {

/// Everything a chain needs to continue exactly where it stopped: its configurations, the
/// state of every random-number stream it draws from, and its running statistics, as named
/// CPU tensors. A chain restored from a snapshot produces the same future states, bit for
/// bit, as the chain the snapshot was taken from (on the same build and device).
struct ChainSnapshot {
  std::string algorithm;                         ///< info()["algorithm"] of the chain that made it
  std::map<std::string, torch::Tensor> tensors;  ///< named parts (CPU tensors)

  /// The tensor `key`; IoError "chain snapshot (ALGORITHM): missing 'KEY'" when absent.
  const torch::Tensor& at(const std::string& key) const;
  /// IoError "chain snapshot: algorithm 'A', this chain runs 'EXPECTED'" unless they match.
  void check_algorithm(const std::string& expected) const;
  /// An int64 scalar stored under `key` (see at()).
  int64_t integer(const std::string& key) const;
  /// uint64 words <-> an int64 tensor holding the same bits (for Xoshiro states, bit-planes).
  static torch::Tensor from_words(const std::vector<uint64_t>& w);
  /// The words of `t` (int64, `n` elements expected); IoError naming `key` on a size mismatch.
  std::vector<uint64_t> words(const std::string& key, size_t n) const;
};

/// The state of LibTorch's default generator for `device` (CPU, or the current CUDA device),
/// and its inverse: chains drawing from torch::randn / torch::rand snapshot it.
torch::Tensor default_generator_state(const torch::Device& device);
void set_default_generator_state(const torch::Device& device, const torch::Tensor& state);
/// Adds the default generators a chain on `device` draws from (the CPU one, and the device's
/// where that is not the CPU) to `s` as "generator_cpu" / "generator_device"; and restores them.
void snapshot_default_generators(ChainSnapshot& s, const torch::Device& device);
void restore_default_generators(const ChainSnapshot& s, const torch::Device& device);
/// Checks that snapshot tensor `key` has the shape and dtype of `like`; IoError naming both.
void check_snapshot_like(const ChainSnapshot& s, const std::string& key, const torch::Tensor& like);

class MarkovChain {
 public:
  virtual ~MarkovChain() = default;
  /// Advances every chain by n updates.
  virtual void update(int64_t n = 1) = 0;
  /// Current configurations, (chains, *event_shape), on the chain's device
  /// (Ising: int8 +-1; phi^4: the chain's floating dtype).
  virtual torch::Tensor state() const = 0;
  /// Number of independent chains C.
  virtual int64_t chains() const = 0;
  /// Algorithm name, its settings and running statistics (acceptance rate, ...),
  /// e.g. {"algorithm": "hmc", "step_size": 0.1, "n_steps": 10, "acceptance": 0.83}.
  virtual nlohmann::json info() const = 0;
  /// Whether snapshot() / restore() are implemented (Ising, HMC, phi^4 Metropolis: yes).
  virtual bool resumable() const { return false; }
  /// A snapshot from which restore() continues this chain exactly. Chains that do not
  /// implement it throw InvalidArgument naming their algorithm.
  virtual ChainSnapshot snapshot() const;
  /// Continues from `s`, taken from a chain built with the same settings (algorithm, chains,
  /// event shape); IoError naming the part that does not match.
  virtual void restore(const ChainSnapshot& s);
};

}  // namespace physgen
