#include "physgen/core/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace physgen {

namespace {
std::string format_seconds(double s) {
  char buf[32];
  if (s < 0 || s > 1e7) return "--:--";
  int total = static_cast<int>(s + 0.5);
  if (total >= 3600)
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", total / 3600, (total / 60) % 60, total % 60);
  else
    std::snprintf(buf, sizeof buf, "%02d:%02d", total / 60, total % 60);
  return buf;
}
}  // namespace

bool Progress::stderr_is_terminal() {
  return isatty(STDERR_FILENO) && std::getenv("PHYSGEN_NO_PROGRESS") == nullptr;
}

Progress::Progress(std::string label, int64_t total, std::string unit, bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      active_(enabled && stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

Progress::~Progress() {
  if (active_ && !finished_) std::fputc('\n', stderr);
}

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(int64_t done, const std::string& extra) {
  if (!active_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
  last_draw_ = now;
  draw(done, extra);
}

void Progress::finish(const std::string& extra) {
  if (!active_ || finished_) return;
  draw(total_, extra);
  std::fputc('\n', stderr);
  finished_ = true;
}

void Progress::draw(int64_t done, const std::string& extra) {
  const double t = elapsed();
  const double rate = t > 0 ? done / t : 0.0;
  const double eta = rate > 0 ? (total_ - done) / rate : -1.0;
  const int width = 24;
  const int filled = total_ > 0 ? static_cast<int>(width * static_cast<double>(done) / total_) : 0;
  std::string bar(filled, '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %s  %.1f %s/s  ETA %s  %s\033[K", label_.c_str(),
               bar.c_str(), static_cast<long long>(done), static_cast<long long>(total_),
               unit_.c_str(), rate, unit_.c_str(), format_seconds(eta).c_str(), extra.c_str());
  std::fflush(stderr);
}

}  // namespace physgen
