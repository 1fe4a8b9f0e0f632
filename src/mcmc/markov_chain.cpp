#include "physgen/mcmc/markov_chain.h"

#include <ATen/Context.h>
#include <torch/torch.h>

#include <cstring>
#include <sstream>

#include "physgen/core/check.h"

namespace physgen {

const torch::Tensor& ChainSnapshot::at(const std::string& key) const {
  const auto it = tensors.find(key);
  if (it == tensors.end() || !it->second.defined())
    throw IoError("chain snapshot (" + algorithm + "): missing '" + key + "'");
  return it->second;
}

void ChainSnapshot::check_algorithm(const std::string& expected) const {
  if (algorithm != expected)
    throw IoError("chain snapshot: algorithm '" + algorithm + "', this chain runs '" + expected + "'");
}

int64_t ChainSnapshot::integer(const std::string& key) const {
  const auto& t = at(key);
  if (t.numel() != 1) throw IoError("chain snapshot (" + algorithm + "): '" + key + "' is not a scalar");
  return t.to(torch::kInt64).item<int64_t>();
}

torch::Tensor ChainSnapshot::from_words(const std::vector<uint64_t>& w) {
  auto t = torch::empty({static_cast<int64_t>(w.size())}, torch::kInt64);
  if (!w.empty()) std::memcpy(t.data_ptr<int64_t>(), w.data(), w.size() * sizeof(uint64_t));
  return t;
}

std::vector<uint64_t> ChainSnapshot::words(const std::string& key, size_t n) const {
  const auto t = at(key).to(torch::kCPU).contiguous();
  if (t.scalar_type() != torch::kInt64 || static_cast<size_t>(t.numel()) != n) {
    throw IoError("chain snapshot (" + algorithm + "): '" + key + "' holds " + std::to_string(t.numel()) +
                  " " + c10::toString(t.scalar_type()) + " values, expected " + std::to_string(n) + " int64");
  }
  std::vector<uint64_t> w(n);
  if (n) std::memcpy(w.data(), t.data_ptr<int64_t>(), n * sizeof(uint64_t));
  return w;
}

torch::Tensor default_generator_state(const torch::Device& device) {
  auto gen = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_default_generator_state(const torch::Device& device, const torch::Tensor& state) {
  auto gen = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

void snapshot_default_generators(ChainSnapshot& s, const torch::Device& device) {
  s.tensors["generator_cpu"] = default_generator_state(torch::kCPU);
  if (!device.is_cpu()) s.tensors["generator_device"] = default_generator_state(device).to(torch::kCPU);
}

void restore_default_generators(const ChainSnapshot& s, const torch::Device& device) {
  set_default_generator_state(torch::kCPU, s.at("generator_cpu"));
  if (!device.is_cpu()) set_default_generator_state(device, s.at("generator_device"));
}

void check_snapshot_like(const ChainSnapshot& s, const std::string& key, const torch::Tensor& like) {
  const auto& t = s.at(key);
  if (t.sizes() != like.sizes() || t.scalar_type() != like.scalar_type()) {
    std::ostringstream os;
    os << "chain snapshot (" << s.algorithm << "): '" << key << "' is " << t.sizes() << " "
       << c10::toString(t.scalar_type()) << ", this chain's is " << like.sizes() << " "
       << c10::toString(like.scalar_type());
    throw IoError(os.str());
  }
}

ChainSnapshot MarkovChain::snapshot() const {
  check_arg(false, "algorithm", info().value("algorithm", std::string("?")),
            "a resumable chain (ising metropolis/heatbath/wolff, hmc, phi4 metropolis)");
  return {};
}

void MarkovChain::restore(const ChainSnapshot&) {
  check_arg(false, "algorithm", info().value("algorithm", std::string("?")),
            "a resumable chain (ising metropolis/heatbath/wolff, hmc, phi4 metropolis)");
}

}  // namespace physgen
