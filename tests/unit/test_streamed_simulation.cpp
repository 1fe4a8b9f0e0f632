// Resumable simulations: chain snapshots (MarkovChain::snapshot / restore), the row-by-row
// NPY writer (io/npy_rows.h) and record_chain_to_file (mcmc/simulate.h). The standard is
// bit-identity: a run interrupted and resumed writes the same bytes as one never interrupted.
// Each test also shows that a plausible wrong implementation fails it (a restore that keeps
// the configurations but not the random streams; a resume that reseeds).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <memory>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/npy.h"
#include "physgen/io/npy_rows.h"
#include "physgen/io/sidecar.h"
#include "physgen/lattice/phi4.h"
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/ising.h"
#include "physgen/mcmc/phi4_metropolis.h"
#include "physgen/mcmc/simulate.h"
#include "support/io_test_util.h"
#include "support/killed_chain.h"

namespace physgen {
namespace {

using test::TempDir;
using ChainFactory = std::function<std::unique_ptr<MarkovChain>(uint64_t seed)>;

struct NamedFactory {
  std::string name;
  ChainFactory make;
};

std::vector<NamedFactory> resumable_chains() {
  const Phi4Params phi4{6, -4.0, 8.0};
  return {
      // 70 chains: two 64-chain groups of the multispin kernel, the second one padded.
      {"ising_metropolis", [](uint64_t s) { return std::make_unique<IsingSampler>(IsingParams{8, 0.4}, "metropolis", 70, s); }},
      {"ising_heatbath", [](uint64_t s) { return std::make_unique<IsingSampler>(IsingParams{8, 0.4, 0.1}, "heatbath", 3, s); }},
      {"ising_wolff", [](uint64_t s) { return std::make_unique<IsingSampler>(IsingParams{8, 0.44}, "wolff", 3, s); }},
      {"phi4_hmc", [phi4](uint64_t s) {
         seed_all(s);
         return make_phi4_hmc(phi4, 3, HmcOptions().step_size(0.1).n_steps(5).jitter(0.2), torch::kCPU,
                              torch::kFloat64, Phi4Start::Random);
       }},
      {"phi4_metropolis", [phi4](uint64_t s) {
         seed_all(s);
         return make_phi4_metropolis(phi4, 3, Phi4MetropolisOptions().delta(1.0), torch::kCPU, torch::kFloat64,
                                     Phi4Start::Random);
       }},
  };
}

// n updates, one state per update, stacked.
torch::Tensor trajectory(MarkovChain& chain, int64_t n) {
  std::vector<torch::Tensor> states;
  for (int64_t i = 0; i < n; ++i) {
    chain.update(1);
    states.push_back(chain.state().to(torch::kCPU).clone());
  }
  return torch::stack(states);
}

TEST(ChainSnapshot, RestoredChainContinuesBitIdentically) {
  for (const auto& f : resumable_chains()) {
    SCOPED_TRACE(f.name);
    auto a = f.make(11);
    ASSERT_TRUE(a->resumable());
    // 10 updates: Wolff is still calibrating (20 updates), so the calibration is part of the snapshot.
    a->update(10);
    const ChainSnapshot snap = a->snapshot();
    const auto expected = trajectory(*a, 25);
    const auto expected_info = a->info();

    auto b = f.make(99);  // another seed: every random stream must come from the snapshot
    b->update(3);
    b->restore(snap);
    EXPECT_TRUE(torch::equal(trajectory(*b, 25), expected));
    EXPECT_EQ(b->info(), expected_info);

    // Negative control: the same configurations without the snapshot's random streams (what a
    // resume by set_state alone would do) give another trajectory.
    auto c = f.make(99);
    ChainSnapshot no_rng = snap;
    for (auto& [key, t] : no_rng.tensors) {
      if (key == "rngs") t = ChainSnapshot::from_words(c->snapshot().words("rngs", static_cast<size_t>(t.numel())));
    }
    seed_all(12345);
    no_rng.tensors["generator_cpu"] = default_generator_state(torch::kCPU);
    c->restore(no_rng);
    EXPECT_FALSE(torch::equal(trajectory(*c, 25), expected));
  }
}

TEST(ChainSnapshot, RejectsSnapshotsOfAnotherChain) {
  auto ising = std::make_unique<IsingSampler>(IsingParams{8, 0.4}, "metropolis", 4, 1);
  auto other_size = std::make_unique<IsingSampler>(IsingParams{8, 0.4}, "metropolis", 5, 1);
  auto wolff = std::make_unique<IsingSampler>(IsingParams{8, 0.4}, "wolff", 4, 1);
  EXPECT_THROW(other_size->restore(ising->snapshot()), IoError);
  EXPECT_THROW(wolff->restore(ising->snapshot()), IoError);
  ChainSnapshot missing = ising->snapshot();
  missing.tensors.erase("rngs");
  try {
    ising->restore(missing);
    FAIL() << "a snapshot without its random streams was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("'rngs'"), std::string::npos) << e.what();
  }
  seed_all(1);
  auto hmc = make_phi4_hmc(Phi4Params{6, -4.0, 8.0}, 3, HmcOptions());
  auto hmc4 = make_phi4_hmc(Phi4Params{6, -4.0, 8.0}, 4, HmcOptions());
  EXPECT_THROW(hmc4->restore(hmc->snapshot()), IoError);
}

TEST(NpyRowFile, RowsWrittenInAnyOrderReadBackAsNpy) {
  TempDir dir;
  const std::string path = dir.path() + "/rows.npy";
  const auto data = torch::randn({7, 3, 2}, torch::kFloat64);
  {
    auto f = NpyRowFile::create(path, torch::kFloat32, {7, 3, 2});
    for (int64_t r : {6, 0, 3, 1, 5, 2, 4}) f.write_rows(r, data.narrow(0, r, 1));
    EXPECT_TRUE(torch::equal(f.read_rows(2, 3), data.narrow(0, 2, 3).to(torch::kFloat32)));
    f.close();
  }
  EXPECT_TRUE(torch::equal(read_npy(path), data.to(torch::kFloat32)));
  // Resizing keeps the header length (numpy's growth room) and the rows that remain.
  auto f = NpyRowFile::open(path, torch::kFloat32, {3, 2});
  f.resize(12345678);
  f.resize(4);
  f.close();
  EXPECT_TRUE(torch::equal(read_npy(path), data.narrow(0, 0, 4).to(torch::kFloat32)));
  EXPECT_THROW(NpyRowFile::open(path, torch::kFloat64, {3, 2}), IoError);
  EXPECT_THROW(NpyRowFile::open(path, torch::kFloat32, {2, 3}), IoError);
  auto g = NpyRowFile::open(path, torch::kFloat32, {3, 2});
  EXPECT_THROW(g.write_rows(3, data.narrow(0, 0, 2)), InvalidArgument);      // past the end
  EXPECT_THROW(g.write_rows(0, torch::zeros({1, 2, 3})), InvalidArgument);   // wrong row shape
}

TEST(NpyRowFile, RefusesAFileLargerThanTheDisk) {
  TempDir dir;
  try {
    NpyRowFile::create(dir.path() + "/huge.npy", torch::kFloat64, {int64_t{1} << 40, 1024}, "samples", "1e12");
    FAIL() << "an 8 EiB file was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("argument samples = '1e12'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("disk"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(file_exists(dir.path() + "/huge.npy"));
}

using test::Killed;
using test::KilledAfter;

EnsembleMeta test_meta(const MarkovChain& c, int64_t samples) {
  EnsembleMeta m;
  m.system = "ising";
  m.params = {{"L", 8}, {"beta", 0.4}, {"J", 1.0}, {"h", 0.0}};
  m.generator = "test";
  m.algorithm = "metropolis";
  m.seed = 5;
  m.chains = c.chains();
  m.samples_per_chain = samples;
  return m;
}

StreamResult stream_ising(const std::string& path, int64_t samples, bool resume, int64_t kill_after = -1,
                          uint64_t seed = 5, double snapshot_seconds = 0.0) {
  IsingSampler chain(IsingParams{8, 0.4}, "metropolis", 3, seed);
  RecordOptions r;
  r.therm = 7;
  r.samples = samples;
  r.every = 2;
  r.progress = false;
  StreamOptions s;
  s.path = path;
  s.dtype = torch::kInt8;
  s.resume = resume;
  s.snapshot_seconds = snapshot_seconds;
  s.run = {{"seed", seed}, {"algo", "metropolis"}};
  auto meta = [samples](const MarkovChain& c) { return test_meta(c, samples); };
  if (kill_after < 0) return record_chain_to_file(chain, r, s, meta);
  KilledAfter killed(chain, kill_after);
  return record_chain_to_file(killed, r, s, meta);
}

TEST(RecordChainToFile, StreamedEnsembleEqualsTheInMemoryOne) {
  TempDir dir;
  const std::string path = dir.path() + "/e.npy";
  const auto res = stream_ising(path, 40, false);
  EXPECT_EQ(res.shape, (std::vector<int64_t>{120, 8, 8}));
  EXPECT_EQ(res.resumed_at, -1);
  IsingSampler chain(IsingParams{8, 0.4}, "metropolis", 3, 5);
  RecordOptions r;
  r.therm = 7;
  r.samples = 40;
  r.every = 2;
  r.progress = false;
  EXPECT_TRUE(torch::equal(read_npy(path), record_chain(chain, r)));
  const auto [x, meta] = load_ensemble(path);
  EXPECT_EQ(meta.chains, 3);
  EXPECT_FALSE(file_exists(partial_path(path)));
  EXPECT_FALSE(file_exists(resume_path(path)));
}

TEST(RecordChainToFile, KilledRunResumesToTheSameBytes) {
  TempDir dir;
  const std::string ref = dir.path() + "/ref.npy", path = dir.path() + "/run.npy";
  stream_ising(ref, 40, false);
  // Killed during the recording (after 7 therm + 2 * 13 updates and one more): the partial file
  // keeps the 13 samples per chain up to the last snapshot.
  EXPECT_THROW(stream_ising(path, 40, false, 7 + 2 * 13 + 1), Killed);
  ASSERT_TRUE(file_exists(partial_path(path)));
  ASSERT_TRUE(file_exists(resume_path(path)));
  EXPECT_FALSE(file_exists(path));
  const auto kept = read_npy(partial_path(path)).view({3, 40, 8, 8});
  const auto want = read_npy(ref).view({3, 40, 8, 8});
  EXPECT_TRUE(torch::equal(kept.narrow(1, 0, 13), want.narrow(1, 0, 13)));
  // Killed again during the resumed run, then finished: still the same bytes.
  EXPECT_THROW(stream_ising(path, 40, true, 2 * 10 + 1), Killed);
  const auto res = stream_ising(path, 40, true);
  EXPECT_EQ(res.resumed_at, 23);
  EXPECT_EQ(read_file_bytes(path), read_file_bytes(ref));

  // Negative control: a resume that reseeds the chain instead of restoring its streams
  // (the continuation of a valid chain, but not this one) does not give the same bytes.
  {
    IsingSampler chain(IsingParams{8, 0.4}, "metropolis", 3, 6);
    IsingSampler killed_state(IsingParams{8, 0.4}, "metropolis", 3, 5);
    killed_state.update(7 + 2 * 13);
    chain.set_state(killed_state.state());
    RecordOptions r;
    r.therm = 0;
    r.samples = 27;
    r.every = 2;
    r.progress = false;
    const auto tail = record_chain(chain, r).view({3, 27, 8, 8});
    EXPECT_FALSE(torch::equal(tail, want.narrow(1, 13, 27)));
  }
}

TEST(RecordChainToFile, ResumeCanCutOrExtendTheEnsemble) {
  TempDir dir;
  const std::string ref = dir.path() + "/ref.npy", cut = dir.path() + "/cut.npy", ext = dir.path() + "/ext.npy";
  stream_ising(ref, 60, false);
  const auto want = read_npy(ref).view({3, 60, 8, 8});
  // Killed at sample 20 of 40, finished with only 12 samples per chain (no further updates).
  EXPECT_THROW(stream_ising(cut, 40, false, 7 + 2 * 20 + 1), Killed);
  EXPECT_EQ(stream_ising(cut, 12, true).resumed_at, 12);
  EXPECT_TRUE(torch::equal(read_npy(cut).view({3, 12, 8, 8}), want.narrow(1, 0, 12)));
  EXPECT_EQ(load_ensemble(cut).second.samples_per_chain, 12);
  // Killed at sample 20 of 40, extended to 60: the same as a 60-sample run.
  EXPECT_THROW(stream_ising(ext, 40, false, 7 + 2 * 20 + 1), Killed);
  EXPECT_EQ(stream_ising(ext, 60, true).resumed_at, 20);
  EXPECT_EQ(read_file_bytes(ext), read_file_bytes(ref));
}

TEST(RecordChainToFile, RefusesToLoseOrMixRuns) {
  TempDir dir;
  const std::string path = dir.path() + "/run.npy";
  EXPECT_THROW(stream_ising(path, 40, true), InvalidArgument);  // nothing to resume
  EXPECT_THROW(stream_ising(path, 40, false, 7 + 2 * 5 + 1), Killed);
  try {
    stream_ising(path, 40, false);  // would overwrite the interrupted run
    FAIL() << "an interrupted run was overwritten";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(".partial exists"), std::string::npos) << e.what();
  }
  try {
    stream_ising(path, 40, true, -1, /*seed=*/6);  // other settings
    FAIL() << "a resume with another seed was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("argument seed = '6'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("value 5"), std::string::npos) << e.what();
  }
  EXPECT_EQ(stream_ising(path, 40, true).resumed_at, 5);
  // A chain that cannot be snapshotted is refused before anything is written.
  class Plain : public MarkovChain {
   public:
    void update(int64_t) override {}
    torch::Tensor state() const override { return torch::zeros({1, 2}); }
    int64_t chains() const override { return 1; }
    nlohmann::json info() const override { return {{"algorithm", "plain"}}; }
  } plain;
  StreamOptions s;
  s.path = dir.path() + "/plain.npy";
  EXPECT_THROW(record_chain_to_file(plain, RecordOptions(), s, [](const MarkovChain&) { return EnsembleMeta(); }),
               InvalidArgument);
  EXPECT_FALSE(file_exists(partial_path(s.path)));
}

}  // namespace
}  // namespace physgen
