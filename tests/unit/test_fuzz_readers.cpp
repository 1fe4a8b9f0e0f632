// Fuzz-style robustness of every reader of user files: the NPY reader, the sidecar reader
// (load_ensemble), the TOML config reader and checkpoint loading (read_checkpoint_info and
// load_model) get thousands of mutated and truncated versions of valid inputs. Each must end
// in success or in the documented errors (IoError: exit code 3; InvalidArgument: exit code 2);
// any other exception fails the test, and a crash or hang fails it by taking the binary down
// or past its ctest timeout. Mutations are seeded, so a failure names a reproducible case.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <string>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/rng.h"
#include "physgen/io/checkpoint.h"
#include "physgen/io/config.h"
#include "physgen/io/npy.h"
#include "physgen/io/sidecar.h"
#include "physgen/zoo/model_task.h"
#include "physgen/zoo/zoo.h"
#include "support/io_test_util.h"

namespace {

using namespace physgen;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// One mutation of `in`: a truncation, flipped bytes, an overwrite with a boundary value, an
/// inserted or deleted run, or a duplicated stretch (the classic byte-level mutators).
std::string mutate(const std::string& in, std::mt19937_64& rng) {
  std::string s = in;
  auto pos = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng() % 6) {
      case 0: s.resize(pos(s.size() + 1)); break;  // truncate
      case 1:
        if (!s.empty()) s[pos(s.size())] ^= static_cast<char>(1u << (rng() % 8));  // bit flip
        break;
      case 2:
        if (!s.empty()) {
          const char values[] = {'\0', '\x7f', '\x80', '\xff', '9', '-', '[', '{', '"', '\n'};
          s[pos(s.size())] = values[rng() % sizeof(values)];
        }
        break;
      case 3: s.insert(pos(s.size() + 1), std::string(1 + rng() % 16, static_cast<char>(rng() % 256))); break;
      case 4:
        if (!s.empty()) {
          const size_t a = pos(s.size());
          s.erase(a, 1 + rng() % 16);
        }
        break;
      default:
        if (!s.empty()) {
          const size_t a = pos(s.size()), n = std::min<size_t>(1 + rng() % 64, s.size() - a);
          s.insert(pos(s.size() + 1), s.substr(a, n));
        }
    }
  }
  return s;
}

/// Runs `read` on `count` mutations of `original` written to `path`; counts outcomes and fails
/// on any exception other than IoError / InvalidArgument.
template <typename Read>
void fuzz(const std::string& what, const std::string& original, const std::string& path, int count, uint64_t seed,
          Read&& read) {
  std::mt19937_64 rng(seed);
  int accepted = 0, rejected = 0;
  for (int i = 0; i < count; ++i) {
    write_bytes(path, mutate(original, rng));
    try {
      read();
      ++accepted;
    } catch (const IoError&) {
      ++rejected;
    } catch (const InvalidArgument&) {
      ++rejected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << " mutation " << i << " (seed " << seed << "): undocumented error: " << e.what();
    }
  }
  // The mutations must reach the error paths (a negative control on the fuzzer itself).
  EXPECT_GT(rejected, count / 10) << what << ": " << accepted << " accepted, " << rejected << " rejected";
}

}  // namespace

TEST(FuzzReaders, NpyAndSidecar) {
  physgen::test::TempDir dir;
  const std::string good = dir.file("good.npy");
  EnsembleMeta meta;
  meta.system = "phi4";
  meta.params = {{"L", 4}, {"m2", -4.0}, {"lambda", 8.0}};
  meta.algorithm = "hmc";
  meta.chains = 2;
  meta.samples_per_chain = 3;
  save_ensemble(good, torch::randn({6, 4, 4}), meta);
  const std::string npy = read_bytes(good), sidecar = read_bytes(sidecar_path(good));
  // Valid inputs are read back (the fuzzing below starts from them).
  ASSERT_NO_THROW(load_ensemble(good));

  const std::string f = dir.file("f.npy");
  write_bytes(sidecar_path(f), sidecar);
  fuzz("npy", npy, f, 3000, 1, [&] { read_npy(f); });
  fuzz("npy+sidecar", npy, f, 1000, 2, [&] { load_ensemble(f); });
  write_bytes(f, npy);
  fuzz("sidecar", sidecar, sidecar_path(f), 3000, 3, [&] { load_ensemble(f); });
}

TEST(FuzzReaders, TomlConfig) {
  if (!toml_supported()) GTEST_SKIP() << "built without toml++";
  physgen::test::TempDir dir;
  const std::string config = json_to_toml({{"model", default_model_options("ddpm", {4, 4})},
                                           {"train", default_train_options("ddpm", {4, 4}).to_json()}});
  const std::string f = dir.file("c.toml");
  fuzz("toml", config, f, 3000, 4, [&] {
    const nlohmann::json j = parse_toml_file(f);
    check_known_keys(j, {"model", "train"}, f);
    if (j.contains("train")) TrainerOptions::from_json(j["train"]);
    if (j.contains("model")) {
      ModelSpec spec;
      spec.family = "ddpm";
      spec.model = j["model"];
      spec.model["event_shape"] = {4, 4};
      build_model(spec);
    }
  });
}

TEST(FuzzReaders, Checkpoints) {
  physgen::test::TempDir dir;
  seed_all(5);
  ModelSpec spec;
  spec.family = "flow";
  spec.model = default_model_options("flow", {2});
  spec.model["event_shape"] = {2};
  spec.model["n_layers"] = 2;
  spec.model["hidden"] = {8};
  Model m = build_model(spec);
  TrainingData data;
  data.x = torch::randn({32, 2});
  ModelTask task(m, "forward-kl", nullptr, 16, data);
  const std::string good = dir.file("good.pt");
  Trainer(task, TrainerOptions().steps(1).batch_size(16).progress(false).checkpoint_path(good)).fit(task.fit_data());
  ASSERT_NO_THROW(load_model(good, torch::kCPU));
  const std::string bytes = read_bytes(good), f = dir.file("f.pt");
  fuzz("checkpoint info", bytes, f, 600, 6, [&] { read_checkpoint_info(f); });
  fuzz("checkpoint load", bytes, f, 600, 7, [&] { load_model(f, torch::kCPU); });
}
