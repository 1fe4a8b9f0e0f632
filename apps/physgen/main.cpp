// physgen: learn and sample the probability distributions of physical systems.
//
// Entry point of the command-line tool. Subcommands live one per file
// (cmd_*.cpp) and only translate flags into library calls.
//
// Exit codes: 0 success, 1 runtime failure, 2 invalid argument or usage,
//             3 unreadable / malformed / unwritable file.
#include <iostream>

#include "cli_common.h"
#include "physgen/core/check.h"
#include "physgen/core/runtime.h"
#include "physgen/core/version.h"

int main(int argc, char** argv) {
  // Malloc thresholds before the first tensor is allocated; --threads re-applies.
  physgen::configure_runtime(0);

  CLI::App app{
      "physgen " PHYSGEN_VERSION
      ": learn and sample the probability distributions of physical systems\n"
      "(2D Ising, 2D phi^4, toy densities) with Monte Carlo and generative models."};
  app.set_version_flag("--version", std::string("physgen ") + PHYSGEN_VERSION);
  app.require_subcommand(1);
  app.footer("Run `physgen COMMAND --help` for the options of a command.");
  physgen::cli::register_simulate(app);
  physgen::cli::register_measure(app);
  physgen::cli::register_compare_ensembles(app);
  physgen::cli::register_memorization(app);
  physgen::cli::register_generalization(app);
  physgen::cli::register_compare(app);
  physgen::cli::register_train(app);
  physgen::cli::register_sample(app);
  physgen::cli::register_demo(app);
  physgen::cli::register_inpaint(app);
  physgen::cli::register_translate(app);
  physgen::cli::register_interpolate(app);
  physgen::cli::register_fit_couplings(app);
  physgen::cli::register_anneal(app);
  physgen::cli::register_problem(app);
  physgen::cli::register_boltzmann_fit(app);
  physgen::cli::register_learn_physical(app);
  physgen::cli::register_nbody(app);  // adds `simulate nbody` and `train pm-correction`

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const physgen::InvalidArgument& e) {
    std::cerr << "physgen: error: " << e.what() << "\n";
    return 2;
  } catch (const physgen::IoError& e) {
    std::cerr << "physgen: error: " << e.what() << "\n";
    return 3;
  } catch (const physgen::Interrupted& e) {
    std::cerr << "physgen: interrupted: " << e.what() << "\n";
    return 130;
  } catch (const std::exception& e) {
    std::cerr << "physgen: error: " << physgen::error_message(e) << "\n";
    return 1;
  }
  return 0;
}
