#include <string>
#include <vector>

#include "app/cli.h"

int main(int argc, char** argv) {
  return wpsim::app::RunCli(std::vector<std::string>(argv, argv + argc));
}
