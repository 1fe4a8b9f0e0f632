#include "physgen/mcmc/independence_metropolis.h"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "physgen/core/check.h"

namespace physgen {


ImportanceSample importance_sample(LikelihoodModel& model, const Target& target, int64_t n,
                                   int64_t batch_size) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  check_arg(batch_size >= 1, "batch_size", batch_size, "an integer >= 1");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> xs, lws;
  for (int64_t done = 0; done < n; done += batch_size) {
    const int64_t b = std::min(batch_size, n - done);
    auto r = model.sample_and_log_prob(b);
    lws.push_back((-target.action(r.first) - r.second).to(torch::kCPU, torch::kFloat64));
    xs.push_back(r.first);
  }
  ImportanceSample s;
  s.samples = torch::cat(xs, 0);
  s.log_weights = torch::cat(lws, 0);
  s.ess = ess(s.log_weights);
  if (s.log_weights.numel() >= 64) s.batch_ess = batch_ess(s.log_weights, 64);
  s.log_z = log_mean_exp(s.log_weights);
  return s;
}

IndependenceMetropolis::IndependenceMetropolis(std::shared_ptr<LikelihoodModel> model, TargetPtr target,
                               IndependenceMetropolisOptions options)
    : model_(std::move(model)),
      target_(std::move(target)),
      options_(options),
      rng_(options.seed(), 0xf10ULL) {
  check_arg(model_ != nullptr, "model", "null", "a likelihood model");
  check_arg(target_ != nullptr, "target", "null", "a target");
  check_arg(options_.batch_size() >= 1, "batch_size", options_.batch_size(), "an integer >= 1");
  check_arg(model_->event_shape() == target_->event_shape(), "model.event_shape()",
            detail::to_display(c10::IntArrayRef(model_->event_shape())),
            "the target's event shape " +
                detail::to_display(c10::IntArrayRef(target_->event_shape())));
}

void IndependenceMetropolis::refill() {
  torch::NoGradGuard no_grad;
  auto r = model_->sample_and_log_prob(options_.batch_size());
  auto lw = (-target_->action(r.first) - r.second).to(torch::kCPU, torch::kFloat64).contiguous();
  buffer_ = r.first;
  buffer_logw_.assign(lw.data_ptr<double>(), lw.data_ptr<double>() + lw.numel());
  pos_ = 0;
}

void IndependenceMetropolis::advance(int64_t n, std::vector<int64_t>* held, std::vector<uint8_t>* acc) {
  const int64_t end = std::min<int64_t>(static_cast<int64_t>(buffer_logw_.size()), pos_ + n);
  int64_t cur = -1;
  for (; pos_ < end; ++pos_) {
    const double lw = buffer_logw_[static_cast<size_t>(pos_)];
    bool accept;
    if (!current_.defined() && cur < 0) {
      accept = true;  // the chain starts from the first proposal
    } else {
      const double diff = lw - current_logw_;
      accept = diff >= 0 || rng_.uniform() < std::exp(diff);
    }
    if (accept) {
      cur = pos_;
      current_logw_ = lw;
      ++accepted_;
    }
    ++steps_;
    if (held) held->push_back(cur);
    if (acc) acc->push_back(accept ? 1 : 0);
  }
  if (cur >= 0) current_ = buffer_.narrow(0, cur, 1).clone();
}

IndependenceMetropolisResult IndependenceMetropolis::run(int64_t n) {
  check_arg(n >= 1, "n", n, "an integer >= 1");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> pieces;
  std::vector<uint8_t> acc_all;
  std::vector<double> logw_all, proposal_logw;
  acc_all.reserve(static_cast<size_t>(n));
  logw_all.reserve(static_cast<size_t>(n));
  int64_t done = 0;
  while (done < n) {
    if (pos_ >= static_cast<int64_t>(buffer_logw_.size())) refill();
    const int64_t start = pos_;
    const torch::Tensor before = current_;
    const double before_logw = current_logw_;
    std::vector<int64_t> held;
    advance(n - done, &held, &acc_all);
    proposal_logw.insert(proposal_logw.end(), buffer_logw_.begin() + start,
                         buffer_logw_.begin() + pos_);
    // Rows: index 0 = the state before this segment, 1 + i = proposal i of the buffer.
    std::vector<int64_t> rows;
    rows.reserve(held.size());
    for (auto h : held) {
      rows.push_back(h + 1);
      logw_all.push_back(h >= 0 ? buffer_logw_[static_cast<size_t>(h)] : before_logw);
    }
    auto source = before.defined() ? torch::cat({before, buffer_}, 0)
                                   : torch::cat({buffer_.narrow(0, 0, 1), buffer_}, 0);
    auto idx = torch::tensor(rows, torch::kLong).to(buffer_.device());
    pieces.push_back(source.index_select(0, idx));
    done += static_cast<int64_t>(held.size());
  }
  IndependenceMetropolisResult r;
  r.chain = torch::cat(pieces, 0);
  r.accepted = torch::tensor(std::vector<int64_t>(acc_all.begin(), acc_all.end())).to(torch::kBool);
  r.log_weights = torch::tensor(logw_all, torch::kFloat64);
  r.acceptance = r.accepted.to(torch::kFloat64).mean().item<double>();
  const torch::Tensor plw = torch::tensor(proposal_logw, torch::kFloat64);
  r.proposal_ess = ess(plw);
  r.proposal_log_weights = plw;
  if (plw.numel() >= 64) r.proposal_batch_ess = batch_ess(plw, 64);
  return r;
}

void IndependenceMetropolis::update(int64_t n) {
  check_arg(n >= 0, "n", n, "an integer >= 0");
  torch::NoGradGuard no_grad;
  while (n > 0) {
    if (pos_ >= static_cast<int64_t>(buffer_logw_.size())) refill();
    const int64_t before = steps_;
    advance(n, nullptr, nullptr);
    n -= steps_ - before;
  }
}

nlohmann::json IndependenceMetropolis::info() const {
  return {{"algorithm", "flow_mh"},
          {"batch_size", options_.batch_size()},
          {"steps", steps_},
          {"acceptance", acceptance()}};
}

IndependenceMetropolisResult independence_metropolis(LikelihoodModel& model, const Target& target, int64_t n_steps,
                         const IndependenceMetropolisOptions& options) {
  // Non-owning handles: the chain lives only inside this call.
  std::shared_ptr<LikelihoodModel> m(&model, [](LikelihoodModel*) {});
  TargetPtr t(&target, [](const Target*) {});
  IndependenceMetropolis chain(m, t, options);
  return chain.run(n_steps);
}

}  // namespace physgen
