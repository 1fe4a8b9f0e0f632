#pragma once
// The Python PyTorch references of the C++-vs-Python benchmarks (bench/python/*.py): each
// prints one JSON object; run_python_reference runs one and returns that object.
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

/// Runs the shell command `cmd` (a /usr/bin/python3 reference) and returns the JSON object
/// its output holds from the first '{'; null, with the command and its output on stderr,
/// when it cannot start, exits non-zero or prints no JSON.
inline nlohmann::json run_python_reference(const std::string& cmd) {
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return nullptr;
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, pipe)) out += buf;
  if (pclose(pipe) != 0 || out.find('{') == std::string::npos) {
    std::cerr << "python reference failed: " << cmd << "\n" << out << "\n";
    return nullptr;
  }
  return nlohmann::json::parse(out.substr(out.find('{')));
}
