// Sidecars and ensembles: metadata round trips and every validation rule.
#include <gtest/gtest.h>

#include <regex>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/version.h"
#include "physgen/io/npy.h"
#include "physgen/io/sidecar.h"
#include "support/io_test_util.h"

namespace physgen {
namespace {

using test::expect_contains;
using test::message_of;
using test::TempDir;

EnsembleMeta ising_meta(int64_t L, int64_t chains, int64_t spc) {
  EnsembleMeta m;
  m.system = "ising";
  m.params = {{"L", L}, {"beta", 0.44}};
  m.generator = "test";
  m.algorithm = "wolff";
  m.seed = 18446744073709551557ULL;  // above 2^63: must survive JSON
  m.chains = chains;
  m.samples_per_chain = spc;
  m.extra = {{"therm", 100}};
  return m;
}

torch::Tensor spins(int64_t n, int64_t L, torch::ScalarType dtype = torch::kInt8) {
  torch::manual_seed(3);
  return (torch::randint(0, 2, {n, L, L}) * 2 - 1).to(dtype);
}

TEST(Sidecar, WriteAddsVersionAndCreatedAndReadsBack) {
  TempDir dir;
  const auto npy = dir.file("e.npy");
  write_sidecar(npy, {{"system", "phi4"}});
  const auto j = read_sidecar(npy);
  EXPECT_EQ(j["system"], "phi4");
  EXPECT_EQ(j["physgen_version"], version());
  EXPECT_TRUE(std::regex_match(j["created"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  write_sidecar(npy, {{"created", "2020-01-01T00:00:00Z"}, {"physgen_version", "0.0.1"}});
  EXPECT_EQ(read_sidecar(npy)["created"], "2020-01-01T00:00:00Z");
  EXPECT_EQ(read_sidecar(npy)["physgen_version"], "0.0.1");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"e.npy.json"});
  message_of<InvalidArgument>([&] { write_sidecar(npy, nlohmann::json::array()); });
}

TEST(Sidecar, MissingAndInvalidAreReported) {
  TempDir dir;
  const auto npy = dir.file("e.npy");
  expect_contains(message_of<IoError>([&] { read_sidecar(npy); }),
                  {"missing sidecar " + npy + ".json", "every physgen ensemble has one"});
  test::spit(npy + ".json", "{\"system\": \"ising\",\n \"L\": }");
  expect_contains(message_of<IoError>([&] { read_sidecar(npy); }), {npy + ".json", "invalid JSON", "line 2"});
  test::spit(npy + ".json", "[1, 2]");
  expect_contains(message_of<IoError>([&] { read_sidecar(npy); }), {npy + ".json", "expected a JSON object"});
}

TEST(Sidecar, EnsembleMetaJsonRoundTrip) {
  const auto m = ising_meta(8, 4, 10);
  const nlohmann::json j = m;
  const auto back = j.get<EnsembleMeta>();
  EXPECT_EQ(back.system, m.system);
  EXPECT_EQ(back.params, m.params);
  EXPECT_EQ(back.generator, m.generator);
  EXPECT_EQ(back.algorithm, m.algorithm);
  EXPECT_EQ(back.seed, m.seed);
  EXPECT_EQ(back.chains, 4);
  EXPECT_EQ(back.samples_per_chain, 10);
  EXPECT_EQ(back.layout, "chain-major");
  EXPECT_EQ(back.extra, m.extra);
  // Optional keys take their defaults; unknown keys are ignored.
  nlohmann::json minimal = j;
  minimal.erase("layout");
  minimal.erase("extra");
  minimal["created"] = "x";
  const auto m2 = ensemble_meta_from_json(minimal, "f.json");
  EXPECT_EQ(m2.layout, "chain-major");
  EXPECT_EQ(m2.extra, nlohmann::json::object());
}

TEST(Sidecar, EnsembleMetaMissingOrMistypedKeysNameKeyAndFile) {
  const nlohmann::json j = ising_meta(8, 4, 10);
  for (const char* key : {"system", "params", "generator", "algorithm", "seed", "chains", "samples_per_chain"}) {
    auto k = j;
    k.erase(key);
    EXPECT_EQ(message_of<IoError>([&] { ensemble_meta_from_json(k, "run/e.npy.json"); }),
              std::string("run/e.npy.json: missing required key '") + key + "'");
  }
  auto k = j;
  k["chains"] = "four";
  EXPECT_EQ(message_of<IoError>([&] { ensemble_meta_from_json(k, "f"); }),
            "f: key 'chains' must be an integer, got \"four\"");
  k = j;
  k["seed"] = -1;
  expect_contains(message_of<IoError>([&] { ensemble_meta_from_json(k, "f"); }), {"'seed'", "non-negative"});
}

TEST(Sidecar, SaveAndLoadEnsemble) {
  TempDir dir;
  const auto path = dir.file("ising.npy");
  const auto x = spins(12, 6);
  save_ensemble(path, x, ising_meta(6, 3, 4));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"ising.npy", "ising.npy.json"}));
  auto [y, meta] = load_ensemble(path);
  EXPECT_TRUE(torch::equal(x, y));
  EXPECT_EQ(meta.seed, 18446744073709551557ULL);
  EXPECT_EQ(meta.params["L"], 6);
  EXPECT_EQ(read_sidecar(path)["physgen_version"], version());

  // Float spins, phi4 fields, point clouds.
  save_ensemble(path, x.to(torch::kFloat32), ising_meta(6, 12, 1));
  EXPECT_EQ(load_ensemble(path).first.scalar_type(), torch::kFloat32);
  auto phi = ising_meta(6, 2, 6);
  phi.system = "phi4";
  save_ensemble(path, torch::randn({12, 6, 6}, torch::kFloat64), phi);
  EXPECT_EQ(load_ensemble(path).first.sizes(), (std::vector<int64_t>{12, 6, 6}));
  EnsembleMeta toy;
  toy.system = "toy";
  toy.params = {{"name", "moons"}};
  toy.generator = "test";
  toy.algorithm = "exact";
  toy.chains = 1;
  toy.samples_per_chain = 50;
  save_ensemble(dir.file("toy.npy"), torch::randn({50, 2}), toy);
  EXPECT_EQ(load_ensemble(dir.file("toy.npy")).second.system, "toy");
}

TEST(Sidecar, SaveRejectsInconsistentEnsembles) {
  TempDir dir;
  const auto path = dir.file("bad.npy");
  const auto x = spins(12, 6);
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(path, x, ising_meta(6, 5, 2)); }),
                  {"12 samples, but chains * samples_per_chain = 5 * 2 = 10"});
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(path, x, ising_meta(8, 3, 4)); }),
                  {"expected shape (N, L, L) with L = params.L = (*, 8, 8), got (12, 6, 6)"});
  auto no_l = ising_meta(6, 3, 4);
  no_l.params.erase("L");
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(path, x, no_l); }), {"lack 'L'"});
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(path, x.to(torch::kInt32), ising_meta(6, 3, 4)); }),
                  {"int8 or floating point", "Int"});
  auto zeros = x.clone();
  zeros.index_put_({2, 1, 1}, 0);
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(path, zeros, ising_meta(6, 3, 4)); }),
                  {"must be +-1", "flat index " + std::to_string(2 * 36 + 7)});
  auto phi = ising_meta(6, 3, 4);
  phi.system = "phi4";
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(path, x, phi); }), {"floating point"});
  auto f = torch::randn({12, 6, 6});
  f.index_put_({11, 5, 5}, std::numeric_limits<float>::infinity());
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(path, f, phi); }),
                  {"NaN/Inf at index (11, 5, 5)"});
  auto layout = ising_meta(6, 3, 4);
  layout.layout = "random";
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(path, x, layout); }), {"layout 'random'"});
  EnsembleMeta cloud = ising_meta(6, 1, 12);
  cloud.system = "gaussian";
  cloud.params = {{"d", 3}};
  expect_contains(message_of<InvalidArgument>([&] { save_ensemble(path, torch::zeros({12, 2}), cloud); }),
                  {"(N, d) with d = params.d = (*, 3), got (12, 2)"});
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Sidecar, LoadRejectsInconsistentFilesAsIoError) {
  TempDir dir;
  const auto path = dir.file("e.npy");
  write_npy(path, spins(12, 6));
  expect_contains(message_of<IoError>([&] { load_ensemble(path); }), {"missing sidecar " + path + ".json"});
  nlohmann::json meta = ising_meta(6, 3, 4);
  meta["samples_per_chain"] = 5;
  write_sidecar(path, meta);
  expect_contains(message_of<IoError>([&] { load_ensemble(path); }),
                  {path + ": 12 samples, but chains * samples_per_chain = 3 * 5 = 15"});
  meta.erase("seed");
  write_sidecar(path, meta);
  EXPECT_EQ(message_of<IoError>([&] { load_ensemble(path); }), path + ".json: missing required key 'seed'");
  auto phi = torch::randn({12, 6, 6});
  phi.index_put_({0, 0, 1}, std::numeric_limits<float>::quiet_NaN());
  write_npy(path, phi);
  meta = ising_meta(6, 3, 4);
  meta["system"] = "phi4";
  write_sidecar(path, meta);
  EXPECT_EQ(message_of<IoError>([&] { load_ensemble(path); }), path + " contains NaN/Inf at index (0, 0, 1) (value nan)");
}

}  // namespace
}  // namespace physgen
