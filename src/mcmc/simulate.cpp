#include "physgen/mcmc/simulate.h"

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/progress.h"

namespace physgen {

void RecordOptions::validate() const {
  check_arg(therm >= 0, "therm", therm, "an integer >= 0");
  check_arg(samples >= 1, "samples", samples, "an integer >= 1");
  check_arg(every >= 1, "every", every, "an integer >= 1");
}

torch::Tensor record_chain(MarkovChain& chain, const RecordOptions& opts) {
  opts.validate();
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
  std::vector<torch::Tensor> recorded;
  recorded.reserve(opts.samples);
  for (int64_t t = 0; t < opts.samples; ++t) {
    chain.update(opts.every);
    done += opts.every;
    recorded.push_back(chain.state().to(torch::kCPU).clone());
    progress.update(done);
  }
  progress.finish();
  // (S, C, ...) -> (C, S, ...) -> (C*S, ...)
  auto stacked = torch::stack(recorded, 0).transpose(0, 1).contiguous();
  auto sizes = stacked.sizes().vec();
  std::vector<int64_t> out{sizes[0] * sizes[1]};
  out.insert(out.end(), sizes.begin() + 2, sizes.end());
  return stacked.reshape(out);
}

}  // namespace physgen
