#include "physgen/io/plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "physgen/core/check.h"
#include "physgen/io/atomic_file.h"

extern char** environ;

namespace physgen {
namespace {

struct RunResult {
  int exit_code = -1;  // -1: could not start
  int spawn_error = 0;
  std::string err;
};

// Runs `args` (args[0] looked up on PATH) in the current directory with stdin
// and stdout on /dev/null, collecting stderr.
RunResult run_program(const std::vector<std::string>& args) {
  RunResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    r.spawn_error = errno;
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    r.spawn_error = rc;
    return r;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      if (r.err.size() < (1u << 16)) r.err.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// A gnuplot single-quoted string literal ('' stands for a quote; no newlines).
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

struct PlotFiles {
  std::string dir, png, png_name, stem_name, data, data_name, script, script_name;
};

PlotFiles plot_files(const std::string& png_path) {
  check_arg(!png_path.empty(), "png_path", png_path, "a file name");
  PlotFiles f;
  f.png = png_path;
  std::string stem = png_path;
  if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, ".png") == 0) stem.resize(stem.size() - 4);
  f.data = stem + ".dat";
  f.script = stem + ".gp";
  const auto slash = png_path.find_last_of('/');
  f.dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : png_path.substr(0, slash));
  auto base = [](const std::string& p) {
    const auto s = p.find_last_of('/');
    return s == std::string::npos ? p : p.substr(s + 1);
  };
  f.png_name = base(f.png);
  f.data_name = base(f.data);
  f.script_name = base(f.script);
  return f;
}

std::string script_head(const PlotFiles& f, const std::string& title, const std::string& xlabel,
                        const std::string& ylabel) {
  std::ostringstream s;
  s << "# physgen plot; re-plot with:  cd " << f.dir << " && gnuplot " << f.script_name << "\n"
    << "if (!exists(\"outfile\")) outfile = " << quoted(f.png_name) << "\n"
    << "set terminal pngcairo size 800,600 noenhanced font ',11'\n"
    << "set output outfile\n"
    << "set title " << quoted(title) << "\n"
    << "set xlabel " << quoted(xlabel) << "\n"
    << "set ylabel " << quoted(ylabel) << "\n"
    << "set grid\n"
    << "set key top right\n";
  return s.str();
}

// Writes data and script, runs gnuplot into a temporary PNG and renames it into place.
void render(const PlotFiles& f, const std::string& data, const std::string& script) {
  write_file_atomic(f.data, data);
  write_file_atomic(f.script, script);
  const std::string tmp_name = f.png_name + ".tmp." + std::to_string(::getpid());
  const std::string tmp = f.dir + "/" + tmp_name;
  const RunResult r = run_program(
      {"gnuplot", "-e", "cd " + quoted(f.dir) + "; outfile = " + quoted(tmp_name), f.script_name});
  if (r.exit_code != 0) {
    ::unlink(tmp.c_str());
    if (r.exit_code < 0) {
      throw IoError("cannot plot " + f.png + ": gnuplot could not be started (" +
                    std::string(std::strerror(r.spawn_error)) +
                    "; install gnuplot-nox). Data and script kept in " + f.data + " and " + f.script);
    }
    throw IoError("cannot plot " + f.png + ": gnuplot failed on " + f.script + " (exit " +
                  std::to_string(r.exit_code) + "): " + r.err);
  }
  struct stat st {};
  if (::stat(tmp.c_str(), &st) != 0 || st.st_size == 0) {
    ::unlink(tmp.c_str());
    throw IoError("cannot plot " + f.png + ": gnuplot produced no image (" + r.err + ")");
  }
  if (::rename(tmp.c_str(), f.png.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw IoError("cannot write " + f.png + ": " + std::strerror(err));
  }
}

}  // namespace

bool gnuplot_available() { return run_program({"gnuplot", "--version"}).exit_code == 0; }

void plot_lines(const std::string& png_path, const std::string& title, const std::string& xlabel,
                const std::string& ylabel, const std::vector<Series>& series, bool logy) {
  const PlotFiles f = plot_files(png_path);
  size_t points = 0;
  for (const auto& s : series) {
    check_arg(s.x.size() == s.y.size(), "series '" + s.label + "' sizes",
              std::to_string(s.x.size()) + " x vs " + std::to_string(s.y.size()) + " y", "equal");
    check_arg(s.yerr.empty() || s.yerr.size() == s.x.size(), "series '" + s.label + "' yerr size",
              s.yerr.size(), "0 or " + std::to_string(s.x.size()));
    points += s.x.size();
  }
  check_arg(points > 0, "series", std::to_string(series.size()) + " series with no points",
            "at least one point");

  std::ostringstream data, plot;
  int index = 0;
  for (const auto& s : series) {
    if (s.x.empty()) continue;
    data << "# " << s.label << "\n";
    for (size_t i = 0; i < s.x.size(); ++i) {
      data << number(s.x[i]) << " " << number(s.y[i]);
      if (!s.yerr.empty()) data << " " << number(s.yerr[i]);
      data << "\n";
    }
    data << "\n\n";
    plot << (index ? ", \\\n     " : "plot ") << quoted(f.data_name) << " index " << index
         << (s.yerr.empty() ? " using 1:2 with linespoints" : " using 1:2:3 with yerrorlines")
         << " title " << quoted(s.label);
    ++index;
  }
  std::string script = script_head(f, title, xlabel, ylabel);
  if (logy) script += "set logscale y\n";
  script += plot.str() + "\n";
  render(f, data.str(), script);
}

void plot_histogram(const std::string& png_path, const std::string& title, const std::string& xlabel,
                    const std::vector<std::pair<std::string, std::vector<double>>>& samples, int bins) {
  check_arg(bins >= 1, "bins", bins, "an integer >= 1");
  const PlotFiles f = plot_files(png_path);
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& [label, v] : samples) {
    for (double x : v) {
      if (std::isfinite(x)) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
    }
  }
  check_arg(lo <= hi, "samples", std::to_string(samples.size()) + " samples without finite values",
            "at least one finite value");
  if (lo == hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const double width = (hi - lo) / bins;

  std::ostringstream data, plot;
  int index = 0;
  for (const auto& [label, v] : samples) {
    std::vector<double> counts(static_cast<size_t>(bins), 0.0);
    double total = 0;
    for (double x : v) {
      if (!std::isfinite(x)) continue;
      const int b = std::min(bins - 1, static_cast<int>((x - lo) / width));
      counts[static_cast<size_t>(b)] += 1;
      total += 1;
    }
    if (total == 0) continue;
    data << "# " << label << ": bin centre, density\n";
    for (int b = 0; b < bins; ++b) {
      data << number(lo + (b + 0.5) * width) << " " << number(counts[static_cast<size_t>(b)] / (total * width))
           << "\n";
    }
    data << "\n\n";
    plot << (index ? ", \\\n     " : "plot ") << quoted(f.data_name) << " index " << index
         << " using 1:2 with histeps lw 2 title " << quoted(label);
    ++index;
  }
  std::string script = script_head(f, title, xlabel, "density");
  script += "set yrange [0:*]\n" + plot.str() + "\n";
  render(f, data.str(), script);
}

}  // namespace physgen
