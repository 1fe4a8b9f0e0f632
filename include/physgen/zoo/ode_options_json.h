#pragma once
// CNF and flow-matching options <-> flat JSON (the [model] table of `physgen train cnf` /
// `physgen train flow-matching`, and what checkpoints record). Unknown keys are rejected
// with the list of valid ones; missing keys take the defaults below.
//
// Keys shared by both families (defaults in brackets):
//   event_shape       shape of one sample (required)
//   field             "mlp" (TimeMLP on the flattened state) | "conv" (periodic TimeConvField,
//                     lattice shapes (H, W) only) ["mlp"; the zoo defaults pick "conv" for (L, L)]
//   hidden            MLP widths or conv channels [[64, 64]]
//   activation        tanh | softplus | silu | elu [tanh]
//   kernel_size       conv kernel (odd) [3]
//   time_conditioning MLP time input: concat | sinusoidal [concat]
//   zero_init_output  last layer zero: the untrained flow is the identity [CNF true, FM false]
//   [solver]          the ODE solver of log_prob (and the default sampler), the same table as
//                     score-sde's and pfgm's [model.solver] (OdeOptions::fields):
//     method          dopri5 | rk4 | midpoint | euler [dopri5]
//     n_steps         fixed-step solvers: number of steps over [0, 1] [0 -> 20 when fixed-step]
//     rtol, atol      dopri5 tolerances [1e-5, 1e-5]
//     max_steps       dopri5 attempted-step budget [10000]
//                     Checkpoints of physgen 0.1.0 wrote these flat (solver = "rk4", steps,
//                     rtol, atol, max_steps); from_json still reads that form.
//   trace             divergence estimator of log_prob: exact | hutchinson [exact]
//                     (CNF: the estimator used in training; see eval_trace)
//   probe             Hutchinson probes: rademacher | gaussian [rademacher]
// CNF only:
//   eval_trace        estimator in eval mode (log_prob for MCMC / NLL): exact | hutchinson [exact]
//   kinetic_weight    weight of int |v|^2 dt [0]
//   jacobian_weight   weight of int ||dv/dx||_F^2 dt [0]
//   adjoint           adjoint gradients instead of backprop through the solver [false]
// Flow matching only:
//   path              linear | vp [linear]
//   sigma_min         linear path width at t = 1 [0]
//   beta_min, beta_max, time_epsilon   VP path [0.1, 20, 1e-3]
//   coupling          independent | ot (exact minibatch OT pairing) [independent]
//   z2_augment        flip the sign of each training sample with probability 1/2 [false]
//
// References: see cnf.h and flow_matching.h.
#include <nlohmann/json.hpp>

#include "physgen/models/cnf/cnf.h"
#include "physgen/models/flow_matching/flow_matching.h"

namespace physgen {

nlohmann::json cnf_options_to_json(const CNFOptions& o);
/// InvalidArgument for unknown keys, a missing event_shape or values of the wrong type.
CNFOptions cnf_options_from_json(const nlohmann::json& j);

nlohmann::json flow_matching_options_to_json(const FlowMatchingOptions& o);
/// InvalidArgument for unknown keys, a missing event_shape or values of the wrong type.
FlowMatchingOptions flow_matching_options_from_json(const nlohmann::json& j);

}  // namespace physgen
