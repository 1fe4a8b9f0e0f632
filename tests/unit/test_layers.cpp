// The layer order of docs/architecture.md holds: every `#include "physgen/..."` (and every
// relative include) of include/, src/, apps/, examples/ and python/ goes from a folder to itself or to
// a folder listed above it (a lower layer). Fails naming each offending file and edge.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kRoot = PHYSGEN_SOURCE_DIR;

/// The folders of the "layers" block of docs/architecture.md, lowest first.
std::vector<std::string> read_layers(const fs::path& doc) {
  std::ifstream in(doc);
  std::vector<std::string> layers;
  bool inside = false, fenced = false;
  for (std::string line; std::getline(in, line);) {
    if (line.find("<!-- layers: begin") != std::string::npos) inside = true;
    else if (line.find("<!-- layers: end") != std::string::npos) break;
    else if (inside && line.rfind("```", 0) == 0) fenced = !fenced;
    else if (inside && fenced) {
      std::istringstream words(line);
      std::string folder;
      if (words >> folder) layers.push_back(folder);
    }
  }
  return layers;
}

/// The layer folder of a file under the root: include/physgen/X/... and src/X/... -> X (the
/// deepest listed folder that contains it), apps/physgen/... -> apps/physgen, examples/... ->
/// examples. "" for a file outside every layer.
std::string folder_of(const std::string& rel, const std::vector<std::string>& layers) {
  std::string p = rel;
  for (const char* prefix : {"include/physgen/", "src/"})
    if (p.rfind(prefix, 0) == 0) p = p.substr(std::string(prefix).size());
  std::string best;
  for (const auto& l : layers)
    if (p.rfind(l + "/", 0) == 0 && l.size() > best.size()) best = l;
  return best;
}

struct Edge {
  std::string file, from, to, include;
};

/// Edges that go to a folder that is not lower than (or the same as) the including folder.
std::vector<Edge> violations(const std::vector<Edge>& edges, const std::vector<std::string>& layers) {
  std::map<std::string, size_t> rank;
  for (size_t i = 0; i < layers.size(); ++i) rank[layers[i]] = i;
  std::vector<Edge> bad;
  for (const auto& e : edges) {
    if (e.from == e.to) continue;
    if (!rank.count(e.from) || !rank.count(e.to) || rank[e.to] >= rank[e.from]) bad.push_back(e);
  }
  return bad;
}

/// Every include edge of the tree (physgen/ includes and relative includes that resolve).
std::vector<Edge> scan(const std::vector<std::string>& layers, std::vector<std::string>* unplaced) {
  const std::regex inc(R"re(^\s*#\s*include\s+"([^"]+)")re");
  std::vector<Edge> edges;
  for (const char* top : {"include", "src", "apps", "examples", "python"}) {
    if (!fs::exists(kRoot / top)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / top)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp" && ext != ".in")) continue;
      const std::string rel = fs::relative(entry.path(), kRoot).generic_string();
      if (rel == "include/physgen/physgen.h") continue;  // the umbrella includes every layer
      const std::string from = folder_of(rel, layers);
      if (from.empty()) {
        unplaced->push_back(rel);
        continue;
      }
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, inc)) continue;
        const std::string target = m[1].str();
        std::string to_rel;
        if (target.rfind("physgen/", 0) == 0) {
          to_rel = "include/" + target;
        } else {
          const fs::path resolved = (entry.path().parent_path() / target).lexically_normal();
          if (!fs::exists(resolved)) continue;  // a system or third-party header
          to_rel = fs::relative(resolved, kRoot).generic_string();
        }
        const std::string to = folder_of(to_rel, layers);
        edges.push_back({rel, from, to.empty() ? "(" + to_rel + ")" : to, target});
      }
    }
  }
  return edges;
}

}  // namespace

TEST(Layers, DocumentListsTheLayers) {
  const auto layers = read_layers(kRoot / "docs/architecture.md");
  ASSERT_GE(layers.size(), 10u) << "docs/architecture.md has no layers block";
  EXPECT_EQ(layers.front(), "core");
  EXPECT_NE(std::find(layers.begin(), layers.end(), "zoo"), layers.end());
}

TEST(Layers, NoIncludeGoesAgainstTheLayerOrder) {
  const auto layers = read_layers(kRoot / "docs/architecture.md");
  std::vector<std::string> unplaced;
  const auto edges = scan(layers, &unplaced);
  EXPECT_GT(edges.size(), 100u) << "the scan found too few includes to be meaningful";
  for (const auto& f : unplaced) ADD_FAILURE() << f << " is in no folder of the layer list";
  for (const auto& e : violations(edges, layers))
    ADD_FAILURE() << e.file << " (" << e.from << ") includes \"" << e.include << "\" (" << e.to
                  << "): against the layer order of docs/architecture.md";
}

// Negative control: the checker reports an upward edge, a cycle and an unknown folder.
TEST(Layers, CheckerCatchesUpwardEdgesAndCycles) {
  const std::vector<std::string> layers = {"core", "models", "zoo"};
  const std::vector<Edge> ok = {{"a", "zoo", "models", ""}, {"b", "models", "core", ""}, {"c", "core", "core", ""}};
  EXPECT_TRUE(violations(ok, layers).empty());
  const std::vector<Edge> upward = {{"a", "models", "zoo", ""}};
  EXPECT_EQ(violations(upward, layers).size(), 1u);
  const std::vector<Edge> cycle = {{"a", "models", "core", ""}, {"b", "core", "models", ""}};
  EXPECT_EQ(violations(cycle, layers).size(), 1u);
  const std::vector<Edge> unknown = {{"a", "models", "(somewhere/x.h)", ""}};
  EXPECT_EQ(violations(unknown, layers).size(), 1u);
  EXPECT_EQ(folder_of("src/models/gan/gan.cpp", {"models", "models/gan"}), "models/gan");
  EXPECT_EQ(folder_of("include/physgen/models/generative.h", {"models", "models/gan"}), "models");
}
