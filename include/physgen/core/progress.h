#pragma once
// Progress reporting for long runs: a one-line bar with rate and ETA on a
// terminal (stderr is a TTY), silence otherwise (pipes, CI logs, --json).
#include <chrono>
#include <cstdint>
#include <string>

namespace physgen {

class Progress {
 public:
  /// `label` heads the line, `total` is the number of units (steps, sweeps),
  /// `unit` names them ("sweeps", "steps"). `enabled` = false forces silence;
  /// otherwise the bar shows only when stderr is a terminal.
  Progress(std::string label, int64_t total, std::string unit = "it", bool enabled = true);
  ~Progress();

  /// Reports that `done` units are complete; `extra` is appended (e.g. "loss 0.12").
  /// Redraws at most ~10 times a second.
  void update(int64_t done, const std::string& extra = "");
  /// Draws the final state and ends the line.
  void finish(const std::string& extra = "");

  bool active() const { return active_; }
  /// Seconds since construction.
  double elapsed() const;

  /// True when stderr is a terminal (and PHYSGEN_NO_PROGRESS is unset).
  static bool stderr_is_terminal();

 private:
  void draw(int64_t done, const std::string& extra);
  std::string label_, unit_;
  int64_t total_;
  bool active_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace physgen
