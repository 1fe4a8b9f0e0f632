// PNG field pictures (exact pixels) and gnuplot plots.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sstream>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/io/plot.h"
#include "physgen/io/png.h"
#include "support/io_test_util.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace physgen {
namespace {

using test::expect_contains;
using test::message_of;
using test::TempDir;

struct Image {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
  Rgb at(int x, int y) const {
    const size_t k = 3 * (static_cast<size_t>(y) * w + x);
    return {rgb[k], rgb[k + 1], rgb[k + 2]};
  }
};

// Decodes a PNG with stb_image (independent of the writer) after checking its signature.
Image decode(const std::string& path) {
  const auto bytes = test::slurp(path);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  Image img;
  int comp = 0;
  unsigned char* data = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                                              static_cast<int>(bytes.size()), &img.w, &img.h, &comp, 3);
  EXPECT_NE(data, nullptr);
  if (data) {
    img.rgb.assign(data, data + 3 * img.w * img.h);
    stbi_image_free(data);
  }
  return img;
}

// Width and height from the IHDR chunk (big-endian at bytes 16..23).
std::pair<uint32_t, uint32_t> png_size(const std::string& path) {
  const auto b = test::slurp(path);
  auto be32 = [&](size_t o) {
    return (uint32_t(uint8_t(b[o])) << 24) | (uint32_t(uint8_t(b[o + 1])) << 16) |
           (uint32_t(uint8_t(b[o + 2])) << 8) | uint32_t(uint8_t(b[o + 3]));
  };
  return {be32(16), be32(20)};
}

TEST(Png, DivergingColormapEndpointsAndMidpoint) {
  EXPECT_EQ(diverging_color(0.0), (Rgb{59, 76, 192}));
  EXPECT_EQ(diverging_color(0.5), (Rgb{221, 221, 221}));
  EXPECT_EQ(diverging_color(1.0), (Rgb{180, 4, 38}));
  EXPECT_EQ(diverging_color(-3.0), diverging_color(0.0));
  EXPECT_EQ(diverging_color(7.0), diverging_color(1.0));
  EXPECT_EQ(diverging_color(0.25), (Rgb{140, 149, 207}));  // halfway blue -> grey, rounded
}

TEST(Png, FieldPixelsAndSize) {
  TempDir dir;
  const auto path = dir.file("phi.png");
  // 2 x 3 field, symmetric range a = 2: -2 blue, 0 grey, 2 red, 1 -> t = 0.75.
  const auto field = torch::tensor({{-2.0, 0.0, 2.0}, {1.0, 0.0, 0.0}});
  write_field_png(path, field, 4);
  EXPECT_EQ(png_size(path), (std::pair<uint32_t, uint32_t>{12, 8}));
  const auto img = decode(path);
  ASSERT_EQ(img.w, 12);
  ASSERT_EQ(img.h, 8);
  EXPECT_EQ(img.at(0, 0), diverging_color(0.0));
  EXPECT_EQ(img.at(3, 3), diverging_color(0.0));
  EXPECT_EQ(img.at(5, 2), diverging_color(0.5));
  EXPECT_EQ(img.at(11, 0), diverging_color(1.0));
  EXPECT_EQ(img.at(1, 6), diverging_color(0.75));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"phi.png"});

  // Given range vmin = 0, vmax = 4: 0 is now the blue end, 2 the middle, -2 clamps to blue.
  write_field_png(path, field, 1, 0.0, 4.0);
  const auto img2 = decode(path);
  EXPECT_EQ(img2.at(1, 0), diverging_color(0.0));
  EXPECT_EQ(img2.at(2, 0), diverging_color(0.5));
  EXPECT_EQ(img2.at(0, 0), diverging_color(0.0));  // clamped
}

TEST(Png, IsingSpinsAreBlackAndWhite) {
  TempDir dir;
  const auto path = dir.file("s.png");
  const auto s = torch::tensor({{1, -1}, {-1, 1}}, torch::kInt8);
  write_field_png(path, s, 2);
  const auto img = decode(path);
  EXPECT_EQ(img.at(0, 0), (Rgb{255, 255, 255}));
  EXPECT_EQ(img.at(2, 0), (Rgb{0, 0, 0}));
  EXPECT_EQ(img.at(3, 3), (Rgb{255, 255, 255}));
}

TEST(Png, GridTilesWithSeparators) {
  TempDir dir;
  const auto path = dir.file("grid.png");
  // 5 Ising tiles of 3 x 3, 3 columns -> 2 rows; tile t is all +1 if t even, all -1 if odd.
  auto fields = torch::ones({5, 3, 3}, torch::kInt8);
  fields.index_put_({1}, -1);
  fields.index_put_({3}, -1);
  write_field_grid_png(path, fields, 3, 2);
  const auto img = decode(path);
  ASSERT_EQ(img.w, 3 * 6 + 2);
  ASSERT_EQ(img.h, 2 * 6 + 1);
  const Rgb white{255, 255, 255}, black{0, 0, 0};
  EXPECT_EQ(img.at(0, 0), white);      // tile 0
  EXPECT_EQ(img.at(6, 0), kSeparatorColor);
  EXPECT_EQ(img.at(7, 0), black);      // tile 1
  EXPECT_EQ(img.at(14, 5), white);     // tile 2
  EXPECT_EQ(img.at(0, 6), kSeparatorColor);
  EXPECT_EQ(img.at(0, 7), black);      // tile 3
  EXPECT_EQ(img.at(7, 12), white);     // tile 4
  EXPECT_EQ(img.at(19, 12), kSeparatorColor);  // empty sixth tile
  write_field_grid_png(path, fields, 0, 1);  // default columns: ceil(sqrt(5)) = 3
  EXPECT_EQ(png_size(path), (std::pair<uint32_t, uint32_t>{3 * 3 + 2, 2 * 3 + 1}));
}

TEST(Png, BadArguments) {
  TempDir dir;
  const auto path = dir.file("x.png");
  expect_contains(message_of<InvalidArgument>([&] { write_field_png(path, torch::zeros({2, 2, 2})); }),
                  {"(2, 2, 2)", "(H, W)"});
  message_of<InvalidArgument>([&] { write_field_png(path, torch::zeros({2, 2}), 0); });
  message_of<InvalidArgument>([&] { write_field_png(path, torch::zeros({2, 2}), 4, 1.0, std::nullopt); });
  message_of<InvalidArgument>([&] { write_field_png(path, torch::zeros({2, 2}), 4, 1.0, 1.0); });
  message_of<InvalidArgument>([&] { write_field_grid_png(path, torch::zeros({2, 2}), 2); });
  expect_contains(message_of<IoError>([&] { write_field_png(dir.file("no/x.png"), torch::zeros({2, 2})); }),
                  {dir.file("no/x.png"), "does not exist"});
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Plot, LinesAndHistogramProducePngAndKeepScript) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not found on PATH";
  TempDir dir;
  Series a{"loss_train", {1, 2, 3, 4}, {1.0, 0.5, 0.25, 0.125}, {}};
  Series b{"it's validation", {1, 2, 3, 4}, {1.1, 0.6, 0.3, 0.2}, {0.1, 0.1, 0.05, 0.05}};
  plot_lines(dir.file("loss.png"), "Loss", "step", "loss", {a, b}, /*logy=*/true);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"loss.dat", "loss.gp", "loss.png"}));
  EXPECT_EQ(test::slurp(dir.file("loss.png")).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png_size(dir.file("loss.png")), (std::pair<uint32_t, uint32_t>{800, 600}));
  const auto script = test::slurp(dir.file("loss.gp"));
  expect_contains(script, {"set logscale y", "yerrorlines", "'it''s validation'", "'loss.dat'"});

  plot_histogram(dir.file("hist.png"), "m", "magnetisation",
                 {{"mcmc", {-1, -0.9, 0.95, 1, 1}}, {"flow", {-1, 0, 1}}}, 10);
  EXPECT_EQ(png_size(dir.file("hist.png")), (std::pair<uint32_t, uint32_t>{800, 600}));
  // Common bins over [-1, 1] (width 0.2); each block is a density: sum(density) * width == 1.
  std::istringstream data(test::slurp(dir.file("hist.dat")));
  std::string line;
  std::vector<double> integral, first_centre;
  bool in_block = false;
  while (std::getline(data, line)) {
    if (line.rfind("#", 0) == 0) {
      integral.push_back(0);
      in_block = true;
      continue;
    }
    if (line.empty() || !in_block) {
      in_block = false;
      continue;
    }
    double c = 0, density = 0;
    std::istringstream(line) >> c >> density;
    if (integral.size() > first_centre.size()) first_centre.push_back(c);
    integral.back() += density * 0.2;
  }
  ASSERT_EQ(integral.size(), 2u);
  EXPECT_NEAR(integral[0], 1.0, 1e-12);
  EXPECT_NEAR(integral[1], 1.0, 1e-12);
  EXPECT_NEAR(first_centre[0], -0.9, 1e-12);
  EXPECT_NEAR(first_centre[1], -0.9, 1e-12);
}

TEST(Plot, GnuplotErrorsCarryItsStderr) {
  if (!gnuplot_available()) GTEST_SKIP() << "gnuplot not found on PATH";
  TempDir dir;
  // Every y is NaN: gnuplot finds no valid points and fails.
  Series s{"nan", {1, 2}, {std::nan(""), std::nan("")}, {}};
  const auto msg = message_of<IoError>([&] { plot_lines(dir.file("bad.png"), "t", "x", "y", {s}); });
  expect_contains(msg, {dir.file("bad.png"), "gnuplot failed", "bad.gp"});
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"bad.dat", "bad.gp"}));  // no PNG, no temporary
}

TEST(Plot, BadArguments) {
  TempDir dir;
  message_of<InvalidArgument>([&] { plot_lines(dir.file("a.png"), "t", "x", "y", {Series{"a", {1, 2}, {1}, {}}}); });
  message_of<InvalidArgument>([&] { plot_lines(dir.file("a.png"), "t", "x", "y", {Series{"a", {1}, {1}, {1, 2}}}); });
  message_of<InvalidArgument>([&] { plot_lines(dir.file("a.png"), "t", "x", "y", {}); });
  message_of<InvalidArgument>([&] { plot_histogram(dir.file("h.png"), "t", "x", {{"a", {1.0}}}, 0); });
  message_of<InvalidArgument>([&] { plot_histogram(dir.file("h.png"), "t", "x", {{"a", {}}}, 5); });
  EXPECT_TRUE(dir.entries().empty());
}

}  // namespace
}  // namespace physgen
