// TOML <-> JSON helpers and unknown-key detection.
#include <gtest/gtest.h>

#include "physgen/core/check.h"
#include "physgen/io/config.h"
#include "support/io_test_util.h"

namespace physgen {
namespace {

using test::expect_contains;
using test::message_of;
using test::TempDir;

TEST(Config, ParsesTomlIntoJson) {
  if (!toml_supported()) GTEST_SKIP() << "built without toml++";
  const std::string text =
      "name = \"realnvp\"\n"
      "layers = 8\n"
      "lr = 1e-3\n"
      "verbose = true\n"
      "sizes = [1, 2, 3]\n"
      "day = 2024-05-01\n"
      "[train]\n"
      "steps = 1000\n"
      "schedule = { kind = \"cosine\", warmup = 10 }\n"
      "[[blocks]]\n"
      "width = 64\n"
      "[[blocks]]\n"
      "width = 32\n";
  const auto j = parse_toml_string(text, "model.toml");
  const nlohmann::json expected = {
      {"name", "realnvp"},
      {"layers", 8},
      {"lr", 1e-3},
      {"verbose", true},
      {"sizes", {1, 2, 3}},
      {"day", "2024-05-01"},
      {"train", {{"steps", 1000}, {"schedule", {{"kind", "cosine"}, {"warmup", 10}}}}},
      {"blocks", {{{"width", 64}}, {{"width", 32}}}}};
  EXPECT_EQ(j, expected);
  EXPECT_TRUE(j["layers"].is_number_integer());
  EXPECT_TRUE(j["lr"].is_number_float());
}

TEST(Config, SyntaxErrorsNameFileLineAndColumn) {
  if (!toml_supported()) GTEST_SKIP() << "built without toml++";
  TempDir dir;
  const auto path = dir.file("bad.toml");
  test::spit(path, "a = 1\nb = \n");
  const auto msg = message_of<IoError>([&] { parse_toml_file(path); });
  EXPECT_EQ(msg.rfind(path + ":2:", 0), 0u) << msg;
  test::spit(path, "a = 1\na = 2\n");
  EXPECT_EQ(message_of<IoError>([&] { parse_toml_file(path); }).rfind(path + ":2:", 0), 0u);
  expect_contains(message_of<IoError>([&] { parse_toml_file(dir.file("none.toml")); }),
                  {dir.file("none.toml"), "no such file"});
}

TEST(Config, JsonToTomlRoundTrips) {
  if (!toml_supported()) GTEST_SKIP() << "built without toml++";
  const nlohmann::json j = {{"lr", 0.001},
                            {"steps", 500},
                            {"name", "it's \"quoted\""},
                            {"flags", {true, false}},
                            {"mixed", {1, "two", 3.5}},
                            {"unset", nullptr},
                            {"model", {{"hidden", {64, 64}}, {"act", "tanh"}, {"deep", {{"x", -1}}}}},
                            {"blocks", {{{"w", 1}}, {{"w", 2}}}}};
  const std::string text = json_to_toml(j);
  EXPECT_EQ(text.find("unset"), std::string::npos) << text;
  nlohmann::json expected = j;
  expected.erase("unset");
  EXPECT_EQ(parse_toml_string(text), expected) << text;

  TempDir dir;
  write_toml_file(dir.file("d.toml"), j);
  EXPECT_EQ(parse_toml_file(dir.file("d.toml")), expected);
  message_of<InvalidArgument>([&] { json_to_toml(nlohmann::json::array({1})); });
  message_of<InvalidArgument>([&] { json_to_toml({{"big", 18446744073709551615ULL}}); });
}

TEST(Config, UnknownKeysAreListedWithSuggestions) {
  const nlohmann::json j = {{"lr", 1}, {"stpes", 2}, {"batch", 3}};
  check_known_keys({{"lr", 1}}, {"lr", "steps"}, "[train]");
  check_known_keys(nullptr, {"lr"}, "[train]");
  EXPECT_EQ(message_of<InvalidArgument>([&] { check_known_keys(j, {"steps", "lr", "batch_size"}, "[train] of run.toml"); }),
            "unknown keys 'batch' (did you mean 'batch_size'?), 'stpes' (did you mean 'steps'?) in [train] of "
            "run.toml; valid keys: batch_size, lr, steps");
  EXPECT_EQ(message_of<InvalidArgument>([&] { check_known_keys({{"zzz", 1}}, {"lr"}, "[opt]"); }),
            "unknown key 'zzz' in [opt]; valid keys: lr");
  message_of<InvalidArgument>([&] { check_known_keys(nlohmann::json::array(), {"lr"}, "[opt]"); });
}

}  // namespace
}  // namespace physgen
