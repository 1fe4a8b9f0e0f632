#include "physgen/io/png.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/tensor_checks.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace physgen {
namespace {

constexpr int64_t kMaxPixels = int64_t{1} << 28;

struct Range {
  double lo, hi;
  bool spins;  // black/white Ising rendering
};

Range pick_range(const torch::Tensor& x /* CPU double */, std::optional<double> vmin,
                 std::optional<double> vmax) {
  check_arg(vmin.has_value() == vmax.has_value(), "vmin/vmax",
            std::string(vmin ? "vmin only" : "vmax only"), "both or neither");
  if (vmin) {
    check_arg(std::isfinite(*vmin) && std::isfinite(*vmax) && *vmin < *vmax, "vmin", *vmin,
              "a finite value below vmax = " + std::to_string(*vmax));
    return {*vmin, *vmax, false};
  }
  if (x.numel() > 0 && (x.abs() == 1).all().item<bool>()) return {-1.0, 1.0, true};
  auto finite = x.masked_select(torch::isfinite(x));
  double a = finite.numel() > 0 ? finite.abs().max().item<double>() : 0.0;
  if (!(a > 0)) a = 1.0;
  return {-a, a, false};
}

Rgb color_of(double v, const Range& r) {
  if (!std::isfinite(v)) return {255, 0, 255};
  if (r.spins) return v > 0 ? Rgb{255, 255, 255} : Rgb{0, 0, 0};
  return diverging_color((v - r.lo) / (r.hi - r.lo));
}

// Paints tile `field` (H, W) at pixel offset (x0, y0) of an RGB image of width `width`.
void paint(std::vector<uint8_t>& img, int64_t width, int64_t x0, int64_t y0, const double* field,
           int64_t H, int64_t W, int scale, const Range& r) {
  for (int64_t i = 0; i < H; ++i) {
    for (int64_t j = 0; j < W; ++j) {
      const Rgb c = color_of(field[i * W + j], r);
      for (int dy = 0; dy < scale; ++dy) {
        uint8_t* p = img.data() + 3 * ((y0 + i * scale + dy) * width + x0 + j * scale);
        for (int dx = 0; dx < scale; ++dx, p += 3) {
          p[0] = c.r;
          p[1] = c.g;
          p[2] = c.b;
        }
      }
    }
  }
}

void write_png(const std::string& path, const std::vector<uint8_t>& rgb, int64_t w, int64_t h) {
  std::string out;
  auto sink = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  const int ok = stbi_write_png_to_func(sink, &out, static_cast<int>(w), static_cast<int>(h), 3, rgb.data(),
                                        static_cast<int>(3 * w));
  if (!ok) throw IoError("cannot write " + path + ": PNG encoding failed");
  write_file_atomic(path, out);
}

void render_grid(const std::string& path, const torch::Tensor& fields /* (n, H, W) */, int cols, int scale,
                 std::optional<double> vmin, std::optional<double> vmax) {
  check_arg(scale >= 1 && scale <= 1024, "scale", scale, "an integer in [1, 1024]");
  const auto x = fields.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t n = x.size(0), H = x.size(1), W = x.size(2);
  check_arg(n >= 1 && H >= 1 && W >= 1, "fields shape", shape_string(x.sizes()), "non-empty fields");
  if (cols <= 0) cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  cols = static_cast<int>(std::min<int64_t>(cols, n));
  const int64_t rows = (n + cols - 1) / cols;
  const int64_t tw = W * scale, th = H * scale;
  const int64_t width = cols * tw + (cols - 1), height = rows * th + (rows - 1);
  check_arg(width * height <= kMaxPixels && width <= INT32_MAX / 3, "image size",
            std::to_string(width) + " x " + std::to_string(height), "at most 2^28 pixels (reduce scale)");
  const Range r = pick_range(x, vmin, vmax);

  std::vector<uint8_t> img(static_cast<size_t>(3 * width * height));
  for (size_t k = 0; k < img.size(); k += 3) {
    img[k] = kSeparatorColor.r;
    img[k + 1] = kSeparatorColor.g;
    img[k + 2] = kSeparatorColor.b;
  }
  const double* data = x.data_ptr<double>();
  for (int64_t t = 0; t < n; ++t) {
    const int64_t row = t / cols, col = t % cols;
    paint(img, width, col * (tw + 1), row * (th + 1), data + t * H * W, H, W, scale, r);
  }
  write_png(path, img, width, height);
}

}  // namespace

Rgb diverging_color(double t) {
  if (std::isnan(t)) return {255, 0, 255};
  t = std::clamp(t, 0.0, 1.0);
  static constexpr double lo[3] = {59, 76, 192}, mid[3] = {221, 221, 221}, hi[3] = {180, 4, 38};
  const double* a = t < 0.5 ? lo : mid;
  const double* b = t < 0.5 ? mid : hi;
  const double u = t < 0.5 ? 2 * t : 2 * t - 1;
  auto ch = [&](int k) { return static_cast<uint8_t>(std::lround(a[k] + u * (b[k] - a[k]))); };
  return {ch(0), ch(1), ch(2)};
}

void write_field_png(const std::string& path, const torch::Tensor& field, int scale,
                     std::optional<double> vmin, std::optional<double> vmax) {
  check_arg(field.defined() && field.dim() == 2, "field shape",
            field.defined() ? shape_string(field.sizes()) : std::string("undefined"), "(H, W)");
  render_grid(path, field.unsqueeze(0), 1, scale, vmin, vmax);
}

void write_field_grid_png(const std::string& path, const torch::Tensor& fields, int cols, int scale,
                          std::optional<double> vmin, std::optional<double> vmax) {
  check_arg(fields.defined() && fields.dim() == 3, "fields shape",
            fields.defined() ? shape_string(fields.sizes()) : std::string("undefined"), "(n, H, W)");
  render_grid(path, fields, cols, scale, vmin, vmax);
}

}  // namespace physgen
