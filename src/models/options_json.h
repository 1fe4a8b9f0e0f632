#pragma once
// Private helpers: options structs (TORCH_ARG members `name_`) to and from JSON.
// Use inside member functions of the options struct, where the members are visible:
//   nlohmann::json j;  PHYSGEN_JSON_PUT(j, latent_dim);
//   PHYSGEN_JSON_GET(j, o, latent_dim);   // o.latent_dim(j["latent_dim"]) if present
#include <nlohmann/json.hpp>

#define PHYSGEN_JSON_PUT(j, field) (j)[#field] = field##_
#define PHYSGEN_JSON_GET(j, o, field) \
  if ((j).contains(#field)) (o).field((j)[#field].template get<std::decay_t<decltype((o).field())>>())
