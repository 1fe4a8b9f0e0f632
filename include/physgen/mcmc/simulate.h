#pragma once
// Turning any MarkovChain into an ensemble: thermalisation, thinning, recording.
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "physgen/io/sidecar.h"
#include "physgen/mcmc/markov_chain.h"

namespace physgen {

/// How record_chain() runs a chain. Defaults: 1000 thermalisation updates,
/// 1000 recorded samples per chain, one update between samples.
struct RecordOptions {
  int64_t therm = 1000;    ///< updates discarded before recording (>= 0)
  int64_t samples = 1000;  ///< samples recorded per chain (>= 1)
  int64_t every = 1;       ///< updates between recorded samples (>= 1)
  bool progress = true;    ///< progress bar on a terminal
  std::string label = "mcmc";
  void validate() const;
};

/// Runs `chain` for therm + samples * every updates and returns the recorded
/// configurations, chain-major: (C * S, *event_shape) on the CPU, where row
/// c * S + t is sample t of chain c (C = chain.chains(), S = opts.samples).
/// Sidecars record this layout as "chain-major" with "chains": C.
torch::Tensor record_chain(MarkovChain& chain, const RecordOptions& opts);

/// Where and how record_chain_to_file() streams an ensemble.
struct StreamOptions {
  std::string path;                           ///< the final FILE.npy, or FILE.h5 / FILE.hdf5 (io/hdf5.h)
  torch::ScalarType dtype = torch::kFloat32;  ///< stored dtype (states are converted row by row)
  /// Wall-clock seconds between snapshots while recording (0: after every recorded sample).
  /// One is also taken at the end of thermalisation and on SIGINT / SIGTERM.
  double snapshot_seconds = 60.0;
  bool resume = false;  ///< continue an interrupted run of the same settings
  /// The settings that define the run (system, parameters, algorithm, chains, seed, therm,
  /// every, dtype, ...). A resume refuses a run whose settings differ in any key; the number
  /// of samples may differ (the ensemble is then cut or extended).
  nlohmann::json run = nlohmann::json::object();
};

/// What record_chain_to_file() did.
struct StreamResult {
  std::vector<int64_t> shape;  ///< shape of the written ensemble, (C * S, *event_shape)
  int64_t resumed_at = -1;     ///< samples per chain already on disk when it resumed (-1: fresh run)
};

/// The files of a streamed run: FILE.npy.partial (the rows so far) and FILE.npy.resume
/// (the chain snapshot and the run's settings).
std::string partial_path(const std::string& npy_path);
std::string resume_path(const std::string& npy_path);

/// Runs `chain` as record_chain() does, but writes every recorded sample straight to its rows
/// in FILE.npy.partial (chain-major, the file sized for C * S rows when the run starts, after
/// a disk-space check), so memory holds only the chains' current states: ensembles far larger
/// than memory can be generated. The run is resumable: at the end of thermalisation, every
/// `snapshot_seconds` and on SIGINT / SIGTERM, the rows written so far are synced to disk and
/// then a snapshot of the chain (MarkovChain::snapshot(): state, random streams, statistics)
/// with the number of samples done is written atomically to FILE.npy.resume. A run killed in
/// any way keeps FILE.npy.partial with every sample up to its last snapshot; with `resume`
/// it continues from there and ends with the same bytes as a run never interrupted (the
/// chain's random streams are part of the snapshot). On SIGINT / SIGTERM it throws Interrupted
/// after the snapshot. When done, the sidecar from `meta()` (called with the finished chain)
/// is written atomically, FILE.npy.partial is renamed to FILE.npy and FILE.npy.resume removed.
/// For a FILE.h5 (or .hdf5) target the rows stream to FILE.h5.partial and resume exactly as
/// above (the partial is a .npy file whatever its name); at the end a last snapshot is taken,
/// the partial is converted block by block into FILE.h5 (write_h5_ensemble_rows: the metadata
/// as attributes, no sidecar, atomically) and then removed with the resume file. The disk
/// must hold the partial and its HDF5 copy at once (checked when the partial is created).
/// Errors (InvalidArgument, before anything runs): a FILE.npy.partial without `resume` (an
/// interrupted run would be overwritten), `resume` without FILE.npy.partial, a resume whose
/// settings differ from the interrupted run's (naming the key and both values), a chain that
/// is not resumable, an ensemble that does not fit on the disk.
StreamResult record_chain_to_file(MarkovChain& chain, const RecordOptions& opts, const StreamOptions& stream,
                                  const std::function<EnsembleMeta(const MarkovChain&)>& meta);

}  // namespace physgen
