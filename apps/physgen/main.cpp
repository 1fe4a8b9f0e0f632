// physgen command-line tool: entry point (subcommands live in their own files).
#include <iostream>
#include "physgen/core/version.h"
int main(int argc, char** argv) {
  std::cout << "physgen " << physgen::version() << "\n";
  return 0;
}
