// The zoo's families: one registration line per family file of src/zoo/.
#include "physgen/zoo/kit.h"

namespace physgen::zoo {

void register_all_families(FamilyRegistry& r) {
  register_flow(r);
  register_cnf(r);
  register_flow_matching(r);
  register_diffusion(r);
  register_gan(r);
  register_cyclegan(r);
  register_vae(r);
  register_ebm(r);
  register_autoregressive(r);
}

}  // namespace physgen::zoo
