// physgen._physgen: the C++ half of the Python module (python/physgen/__init__.py is the other
// half and the API users see). Binding only: every function calls the library's api/ layer,
// the same calls the CLI makes, so Python and the CLI give the same numbers.
//
// What crosses the boundary (docs/python.md): torch.Tensor <-> at::Tensor without copies
// (torch/extension.h: the same TensorImpl, so data_ptr() is preserved), JSON-like Python
// objects <-> nlohmann::json (convert.h), physgen::Model and physgen::Target as opaque
// objects. The GIL is released around every call that runs for long (simulate, train, sample,
// measure, log_prob, file I/O); training checks Python's pending signals after every step,
// so Ctrl-C stops it cleanly (checkpoint written) and raises KeyboardInterrupt.
#include <torch/extension.h>

#include <pybind11/stl.h>

#include <chrono>
#include <sstream>

#include "convert.h"
#include "physgen/api/measure.h"
#include "physgen/api/sample.h"
#include "physgen/api/simulate.h"
#include "physgen/api/train.h"
#include "physgen/core/check.h"
#include "physgen/core/device.h"
#include "physgen/core/options.h"
#include "physgen/core/registry.h"
#include "physgen/core/runtime.h"
#include "physgen/core/version.h"
#include "physgen/eval/memorization.h"
#include "physgen/io/sidecar.h"
#include "physgen/lattice/ising.h"
#include "physgen/lattice/phi4.h"
#include "physgen/lattice/targets.h"
#include "physgen/zoo/setup.h"
#include "physgen/zoo/zoo.h"

namespace py = pybind11;

namespace physgen::python {
namespace {

EnsembleMeta meta_from(const py::dict& meta) {
  return ensemble_meta_from_json(from_python(meta, "meta"), "meta");
}

py::tuple ensemble_tuple(const Ensemble& e) {
  return py::make_tuple(e.x, to_python(nlohmann::json(e.meta)));
}

ChainSettings chain_settings(int64_t samples, int64_t chains, int64_t therm, int64_t every, uint64_t seed,
                             bool progress) {
  ChainSettings s;
  s.chains = chains;
  s.seed = seed;
  s.record.samples = samples;
  s.record.therm = therm;
  s.record.every = every;
  s.record.progress = progress;
  s.validate();
  return s;
}

/// A Target as Python sees it: physgen.Phi4 / physgen.Ising (python/physgen/__init__.py).
struct PyTarget {
  TargetPtr target;
};

torch::Tensor as_batch(const Target& t, const torch::Tensor& x) {
  const auto shape = t.event_shape();
  check_arg(x.dim() == static_cast<int64_t>(shape.size()) + 1 &&
                std::equal(shape.begin(), shape.end(), x.sizes().begin() + 1),
            "x", x.sizes(), "a batch (N, " + std::to_string(shape.front()) + ", " + std::to_string(shape.back()) +
                                ") of " + t.name() + " configurations");
  return x;
}

/// What the Trainer calls after every step: Ctrl-C (Python's pending signals) and, where
/// stderr is no terminal (a notebook: the C++ progress bar is not shown), a progress line
/// through Python's sys.stderr every few seconds.
struct StepCheck {
  bool interrupted = false;
  bool report = false;  ///< print progress lines through sys.stderr
  int64_t total = 0;
  std::string label;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  bool operator()(int64_t step, double loss) {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
      PyErr_Clear();  // re-raised below as KeyboardInterrupt with the trainer's message
      interrupted = true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (report && (now - last > std::chrono::seconds(5) || step == total)) {
      last = now;
      std::ostringstream os;
      os << label << ": step " << step << " / " << total << ", loss " << loss << "\n";
      py::module_::import("sys").attr("stderr").attr("write")(os.str());
    }
    return interrupted;
  }
};

}  // namespace
}  // namespace physgen::python

using namespace physgen;
using namespace physgen::python;

PYBIND11_MODULE(_physgen, m) {
  m.doc() = "C++ core of physgen (LibTorch); use the `physgen` package, not this module directly.";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    }
  });

  m.def("version", &physgen::version, "physgen's version string");
  m.def("set_threads", [](int threads) { configure_runtime(threads); }, py::arg("threads") = 0,
        "CPU threads of LibTorch and OpenBLAS (0: all cores), as the CLI's --threads");

  // ---- ensembles ----------------------------------------------------------------------------
  m.def(
      "simulate_ising",
      [](int64_t L, double beta, double h, double J, const std::string& algo, int64_t samples, int64_t chains,
         int64_t therm, int64_t every, uint64_t seed, bool progress) {
        const ChainSettings s = chain_settings(samples, chains, therm, every, seed, progress);
        Ensemble e;
        {
          py::gil_scoped_release nogil;
          SimulationChain sim = ising_chain(IsingParams{L, beta, h, J}, algo, s);
          e = simulate(sim, s);
        }
        return ensemble_tuple(e);
      },
      py::arg("L"), py::arg("beta"), py::arg("h"), py::arg("J"), py::arg("algo"), py::arg("samples"),
      py::arg("chains"), py::arg("therm"), py::arg("every"), py::arg("seed"), py::arg("progress"));

  m.def(
      "simulate_phi4",
      [](int64_t L, double m2, double lam, py::object kappa, py::object lambda_hop, const std::string& algo,
         double step_size, int64_t n_steps, const std::string& integrator, double delta, int64_t hits,
         const std::string& dtype, int64_t samples, int64_t chains, int64_t therm, int64_t every, uint64_t seed,
         const std::string& device, bool progress) {
        check_arg(kappa.is_none() == lambda_hop.is_none(), "kappa/lambda_hop", "one of them",
                  "both (the hopping form) or neither (m2, lam)");
        const Phi4Params params = kappa.is_none()
                                      ? Phi4Params{L, m2, lam}
                                      : Phi4Params::from_hopping(L, kappa.cast<double>(), lambda_hop.cast<double>());
        check_choice("dtype", dtype, {"float32", "float64"});
        Phi4Update update;
        update.algorithm = algo;
        update.hmc = HmcOptions().step_size(step_size).n_steps(n_steps).integrator(integrator);
        update.metropolis = Phi4MetropolisOptions().delta(delta).n_hits(hits);
        update.stored_dtype = dtype == "float32" ? torch::kFloat32 : torch::kFloat64;
        const ChainSettings s = chain_settings(samples, chains, therm, every, seed, progress);
        const torch::Device dev = parse_device(device);
        Ensemble e;
        {
          py::gil_scoped_release nogil;
          SimulationChain sim = phi4_chain(params, update, s, dev);
          e = simulate(sim, s);
        }
        return ensemble_tuple(e);
      },
      py::arg("L"), py::arg("m2"), py::arg("lam"), py::arg("kappa"), py::arg("lambda_hop"), py::arg("algo"),
      py::arg("step_size"), py::arg("n_steps"), py::arg("integrator"), py::arg("delta"), py::arg("hits"),
      py::arg("dtype"), py::arg("samples"), py::arg("chains"), py::arg("therm"), py::arg("every"),
      py::arg("seed"), py::arg("device"), py::arg("progress"));

  m.def(
      "toy",
      [](const std::string& name, int64_t n, uint64_t seed) {
        Ensemble e;
        {
          py::gil_scoped_release nogil;
          e = simulate_toy(name, n, seed);
        }
        return ensemble_tuple(e);
      },
      py::arg("name"), py::arg("n"), py::arg("seed"));

  m.def(
      "validate_ensemble",
      [](const torch::Tensor& x, const py::dict& meta) {
        validate_ensemble(x, meta_from(meta), "ensemble", Blame::argument);
        return x;  // the same tensor (no copy): the zero-copy test checks its data_ptr
      },
      py::arg("x"), py::arg("meta"));

  m.def(
      "save_ensemble",
      [](const std::string& path, const torch::Tensor& x, const py::dict& meta) {
        const EnsembleMeta em = meta_from(meta);
        py::gil_scoped_release nogil;
        save_ensemble(path, x, em);
      },
      py::arg("path"), py::arg("x"), py::arg("meta"));

  m.def(
      "load_ensemble",
      [](const std::string& path) {
        std::pair<torch::Tensor, EnsembleMeta> e;
        {
          py::gil_scoped_release nogil;
          e = load_ensemble(path);
        }
        return py::make_tuple(e.first, to_python(nlohmann::json(e.second)));
      },
      py::arg("path"));

  m.def(
      "measure",
      [](const torch::Tensor& x, const py::dict& meta) {
        const EnsembleMeta em = meta_from(meta);
        nlohmann::json out;
        {
          py::gil_scoped_release nogil;
          out = measure_ensemble(x, em);
        }
        return to_python(out);
      },
      py::arg("x"), py::arg("meta"));
  m.def(
      "format_measurement", [](const py::dict& m) { return format_measurement(from_python(m, "measurement")); },
      py::arg("measurement"));
  m.def(
      "scattering",
      [](const torch::Tensor& x, const py::dict& meta, int64_t J, int64_t orientations, int64_t blocks,
         bool second_order) {
        const EnsembleMeta em = meta_from(meta);
        ScatteringOptions o;
        o.J = J;
        o.orientations = orientations;
        o.second_order = second_order;
        if (blocks > 0) o.blocks = blocks;
        nlohmann::json out;
        {
          py::gil_scoped_release nogil;
          out = scattering_of_ensemble(x, em, o).to_json();
        }
        return to_python(out);
      },
      py::arg("x"), py::arg("meta"), py::arg("J"), py::arg("orientations"), py::arg("blocks"), py::arg("second_order"));
  m.def(
      "compare_scattering",
      [](const py::dict& a, const py::dict& b) {
        auto stats = [](const nlohmann::json& j) {
          ScatteringStatistics s;
          s.J = j.at("J").get<int64_t>();
          s.orientations = j.at("orientations").get<int64_t>();
          s.n_fields = j.at("n_fields").get<int64_t>();
          s.blocks = j.at("blocks").get<int64_t>();
          for (const auto& r : j.at("statistics")) {
            s.names.push_back(r.at("name").get<std::string>());
            s.groups.push_back(r.at("group").get<std::string>());
            s.mean.push_back(r.at("mean").get<double>());
            s.error.push_back(r.at("error").get<double>());
          }
          return s;
        };
        return to_python(
            compare_scattering(stats(from_python(a, "a")), stats(from_python(b, "b"))).to_json());
      },
      py::arg("a"), py::arg("b"));
  m.def(
      "memorization",
      [](const torch::Tensor& generated, const torch::Tensor& train, bool translations, bool point_group, bool z2,
         double threshold) {
        NearestNeighbours nn;
        {
          py::gil_scoped_release nogil;
          nn = nearest_training_fields(generated, train, SymmetryOptions{translations, point_group, z2});
        }
        nlohmann::json out = memorization_report(nn, threshold).to_json();
        py::dict d = to_python(out);
        d["d1"] = nn.d1;
        d["d2"] = nn.d2;
        d["index1"] = nn.index1;
        d["index2"] = nn.index2;
        return d;
      },
      py::arg("generated"), py::arg("train"), py::arg("translations"), py::arg("point_group"), py::arg("z2"),
      py::arg("threshold"));
  m.def("has_z2_symmetry", &has_z2_symmetry, py::arg("system"),
        "whether a system's distribution is invariant under x -> -x (ising, phi4)");

  // ---- targets ------------------------------------------------------------------------------
  py::class_<PyTarget>(m, "Target")
      .def_static(
          "phi4",
          [](int64_t L, double m2, double lam) {
            const Phi4Params p{L, m2, lam};
            p.validate();
            return PyTarget{make_target("phi4", Phi4Action(p).params())};
          },
          py::arg("L"), py::arg("m2"), py::arg("lam"))
      .def_static(
          "phi4_hopping",
          [](int64_t L, double kappa, double lambda_hop) {
            const Phi4Params p = Phi4Params::from_hopping(L, kappa, lambda_hop);
            p.validate();
            return PyTarget{make_target("phi4", Phi4Action(p).params())};
          },
          py::arg("L"), py::arg("kappa"), py::arg("lambda_hop"))
      .def_static(
          "ising",
          [](int64_t L, double beta, double h, double J) {
            const IsingParams p{L, beta, h, J};
            p.validate();
            return PyTarget{make_target("ising", p.to_json())};
          },
          py::arg("L"), py::arg("beta"), py::arg("h"), py::arg("J"))
      .def("action",
           [](const PyTarget& t, const torch::Tensor& x) { return t.target->action(as_batch(*t.target, x)); })
      .def("force", [](const PyTarget& t, const torch::Tensor& x) { return t.target->force(as_batch(*t.target, x)); })
      .def_property_readonly("name", [](const PyTarget& t) { return t.target->name(); })
      .def_property_readonly("params", [](const PyTarget& t) { return to_python(t.target->params()); })
      .def_property_readonly("event_shape", [](const PyTarget& t) { return t.target->event_shape(); })
      .def_property_readonly("beta", [](const PyTarget& t) { return t.target->beta(); });

  // ---- the zoo ------------------------------------------------------------------------------
  m.def("families", &model_families, "the trainable families (zoo registrations), sorted");
  m.def("family_summary", &model_family_summary, py::arg("family"));
  m.def(
      "default_config",
      [](const std::string& family, const std::vector<int64_t>& shape, const py::object& user) {
        return to_python(merged_config(family, shape, from_python(user, "config"), "config"));
      },
      py::arg("family"), py::arg("shape"), py::arg("config") = py::none());

  m.def(
      "train",
      [](const std::string& family, py::object target, py::list data, const std::vector<std::string>& names,
         const std::string& condition, py::object data_b, const py::object& config, const std::string& objective,
         const std::string& out, const std::string& csv, bool resume, int64_t stop_at, uint64_t seed,
         bool progress, const std::string& device) {
        TrainRequest req;
        req.family = family;
        req.device = parse_device(device);
        if (!target.is_none()) {
          check_arg(data.empty(), "target/data", "both", "exactly one of target (reverse KL) or data (forward KL)");
          const TargetPtr& t = target.cast<PyTarget&>().target;
          req.system = target_system(t->name(), t->params());
        } else {
          check_arg(!data.empty(), "target/data", "neither", "exactly one of target (reverse KL) or data (forward KL)");
          std::vector<std::pair<torch::Tensor, EnsembleMeta>> ensembles;
          for (auto item : data) {
            auto tup = item.cast<py::tuple>();
            ensembles.emplace_back(tup[0].cast<torch::Tensor>(), meta_from(tup[1].cast<py::dict>()));
          }
          torch::Tensor xb;
          if (!data_b.is_none()) xb = data_b.cast<py::tuple>()[0].cast<torch::Tensor>();
          py::gil_scoped_release nogil;
          req.system = data_system(ensembles, names, condition, xb, "data_b", req.device);
        }
        req.config = merged_config(family, req.system.event_shape, from_python(config, "config"), "config");
        req.objective = objective;
        req.out = out;
        req.csv = csv;
        req.resume = resume;
        req.stop_at = stop_at;
        req.seed = seed;
        req.progress = progress;
        auto check = std::make_shared<StepCheck>();
        check->report = progress && !py::module_::import("sys").attr("stderr").attr("isatty")().cast<bool>();
        check->total = req.config["train"].value("steps", int64_t{0});
        check->label = "train " + family;
        req.should_stop = [check](int64_t step, double loss) { return (*check)(step, loss); };
        nlohmann::json report;
        {
          py::gil_scoped_release nogil;
          report = train_model(req);
        }
        if (check->interrupted) {
          PyErr_SetString(PyExc_KeyboardInterrupt, report.value("message", std::string("training interrupted at its last step; the checkpoint is complete")).c_str());
          throw py::error_already_set();
        }
        return to_python(report);
      },
      py::arg("family"), py::arg("target"), py::arg("data"), py::arg("names"), py::arg("condition"),
      py::arg("data_b"), py::arg("config"), py::arg("objective"), py::arg("out"), py::arg("csv"),
      py::arg("resume"), py::arg("stop_at"), py::arg("seed"), py::arg("progress"), py::arg("device"));

  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def_static(
          "load",
          [](const std::string& path, const std::string& device) {
            const torch::Device dev = parse_device(device);
            py::gil_scoped_release nogil;
            return std::make_shared<Model>(load_model(path, dev));
          },
          py::arg("path"), py::arg("device"))
      .def_property_readonly("family", [](const Model& mo) { return mo.spec.family; })
      .def_property_readonly("system", [](const Model& mo) { return mo.spec.system; })
      .def_property_readonly("spec", [](const Model& mo) { return to_python(mo.spec.to_json()); })
      .def_property_readonly("event_shape", [](const Model& mo) { return mo.generative->event_shape(); })
      .def_property_readonly("has_likelihood", [](const Model& mo) { return mo.likelihood != nullptr; })
      .def(
          "sample",
          [](const Model& mo, int64_t n, int64_t batch, uint64_t seed, bool mcmc, const py::dict& settings,
             const std::string& model_path) {
            SampleRequest req;
            req.n = n;
            req.batch = batch;
            req.seed = seed;
            req.mcmc = mcmc;
            req.model_path = model_path;
            const nlohmann::json s = from_python(settings, "sampler settings");
            check_known_keys(s, {"sampler", "solver", "steps", "rtol", "atol", "eta", "condition", "guidance"},
                             "sampler settings");
            req.settings.sampler = s.value("sampler", std::string());
            req.settings.solver = s.value("solver", std::string());
            req.settings.steps = s.value("steps", int64_t{0});
            req.settings.rtol = s.value("rtol", 0.0);
            req.settings.atol = s.value("atol", 0.0);
            req.settings.eta = s.value("eta", -1.0);
            req.settings.guidance = s.value("guidance", 0.0);
            if (s.contains("condition")) {
              const auto& c = s["condition"];
              req.settings.condition = c.is_array() ? c.get<std::vector<double>>() : std::vector<double>{c.get<double>()};
            }
            SampleOutcome o;
            {
              py::gil_scoped_release nogil;
              o = sample_model(mo, req);
            }
            return py::make_tuple(o.ensemble.x, to_python(nlohmann::json(o.ensemble.meta)), to_python(o.report));
          },
          py::arg("n"), py::arg("batch"), py::arg("seed"), py::arg("mcmc"), py::arg("settings"),
          py::arg("model_path"))
      .def(
          "log_prob",
          [](const Model& mo, const torch::Tensor& x) {
            check_arg(mo.likelihood != nullptr, "log_prob", mo.spec.family,
                      "a family with an exact likelihood (flow, cnf, flow-matching, van, transformer, ...)");
            torch::Tensor out;
            {
              py::gil_scoped_release nogil;
              torch::NoGradGuard ng;
              mo.module->eval();
              auto params = mo.module->parameters();
              const torch::Device dev = params.empty() ? torch::Device(torch::kCPU) : params.front().device();
              out = mo.likelihood->log_prob(x.to(dev, torch::kFloat32));
            }
            return out;
          },
          py::arg("x"));
}
