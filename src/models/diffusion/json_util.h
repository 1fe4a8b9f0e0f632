#pragma once
// Internal: JSON of the option structs that diffusion-type models embed but that have no
// to_json of their own (OdeOptions, SdeSamplerOptions).
#include <nlohmann/json.hpp>

#include "physgen/io/config.h"
#include "physgen/models/diffusion/sde.h"
#include "physgen/ode/odeint.h"

namespace physgen {
namespace detail {

inline nlohmann::json ode_options_to_json(const OdeOptions& o) {
  return {{"method", o.method()},
          {"n_steps", o.n_steps()},
          {"rtol", o.rtol()},
          {"atol", o.atol()},
          {"max_steps", o.max_steps()}};
}

inline OdeOptions ode_options_from_json(const nlohmann::json& j, const OdeOptions& defaults,
                                        const std::string& where) {
  check_known_keys(j, {"method", "n_steps", "rtol", "atol", "max_steps"}, where);
  OdeOptions o = defaults;
  if (j.is_null()) return o;
  if (j.contains("method")) o.method(j.at("method").get<std::string>());
  if (j.contains("n_steps")) o.n_steps(j.at("n_steps").get<int64_t>());
  if (j.contains("rtol")) o.rtol(j.at("rtol").get<double>());
  if (j.contains("atol")) o.atol(j.at("atol").get<double>());
  if (j.contains("max_steps")) o.max_steps(j.at("max_steps").get<int64_t>());
  return o;
}

inline nlohmann::json sde_sampler_to_json(const SdeSamplerOptions& o) {
  return {{"steps", o.steps()},
          {"t_min", o.t_min()},
          {"denoise", o.denoise()},
          {"snr", o.snr()},
          {"corrector_steps", o.corrector_steps()}};
}

inline SdeSamplerOptions sde_sampler_from_json(const nlohmann::json& j) {
  check_known_keys(j, {"steps", "t_min", "denoise", "snr", "corrector_steps"}, "[sampling]");
  SdeSamplerOptions o;
  if (j.is_null()) return o;
  if (j.contains("steps")) o.steps(j.at("steps").get<int64_t>());
  if (j.contains("t_min")) o.t_min(j.at("t_min").get<double>());
  if (j.contains("denoise")) o.denoise(j.at("denoise").get<bool>());
  if (j.contains("snr")) o.snr(j.at("snr").get<double>());
  if (j.contains("corrector_steps")) o.corrector_steps(j.at("corrector_steps").get<int64_t>());
  return o;
}

}  // namespace detail
}  // namespace physgen
