#pragma once
// A Markov chain that stops the process after `limit` updates, as a kill would (nothing is
// flushed): the resume tests of streamed simulations (NPY and HDF5) wrap their chain in it.
#include <stdexcept>

#include <torch/torch.h>

#include "physgen/mcmc/markov_chain.h"

namespace physgen::test {

/// Thrown by KilledAfter in place of the kill.
struct Killed : std::runtime_error {
  Killed() : std::runtime_error("killed") {}
};

/// Forwards to `inner` and throws Killed at update number `limit` (counting from 0).
class KilledAfter : public MarkovChain {
 public:
  KilledAfter(MarkovChain& inner, int64_t limit) : inner_(inner), limit_(limit) {}
  void update(int64_t n) override {
    for (int64_t i = 0; i < n; ++i) {
      if (done_++ == limit_) throw Killed();
      inner_.update(1);
    }
  }
  torch::Tensor state() const override { return inner_.state(); }
  int64_t chains() const override { return inner_.chains(); }
  nlohmann::json info() const override { return inner_.info(); }
  bool resumable() const override { return true; }
  ChainSnapshot snapshot() const override { return inner_.snapshot(); }
  void restore(const ChainSnapshot& s) override { inner_.restore(s); }

 private:
  MarkovChain& inner_;
  int64_t limit_, done_ = 0;
};

}  // namespace physgen::test
