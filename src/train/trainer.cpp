#include "physgen/train/trainer.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "physgen/core/check.h"
#include "physgen/core/options.h"
#include "physgen/core/progress.h"
#include "physgen/core/registry.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/checkpoint.h"
#include "physgen/io/config.h"

namespace physgen {

// ---------------------------------------------------------------- TrainingTask

std::vector<std::pair<std::string, std::vector<torch::Tensor>>> TrainingTask::parameter_groups() {
  return {{"model", module().parameters()}};
}

double TrainingTask::train_step(const torch::Tensor& batch, std::vector<torch::optim::Optimizer*>& optimisers,
                                double clip, int64_t /*step*/, Diagnostics& diag) {
  auto* opt = optimisers.front();
  opt->zero_grad();
  torch::Tensor l = loss(batch, diag);
  l.backward();
  if (clip > 0) {
    for (auto& group : opt->param_groups()) torch::nn::utils::clip_grad_norm_(group.params(), clip);
  }
  opt->step();
  return l.item<double>();
}

// -------------------------------------------------------------- TrainerOptions

void TrainerOptions::validate() const {
  check_arg(steps_ >= 0, "steps", steps_, "an integer >= 0");
  check_arg(batch_size_ >= 1, "batch_size", batch_size_, "an integer >= 1");
  check_arg(lr_ > 0 && std::isfinite(lr_), "lr", lr_, "a finite number > 0");
  check_choice("optimizer", optimizer_, {"adam", "adamw", "sgd"});
  check_choice("schedule", schedule_, {"constant", "cosine"});
  check_arg(warmup_ >= 0, "warmup", warmup_, "an integer >= 0");
  check_arg(grad_clip_ >= 0, "grad_clip", grad_clip_, "a number >= 0 (0 = off)");
  check_arg(log_every_ >= 1, "log_every", log_every_, "an integer >= 1");
  check_arg(checkpoint_every_ >= 0, "checkpoint_every", checkpoint_every_, "an integer >= 0");
  check_arg(anneal_steps_ >= 0, "anneal_steps", anneal_steps_, "an integer >= 0");
}

nlohmann::json TrainerOptions::to_json() const { return options_to_json(*this); }

TrainerOptions TrainerOptions::from_json(const nlohmann::json& j) {
  TrainerOptions o;
  options_from_json(o, j, "train");
  o.validate();
  return o;
}

// --------------------------------------------------------------------- Trainer

namespace {

std::unique_ptr<torch::optim::Optimizer> make_optimiser(const TrainerOptions& o, const std::vector<torch::Tensor>& params,
                                                        const GroupSettings& g) {
  const double lr = o.lr() * g.lr_scale;
  if (o.optimizer() == "adam")
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(lr).betas({g.beta1, g.beta2}).weight_decay(o.weight_decay()));
  if (o.optimizer() == "adamw")
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(lr).betas({g.beta1, g.beta2}).weight_decay(o.weight_decay()));
  return std::make_unique<torch::optim::SGD>(
      params, torch::optim::SGDOptions(lr).momentum(0.9).weight_decay(o.weight_decay()));
}

/// Whether every parameter of m is finite: one fused reduction, one host sync.
bool all_finite(torch::nn::Module& m) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> flags;
  for (const auto& p : m.parameters()) flags.push_back(torch::isfinite(p).all());
  return flags.empty() || torch::stack(flags).all().item<bool>();
}

std::vector<torch::optim::Optimizer*> raw(const std::vector<std::unique_ptr<torch::optim::Optimizer>>& v) {
  std::vector<torch::optim::Optimizer*> out;
  for (auto& o : v) out.push_back(o.get());
  return out;
}

/// Appends rows to the CSV history. On resume the rows past the resumed step
/// are dropped first, so the file always describes one consistent run.
class CsvHistory {
 public:
  CsvHistory(const std::string& path, int64_t resume_step) : path_(path) {
    if (path_.empty()) return;
    std::ifstream in(path_);
    if (resume_step > 0 && in) {
      std::string line;
      std::ostringstream kept;
      bool first = true;
      while (std::getline(in, line)) {
        if (first) {
          header_ = line;
          kept << line << "\n";
          first = false;
          continue;
        }
        const auto comma = line.find(',');
        if (comma != std::string::npos && std::stoll(line.substr(0, comma)) <= resume_step)
          kept << line << "\n";
      }
      write_file_atomic(path_, kept.str());
    } else {
      write_file_atomic(path_, std::string());
    }
  }
  void append(const HistoryRow& r) {
    if (path_.empty()) return;
    std::ofstream out(path_, std::ios::app);
    if (header_.empty()) {
      header_ = "step,loss,lr,seconds";
      for (auto& kv : r.diag) header_ += "," + kv.first;
      out << header_ << "\n";
    }
    out << r.step << "," << r.loss << "," << r.lr << "," << r.seconds;
    for (auto& kv : r.diag) out << "," << kv.second;
    out << "\n";
    if (!out) throw IoError("cannot append to training history '" + path_ + "'");
  }

 private:
  std::string path_, header_;
};

}  // namespace

Trainer::Trainer(TrainingTask& task, TrainerOptions options) : task_(task), options_(std::move(options)) {
  options_.validate();
  for (auto& [name, params] : task_.parameter_groups()) {
    const GroupSettings g = task_.group_settings(name);
    check_arg(g.lr_scale > 0 && std::isfinite(g.lr_scale), "group_settings(" + name + ").lr_scale", g.lr_scale,
              "a finite value > 0");
    group_names_.push_back(name);
    lr_scales_.push_back(g.lr_scale);
    optimisers_.push_back(make_optimiser(options_, params, g));
  }
}

double Trainer::lr_at(int64_t step) const {
  const double base = options_.lr();
  if (options_.warmup() > 0 && step < options_.warmup())
    return base * static_cast<double>(step + 1) / static_cast<double>(options_.warmup());
  if (options_.schedule() == "constant") return base;
  const double span = std::max<int64_t>(1, options_.steps() - options_.warmup());
  const double progress = std::min(1.0, static_cast<double>(step - options_.warmup()) / span);
  return 0.5 * base * (1.0 + std::cos(M_PI * progress));
}

void Trainer::set_lr(double lr) {
  for (size_t i = 0; i < optimisers_.size(); ++i)
    for (auto& group : optimisers_[i]->param_groups()) group.options().set_lr(lr * lr_scales_[i]);
}

void Trainer::save(const std::string& path) const {
  nlohmann::json meta{{"options", task_.options()},
                      {"trainer_options", options_.to_json()},
                      {"optimizer_groups", group_names_}};
  std::vector<const torch::optim::Optimizer*> opts;
  for (auto& o : optimisers_) opts.push_back(o.get());
  save_checkpoint(path, task_.module(), opts, meta, step_);
}

void Trainer::resume(const std::string& path) {
  auto info = load_checkpoint(path, task_.module(), raw(optimisers_));
  step_ = info.step;
}

TrainResult Trainer::fit(const torch::Tensor& data, int64_t stop_at, const std::function<bool(int64_t, double)>& should_stop) {
  TrainResult result;
  if (data.defined()) {
    check_arg(data.dim() >= 1 && data.size(0) >= 1, "data", data.sizes(), "a non-empty (N, ...) tensor");
    check_arg(options_.batch_size() <= data.size(0), "batch_size", options_.batch_size(),
              "at most the number of training samples N = " + std::to_string(data.size(0)) +
                  " (minibatches are drawn from them)");
  }
  CsvHistory csv(options_.csv_path(), step_);
  auto opts = raw(optimisers_);
  const int64_t start = step_;
  const int64_t end = stop_at >= 0 ? std::min(stop_at, options_.steps()) : options_.steps();
  Progress progress("train", end - start, "steps", options_.progress());
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  task_.module().train();
  while (step_ < end) {
    torch::Tensor batch;
    if (data.defined()) {
      auto idx = torch::randint(data.size(0), {options_.batch_size()},
                                torch::TensorOptions().dtype(torch::kLong).device(data.device()));
      batch = data.index_select(0, idx);
    }
    const double lr = lr_at(step_);
    set_lr(lr);
    Diagnostics diag;
    const double loss = task_.train_step(batch, opts, options_.grad_clip(), step_, diag);
    // The loss is checked every step; the parameters (a reduction over all of them) every
    // log_every steps, before every checkpoint and at the end, so no checkpoint is ever
    // written from a non-finite state.
    const bool checkpoint_next = !options_.checkpoint_path().empty() && options_.checkpoint_every() > 0 &&
                                 (step_ + 1) % options_.checkpoint_every() == 0;
    const bool check_parameters =
        (step_ + 1) % options_.log_every() == 0 || checkpoint_next || step_ + 1 == end;
    if (!std::isfinite(loss) || (check_parameters && !all_finite(task_.module()))) {
      result.status = TrainResult::Status::NonFinite;
      result.message = "training stopped at step " + std::to_string(step_ + 1) + ": " +
                       (std::isfinite(loss) ? std::string("non-finite parameters")
                                            : "non-finite loss (" + std::to_string(loss) + ")") +
                       "; no checkpoint written for this state" +
                       (options_.checkpoint_path().empty() ? std::string()
                                                           : " (the last good one is kept)") +
                       ". Try a smaller learning rate or gradient clipping.";
      break;
    }
    ++step_;
    if (step_ % options_.log_every() == 0 || step_ == options_.steps()) {
      HistoryRow row{step_, loss, lr, seconds(), diag};
      csv.append(row);
      result.history.push_back(std::move(row));
    }
    if (progress.active()) {
      std::ostringstream extra;
      extra << "loss " << loss;
      if (diag.count("ess")) extra << "  ess " << diag["ess"];
      progress.update(step_ - start, extra.str());
    }
    if (!options_.checkpoint_path().empty() && options_.checkpoint_every() > 0 &&
        step_ % options_.checkpoint_every() == 0)
      save(options_.checkpoint_path());
    if (should_stop && should_stop(step_, loss) && step_ < end) {  // called on every step, the last too
      result.status = TrainResult::Status::Interrupted;
      result.message = "training interrupted after step " + std::to_string(step_) +
                       (options_.checkpoint_path().empty()
                            ? std::string()
                            : "; checkpoint " + options_.checkpoint_path() + " written (continue with resume)");
      break;
    }
  }
  progress.finish();
  result.steps_done = step_;
  result.seconds = seconds();
  result.steps_per_second = result.seconds > 0 ? (step_ - start) / result.seconds : 0.0;
  if (result.status != TrainResult::Status::NonFinite && !options_.checkpoint_path().empty())
    save(options_.checkpoint_path());
  return result;
}

}  // namespace physgen
