#pragma once
// PNG pictures of lattice field configurations.
//
// Colour map (diverging, for signed fields such as phi^4): value v is mapped to
// t = (v - vmin) / (vmax - vmin), clamped to [0, 1], and coloured by
// diverging_color(t): blue (59, 76, 192) at t = 0, light grey (221, 221, 221)
// at t = 1/2, red (180, 4, 38) at t = 1, linear in sRGB between them
// (Moreland's "cool to warm" end points). NaN/Inf sites are magenta (255, 0, 255).
// Default range: symmetric, vmin = -a, vmax = a with a = max |v| over the finite
// values (a = 1 for an all-zero field), so 0 is always the neutral grey.
// Ising configurations (every value exactly +-1, no range given) are drawn
// black (-1) and white (+1).
// Orientation: element (i, j) is the square at row i (top to bottom), column j.
//
// References: K. Moreland, "Diverging Color Maps for Scientific Visualization",
// ISVC 2009, LNCS 5876, 92-103.
#include <cstdint>
#include <optional>
#include <string>

#include <torch/types.h>

namespace physgen {

/// An 8-bit sRGB colour.
struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

/// The diverging colour map at t in [0, 1] (clamped; NaN -> magenta), see above.
Rgb diverging_color(double t);

/// Colour of the 1-pixel separators and empty tiles of a grid: grey (128, 128, 128).
constexpr Rgb kSeparatorColor{128, 128, 128};

/// Writes `field` (H, W), any dtype/device, as a PNG of (W * scale) x (H * scale)
/// pixels, each site a scale x scale square, atomically.
/// Defaults: scale = 8, symmetric range (see above). `vmin` and `vmax` must be
/// given together, with vmin < vmax. InvalidArgument for a bad shape, scale
/// outside [1, 1024], or an image above 2^28 pixels; IoError if it cannot be written.
void write_field_png(const std::string& path, const torch::Tensor& field, int scale = 8,
                     std::optional<double> vmin = std::nullopt, std::optional<double> vmax = std::nullopt);

/// Tiles `fields` (n, H, W) into a grid of `cols` columns (cols <= 0: ceil(sqrt(n)))
/// and ceil(n / cols) rows, tiles in row-major order, separated by 1-pixel grey
/// lines: (cols * W * scale + cols - 1) x (rows * H * scale + rows - 1) pixels.
/// One colour range for all tiles (symmetric over all of them unless given);
/// Ising black/white if every value of every tile is +-1. Written atomically.
void write_field_grid_png(const std::string& path, const torch::Tensor& fields, int cols = 0,
                          int scale = 8, std::optional<double> vmin = std::nullopt,
                          std::optional<double> vmax = std::nullopt);

}  // namespace physgen
