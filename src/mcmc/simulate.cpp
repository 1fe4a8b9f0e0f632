#include "physgen/mcmc/simulate.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/memory.h"
#include "physgen/core/progress.h"

namespace physgen {

void RecordOptions::validate() const {
  check_arg(therm >= 0, "therm", therm, "an integer >= 0");
  check_arg(samples >= 1, "samples", samples, "an integer >= 1");
  check_arg(every >= 1, "every", every, "an integer >= 1");
}

torch::Tensor record_chain(MarkovChain& chain, const RecordOptions& opts) {
  opts.validate();
  // The ensemble is allocated once, chain-major (C, S, *event), and each recorded state is
  // copied into its rows: one copy of the ensemble in memory, checked before the chain runs.
  // (A chain without a state before its first update allocates after it.)
  std::vector<int64_t> shape;
  torch::Tensor out;
  auto allocate = [&](const torch::Tensor& state) {
    shape = {state.size(0), opts.samples};
    shape.insert(shape.end(), state.sizes().begin() + 1, state.sizes().end());
    int64_t bytes = static_cast<int64_t>(state.element_size());
    for (int64_t s : shape) bytes *= s;
    check_memory(bytes, "ensemble (chains x samples x sites)", "samples", std::to_string(opts.samples));
    out = torch::empty(shape, state.options().device(torch::kCPU));
  };
  if (chain.state().defined()) allocate(chain.state());
  const int64_t total = opts.therm + opts.samples * opts.every;
  Progress progress(opts.label, total, "updates", opts.progress);
  int64_t done = 0;
  // Thermalise in chunks so the progress bar moves.
  const int64_t chunk = std::max<int64_t>(1, opts.therm / 100);
  while (done < opts.therm) {
    const int64_t n = std::min(chunk, opts.therm - done);
    chain.update(n);
    done += n;
    progress.update(done, "thermalising");
  }
  for (int64_t t = 0; t < opts.samples; ++t) {
    chain.update(opts.every);
    done += opts.every;
    if (!out.defined()) allocate(chain.state());
    out.select(1, t).copy_(chain.state());
    progress.update(done);
  }
  progress.finish();
  std::vector<int64_t> flat{shape[0] * shape[1]};
  flat.insert(flat.end(), shape.begin() + 2, shape.end());
  return out.view(flat);
}

}  // namespace physgen
