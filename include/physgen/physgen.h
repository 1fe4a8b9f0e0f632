#pragma once
// physgen: every public header of the library, in layer order (docs/architecture.md).
// Include this in a program that uses physgen; include single headers to compile faster.
//
//   #include <physgen/physgen.h>
//   physgen::Phi4Action action({8, -4.0, 8.0});
//
// examples/ has two short programs built on it.
#include "physgen/core/version.h"

// core/
#include "physgen/core/check.h"
#include "physgen/core/device.h"
#include "physgen/core/progress.h"
#include "physgen/core/registry.h"
#include "physgen/core/rng.h"
#include "physgen/core/runtime.h"
#include "physgen/core/shape.h"

// io/
#include "physgen/io/atomic_file.h"
#include "physgen/io/checkpoint.h"
#include "physgen/io/config.h"
#include "physgen/io/hdf5.h"
#include "physgen/io/npy.h"
#include "physgen/io/npy_rows.h"
#include "physgen/io/plot.h"
#include "physgen/io/png.h"
#include "physgen/io/sidecar.h"
#include "physgen/io/tensor_checks.h"

// lattice/
#include "physgen/lattice/ising.h"
#include "physgen/lattice/ising_exact.h"
#include "physgen/lattice/neighbours.h"
#include "physgen/lattice/phi4.h"
#include "physgen/lattice/target.h"
#include "physgen/lattice/targets.h"

// data/
#include "physgen/data/toy2d.h"

// observables/
#include "physgen/observables/lattice.h"
#include "physgen/observables/scattering.h"
#include "physgen/observables/table.h"

// observables/estimators/
#include "physgen/observables/estimators/binning.h"
#include "physgen/observables/estimators/estimate.h"
#include "physgen/observables/estimators/gamma_method.h"
#include "physgen/observables/estimators/jackknife.h"
#include "physgen/observables/estimators/reweighting.h"

// nn/
#include "physgen/nn/activation.h"
#include "physgen/nn/conv.h"
#include "physgen/nn/dcgan.h"
#include "physgen/nn/made.h"
#include "physgen/nn/mlp.h"
#include "physgen/nn/time_conv.h"
#include "physgen/nn/time_embedding.h"
#include "physgen/nn/time_mlp.h"
#include "physgen/nn/unet.h"
#include "physgen/nn/vector_nets.h"

// multiscale/
#include "physgen/multiscale/wavelet.h"

// ode/
#include "physgen/ode/adjoint.h"
#include "physgen/ode/assignment.h"
#include "physgen/ode/odeint.h"
#include "physgen/ode/state.h"
#include "physgen/ode/trace.h"

// eval/
#include "physgen/eval/distances.h"
#include "physgen/eval/memorization.h"
#include "physgen/eval/mode_coverage.h"

// train/
#include "physgen/train/trainer.h"

// models/
#include "physgen/models/capabilities.h"
#include "physgen/models/generative.h"
#include "physgen/models/objectives.h"

// models/common/
#include "physgen/models/common/condition.h"
#include "physgen/models/common/diffusion_task.h"

// models/flows/
#include "physgen/models/flows/affine_coupling.h"
#include "physgen/models/flows/base.h"
#include "physgen/models/flows/bijector.h"
#include "physgen/models/flows/conditioner.h"
#include "physgen/models/flows/factory.h"
#include "physgen/models/flows/flow.h"
#include "physgen/models/flows/maf.h"
#include "physgen/models/flows/masks.h"
#include "physgen/models/flows/spline_coupling.h"
#include "physgen/models/flows/wavelet.h"

// models/cnf/
#include "physgen/models/cnf/cnf.h"
#include "physgen/models/cnf/log_density.h"
#include "physgen/models/cnf/neural_ode.h"

// models/flow_matching/
#include "physgen/models/flow_matching/flow_matching.h"
#include "physgen/models/flow_matching/paths.h"

// models/diffusion/
#include "physgen/models/diffusion/ddpm.h"
#include "physgen/models/diffusion/ddpm_sampling.h"
#include "physgen/models/diffusion/denoiser_net.h"
#include "physgen/models/diffusion/inverse.h"
#include "physgen/models/diffusion/restore.h"
#include "physgen/models/diffusion/schedule.h"
#include "physgen/models/diffusion/score_sde.h"
#include "physgen/models/diffusion/sde.h"

// models/pfgm/
#include "physgen/models/pfgm/pfgm.h"
#include "physgen/models/pfgm/pfgmpp.h"
#include "physgen/models/pfgm/poisson_field.h"

// models/gan/
#include "physgen/models/gan/cyclegan.h"
#include "physgen/models/gan/gan.h"
#include "physgen/models/gan/latent.h"
#include "physgen/models/gan/losses.h"

// models/vae/
#include "physgen/models/vae/vae.h"

// models/ebm/
#include "physgen/models/ebm/ebm.h"
#include "physgen/models/ebm/exponential_family.h"
#include "physgen/models/ebm/langevin.h"

// models/autoregressive/
#include "physgen/models/autoregressive/han.h"
#include "physgen/models/autoregressive/heads.h"
#include "physgen/models/autoregressive/transformer.h"
#include "physgen/models/autoregressive/van.h"

// mcmc/
#include "physgen/mcmc/hmc.h"
#include "physgen/mcmc/independence_metropolis.h"
#include "physgen/mcmc/ising.h"
#include "physgen/mcmc/markov_chain.h"
#include "physgen/mcmc/phi4_metropolis.h"
#include "physgen/mcmc/simulate.h"

// ising_machines/
#include "physgen/ising_machines/boltzmann.h"
#include "physgen/ising_machines/problem.h"
#include "physgen/ising_machines/solvers.h"

// physical/
#include "physgen/physical/hopfield.h"
#include "physgen/physical/learning_curve.h"
#include "physgen/physical/network.h"

// zoo/
#include "physgen/zoo/kit.h"
#include "physgen/zoo/model.h"
#include "physgen/zoo/model_task.h"
#include "physgen/zoo/ode_options_json.h"
#include "physgen/zoo/setup.h"
#include "physgen/zoo/zoo.h"
#include "physgen/api/simulate.h"
#include "physgen/api/measure.h"
#include "physgen/api/train.h"
#include "physgen/api/sample.h"
