#include "physgen/mcmc/simulate.h"

#include <signal.h>

#include <chrono>
#include <csignal>
#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/memory.h"
#include "physgen/core/progress.h"
#include "physgen/core/shape.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/hdf5.h"
#include "physgen/io/npy_rows.h"

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


// ---- streaming to disk, resumable --------------------------------------------------------

std::string partial_path(const std::string& npy_path) { return npy_path + ".partial"; }
std::string resume_path(const std::string& npy_path) { return npy_path + ".resume"; }

namespace {

constexpr const char* kResumeFormat = "physgen-simulate-resume-1";
volatile std::sig_atomic_t g_stream_stop_signal = 0;
void stream_stop_handler(int sig) { g_stream_stop_signal = sig; }

// SIGINT / SIGTERM set a flag the recording loop polls (the run then snapshots and stops);
// the previous handlers come back when the guard goes.
struct StopSignalGuard {
  struct sigaction old_int {}, old_term {};
  StopSignalGuard() {
    g_stream_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = stream_stop_handler;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int);
    ::sigaction(SIGTERM, &sa, &old_term);
  }
  ~StopSignalGuard() {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
  }
};

struct ResumeState {
  nlohmann::json progress;  // {"run", "samples", "therm_done", "samples_done"}
  ChainSnapshot snapshot;
};

void write_resume_file(const std::string& path, const nlohmann::json& progress, const ChainSnapshot& s) {
  torch::serialize::OutputArchive a;
  a.write("format", c10::IValue(std::string(kResumeFormat)));
  a.write("progress", c10::IValue(progress.dump()));
  a.write("algorithm", c10::IValue(s.algorithm));
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& [k, t] : s.tensors) {
    a.write("chain." + k, t);
    keys.push_back(k);
  }
  a.write("keys", c10::IValue(keys.dump()));
  write_file_atomic(path, [&](std::ostream& os) { a.save_to(os); });
}

std::string read_archive_string(torch::serialize::InputArchive& a, const char* key, const std::string& path) {
  c10::IValue v;
  if (!a.try_read(key, v) || !v.isString()) throw IoError(path + ": not a physgen resume file (no '" + key + "')");
  return v.toStringRef();
}

ResumeState read_resume_file(const std::string& path) {
  torch::serialize::InputArchive a;
  try {
    std::istringstream in(read_file_bytes(path));
    a.load_from(in);
  } catch (const IoError&) {
    throw;
  } catch (const std::exception& e) {
    throw IoError(path + ": not a readable resume file (" + std::string(e.what()).substr(0, 200) + ")");
  }
  if (read_archive_string(a, "format", path) != kResumeFormat)
    throw IoError(path + ": not a " + std::string(kResumeFormat) + " file");
  ResumeState r;
  try {
    r.progress = nlohmann::json::parse(read_archive_string(a, "progress", path));
    r.snapshot.algorithm = read_archive_string(a, "algorithm", path);
    for (const auto& k : nlohmann::json::parse(read_archive_string(a, "keys", path))) {
      torch::Tensor t;
      a.read("chain." + k.get<std::string>(), t);
      r.snapshot.tensors[k.get<std::string>()] = t;
    }
  } catch (const IoError&) {
    throw;
  } catch (const std::exception& e) {
    throw IoError(path + ": damaged resume file (" + std::string(e.what()).substr(0, 200) + ")");
  }
  return r;
}

// Rows [src, src + n) -> [dst, dst + n) in blocks of <= 64 MiB, in the order memmove uses.
void move_rows(NpyRowFile& f, int64_t src, int64_t dst, int64_t n, int64_t row_bytes) {
  if (n <= 0 || src == dst) return;
  const int64_t block = std::max<int64_t>(1, (int64_t{64} << 20) / std::max<int64_t>(1, row_bytes));
  if (dst < src) {
    for (int64_t i = 0; i < n; i += block) {
      const int64_t k = std::min(block, n - i);
      f.write_rows(dst + i, f.read_rows(src + i, k));
    }
  } else {
    for (int64_t i = n; i > 0;) {
      const int64_t k = std::min(block, i);
      i -= k;
      f.write_rows(dst + i, f.read_rows(src + i, k));
    }
  }
}

// Re-lays a chain-major file of C chains from S_old to S_new samples per chain, keeping the
// first `done` samples of each chain (rows of the others are left to be written).
void relayout(NpyRowFile& f, int64_t C, int64_t s_old, int64_t s_new, int64_t done, int64_t row_bytes) {
  const int64_t keep = std::min(done, s_new);
  if (s_new > s_old) {
    f.resize(C * s_new);
    for (int64_t c = C - 1; c >= 0; --c) move_rows(f, c * s_old, c * s_new, keep, row_bytes);
  } else if (s_new < s_old) {
    for (int64_t c = 0; c < C; ++c) move_rows(f, c * s_old, c * s_new, keep, row_bytes);
    f.resize(C * s_new);
  }
}

}  // namespace

StreamResult record_chain_to_file(MarkovChain& chain, const RecordOptions& opts, const StreamOptions& stream,
                                  const std::function<EnsembleMeta(const MarkovChain&)>& meta) {
  opts.validate();
  check_arg(!stream.path.empty(), "path", stream.path, "a file name FILE.npy");
  check_arg(stream.snapshot_seconds >= 0.0, "snapshot_seconds", stream.snapshot_seconds, "a number of seconds >= 0");
  check_arg(chain.resumable(), "algorithm", chain.info().value("algorithm", std::string("?")),
            "a chain that can be snapshotted (streamed runs are resumable)");
  const torch::Tensor state0 = chain.state();
  check_arg(state0.defined() && state0.dim() >= 1, "chain state", std::string("undefined"),
            "a chain with a state before its first update");
  const std::string partial = partial_path(stream.path), resume_file = resume_path(stream.path);
  const int64_t C = chain.chains(), S = opts.samples;
  const std::vector<int64_t> event(state0.sizes().begin() + 1, state0.sizes().end());
  std::vector<int64_t> shape{C * S};
  shape.insert(shape.end(), event.begin(), event.end());
  const int64_t row_bytes = static_cast<int64_t>(c10::elementSize(stream.dtype)) * shape_numel(event);

  int64_t therm_done = 0, samples_done = 0;
  StreamResult result;
  result.shape = shape;
  // An .h5 target streams to the same .npy-format partial file and is converted at the end:
  // the disk must hold the partial and the HDF5 copy (at most the same size) at once.
  const bool h5 = is_hdf5_path(stream.path);
  auto create_partial = [&] {
    if (h5) {
      check_disk_space(2 * row_bytes * C * S, stream.path, "ensemble (" + partial + " and its HDF5 copy)", "samples",
                       std::to_string(S));
    }
    return NpyRowFile::create(partial, stream.dtype, shape, "samples", std::to_string(S));
  };
  NpyRowFile rows = [&]() -> NpyRowFile {
    if (!stream.resume) {
      check_arg(!file_exists(partial), "out", stream.path,
                "a file with no interrupted run: " + partial +
                    " exists (continue it with resume, the CLI's --resume, or delete it and " + resume_file + ")");
      return create_partial();
    }
    check_arg(file_exists(partial), "resume", stream.path,
              "an interrupted run to continue: there is no " + partial);
    if (!file_exists(resume_file)) {
      // Killed before its first snapshot (during thermalisation): nothing to continue from.
      remove_file(partial);
      return create_partial();
    }
    ResumeState r = read_resume_file(resume_file);
    const nlohmann::json& was = r.progress.at("run");
    for (const auto& [key, value] : stream.run.items()) {
      const auto it = was.find(key);
      const std::string old = it == was.end() ? std::string("(absent)") : it->dump();
      check_arg(it != was.end() && *it == value, key, value.dump(),
                "the interrupted run's value " + old + " (a resumed run must repeat its settings; only the number "
                "of samples may change)");
    }
    for (const auto& [key, value] : was.items())
      check_arg(stream.run.contains(key), key, std::string("(absent)"), "the interrupted run's value " + value.dump());
    const int64_t s_old = r.progress.at("samples").get<int64_t>();
    therm_done = r.progress.at("therm_done").get<int64_t>();
    samples_done = r.progress.at("samples_done").get<int64_t>();
    NpyRowFile f = NpyRowFile::open(partial, stream.dtype, event);
    if (f.rows() != C * s_old)
      throw IoError(partial + ": " + std::to_string(f.rows()) + " rows, the resume file says " +
                    std::to_string(C) + " chains x " + std::to_string(s_old) + " samples");
    chain.restore(r.snapshot);
    relayout(f, C, s_old, S, samples_done, row_bytes);
    samples_done = std::min(samples_done, S);
    result.resumed_at = samples_done;
    return f;
  }();

  StopSignalGuard signals;
  using clock = std::chrono::steady_clock;
  auto last_snapshot = clock::now();
  auto take_snapshot = [&] {
    rows.sync();  // the rows first: the snapshot must never claim rows that are not on disk
    nlohmann::json progress{{"run", stream.run}, {"samples", S}, {"therm_done", therm_done},
                            {"samples_done", samples_done}};
    write_resume_file(resume_file, progress, chain.snapshot());
    last_snapshot = clock::now();
  };
  auto poll = [&] {
    if (g_stream_stop_signal != 0) {
      take_snapshot();
      throw Interrupted("signal " + std::to_string(static_cast<int>(g_stream_stop_signal)) + ": " +
                        std::to_string(samples_done) + " of " + std::to_string(S) + " samples per chain are in " +
                        partial + "; repeat the command with resume (--resume) to continue");
    }
    const double since = std::chrono::duration<double>(clock::now() - last_snapshot).count();
    if (since >= stream.snapshot_seconds) take_snapshot();
  };

  const int64_t total = opts.therm + S * opts.every;
  Progress progress(opts.label, total, "updates", opts.progress);
  const int64_t chunk = std::max<int64_t>(1, opts.therm / 100);
  const bool thermalising = therm_done < opts.therm;
  while (therm_done < opts.therm) {
    const int64_t n = std::min(chunk, opts.therm - therm_done);
    chain.update(n);
    therm_done += n;
    progress.update(therm_done, "thermalising");
    if (therm_done < opts.therm) poll();
  }
  if (thermalising) take_snapshot();
  for (int64_t t = samples_done; t < S; ++t) {
    chain.update(opts.every);
    // One host copy in the stored dtype per sample; then one row write per chain.
    const torch::Tensor s = chain.state().to(torch::kCPU, stream.dtype);
    for (int64_t c = 0; c < C; ++c) rows.write_rows(c * S + t, s.narrow(0, c, 1));
    samples_done = t + 1;
    progress.update(opts.therm + samples_done * opts.every);
    if (samples_done < S) poll();
  }
  // An .h5 target: a snapshot of the finished run first, so that a conversion that fails (a
  // full disk, say) is finished by a resume without running the chain again.
  if (h5) take_snapshot();
  progress.finish();
  rows.close();
  EnsembleMeta m = meta(chain);
  check_arg(m.chains == C && m.samples_per_chain == S, "meta", std::to_string(m.chains) + " x " +
            std::to_string(m.samples_per_chain), std::to_string(C) + " chains x " + std::to_string(S) + " samples");
  m.layout = "chain-major";
  if (h5) {
    // The partial converted block by block (never the whole ensemble in memory), written
    // atomically; the partial goes only once FILE.h5 is complete.
    const NpyRowFile in = NpyRowFile::open(partial, stream.dtype, event);
    write_h5_ensemble_rows(stream.path, stream.dtype, shape, stamped_meta(nlohmann::json(m)),
                           [&](int64_t first, int64_t count) { return in.read_rows(first, count); });
    remove_file(partial);
  } else {
    write_sidecar(stream.path, nlohmann::json(m));
    rename_file(partial, stream.path);
  }
  remove_file(resume_file);
  return result;
}

}  // namespace physgen
