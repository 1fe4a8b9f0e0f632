// LONG (label long): the score SDE's `sample --mcmc` (docs/diffusion.md) on phi^4 at L = 4:
// a VP score SDE with the periodic conv field (hidden 32 x 3) trained 3000 steps on the HMC
// ensemble; its probability-flow likelihood (rk4, 5 steps, exact trace: 20 network
// evaluations per proposal, as in the docs' L = 8 run) drives an independence Metropolis chain
// of 8192 steps, which must agree with HMC on e, chi and U4 within 4 combined standard errors
// while the raw samples do not (tests/support/phi4_chain_check.h). In the default run a
// 1000-step model with hidden 16 x 2 reached acceptance 0.086 and missed chi by 4.25 sigma: at
// that acceptance the chain's error bars are not reliable, and a 5-step rk4 log-density has
// an integration error of its own; this test measures the better-trained case.
#include <gtest/gtest.h>

#include "support/phi4_chain_check.h"

TEST(ScoreSdeMcmcLong, ChainAgreesWithHmc) {
  physgen_test::check_ode_family_chain(
      "score-sde", {{"network", {{"type", "conv"}, {"conv", {{"hidden", {32, 32, 32}}}}}}}, 3000, 5, 8192, 321);
}
