#pragma once
// `measure` as a library call: the observables of an ensemble with their errors, as the
// CLI prints them and the Python module returns them.
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/io/sidecar.h"
#include "physgen/observables/scattering.h"

namespace physgen {

/// The observables of ensemble `x` described by `meta`, as JSON:
///   * lattice systems ("ising", "phi4"): to_json(measure_lattice(x, system, params, chains))
///     (observables/lattice.h: m, |m|, chi, chi_connected, binder, energy per site, ...; each
///     {"mean", "error", "tau_int", "tau_int_error"} by the Gamma method, U. Wolff,
///     hep-lat/0306017; plus the arrays G, C_t, m_eff);
///   * point clouds (any other system, (N, d)): "observables" with mean_x<d> and std_x<d>
///     of each coordinate, treated as independent samples: error of the mean s / sqrt(N),
///     of the standard deviation s / sqrt(2 (N - 1)), tau_int = 0.5.
/// The result also carries "system", "params", "n_samples", "chains", "algorithm".
nlohmann::json measure_ensemble(const torch::Tensor& x, const EnsembleMeta& meta);

/// Scattering statistics of a lattice ensemble x (N, H, W) (observables/scattering.h) with
/// default_jackknife_blocks(N, meta.chains, 50) blocks (at least 2) unless `options.blocks` was
/// changed from its default.
/// InvalidArgument naming "fields.sizes()" for an ensemble that is not a 2-D field.
ScatteringStatistics scattering_of_ensemble(const torch::Tensor& x, const EnsembleMeta& meta,
                                            ScatteringOptions options = {});

/// Text tables of scattering statistics and of a two-ensemble comparison.
std::string format_scattering(const ScatteringStatistics& s);
std::string format_comparison(const EnsembleComparison& c);

/// The table the CLI prints for measure_ensemble's result (one line per observable).
std::string format_measurement(const nlohmann::json& measurement);

}  // namespace physgen
