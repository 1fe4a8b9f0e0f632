// Train a normalizing flow on phi^4 by reverse KL and sample it exactly with the Metropolis
// correction (independence Metropolis-Hastings with the flow as proposal).
//
//   ./build/examples/flow_phi4 [steps]      (default 300; the zoo's recipe uses 2500)
//
// phi^4 on an 8 x 8 lattice at m2 = -4, lambda = 8 (the broken phase of docs/conventions.md).
// The zoo builds the flow with its lattice defaults (Z2-equivariant checkerboard couplings);
// ModelTask trains it through the shared Trainer; the chain's acceptance and the proposals'
// ESS say how close q is to p.
#include <cstdlib>
#include <iostream>

#include <physgen/physgen.h>

int main(int argc, char** argv) {
  using namespace physgen;
  const int64_t steps = argc > 1 ? std::atoll(argv[1]) : 300;
  seed_all(1);

  const TrainingSystem system = target_system("phi4", Phi4Params{8, -4.0, 8.0}.to_json());
  ModelSpec spec{"flow", default_model_options("flow", system.event_shape), system.name, system.params,
                 "reverse-kl", Condition()};
  spec.model["event_shape"] = system.event_shape;
  Model model = build_model(spec);

  TrainerOptions options = default_train_options("flow", system.event_shape).steps(steps).progress(false);
  ModelTask task(model, "reverse-kl", system.target, options.batch_size());
  const TrainResult trained = Trainer(task, options).fit(task.fit_data());
  std::cout << "trained " << trained.steps_done << " steps in " << trained.seconds << " s, final loss "
            << trained.history.back().loss << "\n";

  model.module->eval();
  IndependenceMetropolis chain(model.likelihood, system.target, IndependenceMetropolisOptions().seed(2));
  const IndependenceMetropolisResult r = chain.run(4096);
  std::cout << "Metropolis-corrected chain: acceptance " << r.acceptance << ", proposal ESS "
            << r.proposal_ess << "\n"
            << format_table(measure_lattice(r.chain, *system.target));
  return 0;
}
