#pragma once
// Plots through gnuplot (pngcairo terminal): loss curves, observables, histograms.
//
// Each plot writes three files side by side and keeps them, so a user can
// restyle and re-plot by hand:
//   STEM.dat  the data (one gnuplot index block per series)
//   STEM.gp   the gnuplot script (re-plot: cd DIR && gnuplot STEM.gp)
//   STEM.png  the picture (written atomically through a temporary name)
// where STEM is the PNG path without its ".png" extension. Labels are printed
// literally (gnuplot's "noenhanced" mode: '_' and '^' are not sub/superscripts).
#include <string>
#include <utility>
#include <vector>

namespace physgen {

/// One curve: points (x[i], y[i]) with optional error bars yerr[i]
/// (empty yerr: no error bars; otherwise yerr.size() == x.size()).
/// Non-finite values are written as NaN, which gnuplot leaves out.
struct Series {
  std::string label;
  std::vector<double> x, y, yerr;
};

/// True if a `gnuplot` executable on PATH runs (`gnuplot --version` exits with 0).
bool gnuplot_available();

/// Line plot of `series` (lines with points; error bars where yerr is given),
/// 800 x 600 pixels, logarithmic y axis if `logy`.
/// InvalidArgument for mismatched lengths or no points at all; IoError if
/// gnuplot is missing or fails (the message holds its stderr) or a file cannot be written.
void plot_lines(const std::string& png_path, const std::string& title, const std::string& xlabel,
                const std::string& ylabel, const std::vector<Series>& series, bool logy = false);

/// Histograms of several samples on common bins: `bins` equal-width bins over
/// [min, max] of all finite values together, each normalised to a probability
/// density (integral 1), drawn as steps. Default bins = 50.
/// InvalidArgument if bins < 1 or there is no finite value; IoError as plot_lines.
void plot_histogram(const std::string& png_path, const std::string& title, const std::string& xlabel,
                    const std::vector<std::pair<std::string, std::vector<double>>>& samples,
                    int bins = 50);

}  // namespace physgen
