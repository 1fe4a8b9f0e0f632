#include "physgen/io/checkpoint.h"

#include <array>
#include <cstdint>

#include <set>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "physgen/core/check.h"
#include "physgen/core/version.h"
#include "physgen/io/atomic_file.h"
#include "physgen/io/sidecar.h"
#include "physgen/io/tensor_checks.h"

namespace physgen {
namespace {

constexpr const char* kFormat = "physgen-checkpoint";
constexpr int64_t kFormatVersion = 1;

using torch::serialize::InputArchive;
using torch::serialize::OutputArchive;

std::string first_line(const std::exception& e) {
  std::string msg = error_message(e);
  const auto nl = msg.find('\n');
  if (nl != std::string::npos) msg.resize(nl);
  return msg;
}

std::string read_string(InputArchive& a, const char* key, const std::string& path) {
  c10::IValue v;
  if (!a.try_read(key, v) || !v.isString()) {
    throw IoError(path + ": corrupt checkpoint: entry '" + std::string(key) + "' missing or not a string");
  }
  return v.toStringRef();
}

int64_t read_int(InputArchive& a, const char* key, const std::string& path) {
  c10::IValue v;
  if (!a.try_read(key, v) || !v.isInt()) {
    throw IoError(path + ": corrupt checkpoint: entry '" + std::string(key) + "' missing or not an integer");
  }
  return v.toInt();
}

// ----------------------------------------------------------------- archive integrity

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as the zip format stores it.
uint32_t crc32(const unsigned char* data, size_t n) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t le32(const std::string& b, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[at])) |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24;
}
uint16_t le16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8);
}

/// Checks the zip container of a checkpoint before LibTorch parses it: the end-of-directory
/// record, every central-directory entry, its local header, and the CRC-32 of every stored
/// entry. LibTorch's reader trusts the container (a corrupted archive can crash its
/// TorchScript type parser, tests/unit/test_fuzz_readers.cpp), so a damaged file must end
/// here, in an IoError. Archives that need zip64 (over 4 GiB) are passed on unchecked.
void verify_archive(const std::string& path) {
  const std::string b = read_file_bytes(path);
  auto corrupt = [&](const std::string& what) {
    return IoError(path + ": not a readable checkpoint (truncated or corrupt file?): " + what);
  };
  if (b.size() < 22) throw corrupt("too short for a zip archive");
  size_t eocd = std::string::npos;
  const size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (size_t at = b.size() - 22 + 1; at-- > lowest;)
    if (le32(b, at) == 0x06054b50u) {
      eocd = at;
      break;
    }
  if (eocd == std::string::npos) throw corrupt("no zip end-of-directory record");
  const uint16_t entries = le16(b, eocd + 10);
  const uint32_t dir_size = le32(b, eocd + 12), dir_offset = le32(b, eocd + 16);
  if (entries == 0xFFFF || dir_offset == 0xFFFFFFFFu || dir_size == 0xFFFFFFFFu) return;  // zip64
  if (entries == 0) throw corrupt("an empty archive");
  if (static_cast<uint64_t>(dir_offset) + dir_size > eocd) throw corrupt("the zip directory lies outside the file");
  size_t at = dir_offset;
  for (uint16_t e = 0; e < entries; ++e) {
    if (at + 46 > eocd || le32(b, at) != 0x02014b50u) throw corrupt("a damaged zip directory entry");
    const uint16_t method = le16(b, at + 10);
    const uint32_t crc = le32(b, at + 16), csize = le32(b, at + 20), usize = le32(b, at + 24);
    const uint16_t name_len = le16(b, at + 28), extra_len = le16(b, at + 30), comment_len = le16(b, at + 32);
    const uint32_t local = le32(b, at + 42);
    if (csize == 0xFFFFFFFFu || usize == 0xFFFFFFFFu || local == 0xFFFFFFFFu) return;  // zip64 entry
    if (local + 30ull > b.size() || le32(b, local) != 0x04034b50u) throw corrupt("a damaged zip entry header");
    const uint64_t data = local + 30ull + le16(b, local + 26) + le16(b, local + 28);
    if (data + csize > dir_offset) throw corrupt("a zip entry runs past the directory");
    if (method == 0) {
      if (csize != usize) throw corrupt("a stored zip entry with two sizes");
      if (crc32(reinterpret_cast<const unsigned char*>(b.data()) + data, csize) != crc)
        throw corrupt("a zip entry fails its CRC-32 check");
    }
    at += 46ull + name_len + extra_len + comment_len;
  }
}

// Opens the archive and checks it is a physgen checkpoint.
void open_archive(InputArchive& a, const std::string& path, c10::optional<torch::Device> device) {
  if (!file_exists(path)) {
    (void)read_file_bytes(path);  // throws IoError with the precise reason
    throw IoError("cannot read " + path + ": not a regular file");
  }
  verify_archive(path);
  try {
    a.load_from(path, device);
  } catch (const c10::Error& e) {
    throw IoError(path + ": not a readable checkpoint (truncated or corrupt file?): " + first_line(e));
  } catch (const std::exception& e) {
    throw IoError(path + ": not a readable checkpoint (truncated or corrupt file?): " + first_line(e));
  }
  c10::IValue fmt;
  if (!a.try_read("physgen_format", fmt) || !fmt.isString() || fmt.toStringRef() != kFormat) {
    throw IoError(path + ": not a physgen checkpoint (no 'physgen_format' entry; was it written by "
                         "save_checkpoint?)");
  }
  const int64_t v = read_int(a, "physgen_format_version", path);
  if (v != kFormatVersion) {
    throw IoError(path + ": checkpoint format version " + std::to_string(v) + " is not supported (this "
                         "physgen reads version " + std::to_string(kFormatVersion) + ")");
  }
}

CheckpointInfo read_info(InputArchive& a, const std::string& path) {
  CheckpointInfo info;
  info.step = read_int(a, "step", path);
  info.physgen_version = read_string(a, "physgen_version", path);
  info.created = read_string(a, "created", path);
  const std::string meta = read_string(a, "meta_json", path);
  try {
    info.meta = nlohmann::json::parse(meta);
  } catch (const nlohmann::json::parse_error& e) {
    throw IoError(path + ": corrupt checkpoint metadata (" + e.what() + ")");
  }
  if (info.meta.is_object() && info.meta.contains("options")) info.options = info.meta["options"];
  std::vector<std::string> keys = a.keys();
  info.has_optimizer = std::find(keys.begin(), keys.end(), "optimizer") != keys.end();
  return info;
}

// Pairs every parameter and buffer of `m` with its tensor in `a` (same nesting
// as Module::save), checking names and shapes; nothing is modified.
void match_module(const torch::nn::Module& m, InputArchive& a, const std::string& prefix,
                  const std::string& path, std::vector<std::pair<torch::Tensor, torch::Tensor>>& out) {
  std::set<std::string> expected;
  auto match = [&](const std::string& name, const torch::Tensor& dst, const char* kind) {
    expected.insert(name);
    if (!dst.defined()) return;
    torch::Tensor src;
    if (!a.try_read(name, src)) {
      throw IoError(path + ": checkpoint has no " + kind + " '" + prefix + name +
                    "' (it was saved from a different model or options)");
    }
    if (src.sizes() != dst.sizes()) {
      throw IoError(path + ": " + kind + " '" + prefix + name + "' has shape " + shape_string(src.sizes()) +
                    " in the checkpoint but " + shape_string(dst.sizes()) + " in the model");
    }
    out.emplace_back(dst, src);
  };
  for (const auto& p : m.named_parameters(/*recurse=*/false)) match(p.key(), p.value(), "parameter");
  for (const auto& b : m.named_buffers(/*recurse=*/false)) match(b.key(), b.value(), "buffer");
  for (const auto& c : m.named_children()) {
    if (!c.value()->is_serializable()) continue;
    expected.insert(c.key());
    InputArchive sub;
    if (!a.try_read(c.key(), sub)) {
      throw IoError(path + ": checkpoint has no submodule '" + prefix + c.key() +
                    "' (it was saved from a different model or options)");
    }
    match_module(*c.value(), sub, prefix + c.key() + ".", path, out);
  }
  for (const auto& k : a.keys()) {
    if (!expected.count(k)) {
      throw IoError(path + ": checkpoint has an entry '" + prefix + k +
                    "' the model does not have (it was saved from a different model or options)");
    }
  }
}

std::string serialize_optimizer(const torch::optim::Optimizer& opt) {
  OutputArchive a;
  opt.save(a);
  std::ostringstream os;
  a.save_to(os);
  return os.str();
}

}  // namespace

namespace {
std::string optimizer_key(size_t i) { return i == 0 ? "optimizer" : "optimizer_" + std::to_string(i); }
}  // namespace

void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* opt, const nlohmann::json& meta, int64_t step) {
  std::vector<const torch::optim::Optimizer*> opts;
  if (opt != nullptr) opts.push_back(opt);
  save_checkpoint(path, model, opts, meta, step);
}

CheckpointInfo load_checkpoint(const std::string& path, torch::nn::Module& model,
                               torch::optim::Optimizer* opt, bool restore_rng) {
  std::vector<torch::optim::Optimizer*> opts;
  if (opt != nullptr) opts.push_back(opt);
  return load_checkpoint(path, model, opts, restore_rng);
}

void save_checkpoint(const std::string& path, const torch::nn::Module& model,
                     const std::vector<const torch::optim::Optimizer*>& optimizers, const nlohmann::json& meta,
                     int64_t step) {
  check_arg(step >= 0, "step", step, "a non-negative step counter");
  check_arg(meta.is_object() || meta.is_null(), "meta", meta.dump(), "a JSON object or null");
  OutputArchive top;
  top.write("physgen_format", c10::IValue(std::string(kFormat)));
  top.write("physgen_format_version", c10::IValue(kFormatVersion));
  top.write("physgen_version", c10::IValue(std::string(version())));
  top.write("created", c10::IValue(utc_timestamp()));
  top.write("step", c10::IValue(step));
  top.write("meta_json", c10::IValue(meta.dump()));

  OutputArchive model_archive(top.compilation_unit());
  model.save(model_archive);
  top.write("model", model_archive);
  for (size_t i = 0; i < optimizers.size(); ++i) {
    OutputArchive opt_archive(top.compilation_unit());
    optimizers[i]->save(opt_archive);
    top.write(optimizer_key(i), opt_archive);
  }
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    top.write("rng_cpu", gen.get_state());
  }
  if (torch::cuda::is_available()) {
    const int64_t n = static_cast<int64_t>(torch::cuda::device_count());
    top.write("rng_cuda_count", c10::IValue(n));
    for (int64_t i = 0; i < n; ++i) {
      auto gen = at::globalContext().defaultGenerator(torch::Device(torch::kCUDA, static_cast<int8_t>(i)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      top.write("rng_cuda_" + std::to_string(i), gen.get_state());
    }
  }
  write_file_atomic(path, [&](std::ostream& os) { top.save_to(os); });
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  InputArchive a;
  open_archive(a, path, torch::Device(torch::kCPU));
  return read_info(a, path);
}

CheckpointInfo load_checkpoint(const std::string& path, torch::nn::Module& model,
                               const std::vector<torch::optim::Optimizer*>& optimizers, bool restore_rng) {
  torch::Device device(torch::kCPU);
  const auto params = model.parameters();
  if (!params.empty()) device = params.front().device();

  InputArchive a;
  open_archive(a, path, device);
  CheckpointInfo info = read_info(a, path);

  // 1. Validate everything before touching the model.
  InputArchive model_archive;
  if (!a.try_read("model", model_archive)) throw IoError(path + ": corrupt checkpoint: no 'model' entry");
  std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs;
  match_module(model, model_archive, "", path, pairs);

  torch::Tensor rng_cpu;
  if (restore_rng && !a.try_read("rng_cpu", rng_cpu)) {
    throw IoError(path + ": corrupt checkpoint: no 'rng_cpu' entry");
  }

  // 2. Optimizers (all rolled back if any state does not fit).
  std::vector<InputArchive> opt_archives(optimizers.size());
  for (size_t i = 0; i < optimizers.size(); ++i) {
    if (!a.try_read(optimizer_key(i), opt_archives[i])) {
      throw IoError(path + ": checkpoint has no optimizer state for optimizer " + std::to_string(i) +
                    " (it was saved without it, or from a model with fewer optimizers)");
    }
  }
  std::vector<std::string> backups;
  for (auto* opt : optimizers) backups.push_back(serialize_optimizer(*opt));
  size_t loaded = 0;
  try {
    for (; loaded < optimizers.size(); ++loaded) optimizers[loaded]->load(opt_archives[loaded]);
  } catch (const std::exception& e) {
    for (size_t i = 0; i <= loaded && i < optimizers.size(); ++i) {
      InputArchive restore;
      std::istringstream is(backups[i]);
      restore.load_from(is);
      optimizers[i]->load(restore);
    }
    throw IoError(path + ": optimizer state does not fit the optimizer: " + first_line(e));
  }

  // 3. Parameters and buffers, copied in place.
  {
    torch::NoGradGuard no_grad;
    for (auto& [dst, src] : pairs) dst.copy_(src);
  }

  // 4. Generators.
  if (restore_rng) {
    auto gen = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(rng_cpu.to(torch::kCPU));
    }
    c10::IValue count;
    if (torch::cuda::is_available() && a.try_read("rng_cuda_count", count) && count.isInt()) {
      const int64_t n = std::min<int64_t>(count.toInt(), static_cast<int64_t>(torch::cuda::device_count()));
      for (int64_t i = 0; i < n; ++i) {
        torch::Tensor state;
        if (!a.try_read("rng_cuda_" + std::to_string(i), state)) continue;
        auto g = at::globalContext().defaultGenerator(torch::Device(torch::kCUDA, static_cast<int8_t>(i)));
        std::lock_guard<std::mutex> lock(g.mutex());
        g.set_state(state.to(torch::kCPU));
      }
    }
    info.rng_restored = true;
  }
  return info;
}

}  // namespace physgen
