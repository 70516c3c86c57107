// The `twofour` tool: parses the command line, dispatches to a registered subcommand, and turns
// every error into one clear line on stderr with a documented exit code
// (0 ok, 1 the command failed, 2 bad usage, 77 a needed GPU is absent).
#include "cli/command.hpp"
#include "twofour/build_info.hpp"

#include <algorithm>
#include <exception>
#include <iostream>
#include <memory>

namespace twofour::cli {

std::vector<Command>& command_registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

std::string version_line() {
  std::string line = std::string("twofour ") + build_info::version + " (git " + build_info::git_revision + ", CUDA backend ";
  line += build_info::have_cuda ? "built)" : "not built: nvcc was not found at configure time)";
  return line;
}

int run(int argc, char** argv) {
  CLI::App app{"twofour: study and use NVIDIA 2:4 structured sparsity without a sparse-tensor-core GPU"};
  app.set_version_flag("--version", version_line());
  app.require_subcommand(0, 1);  // "no command" is reported below, after unknown options
  app.footer("Run `twofour COMMAND --help` for the options of one command.");

  auto& commands = command_registry();
  std::sort(commands.begin(), commands.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions;
  for (const auto& command : commands) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    actions.emplace_back(sub, command.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::cout << version_line() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    // CLI11 renders sub-command help as a CallForHelp thrown from the subcommand too.
    if (e.get_exit_code() == 0) {
      std::cout << app.help();
      return 0;
    }
    std::string message = e.what();
    if (message.empty()) message = "bad command line";
    std::cerr << "twofour: error: " << message << " (see `twofour --help`)\n";
    return 2;
  }

  for (auto& [sub, action] : actions) {
    if (sub->parsed()) return action();
  }
  std::cerr << "twofour: error: no command given (see `twofour --help`)\n";
  return 2;
}

}  // namespace
}  // namespace twofour::cli

int main(int argc, char** argv) {
  try {
    return twofour::cli::run(argc, argv);
  } catch (const twofour::cli::UsageError& e) {
    std::cerr << "twofour: error: " << e.what() << "\n";
    return 2;
  } catch (const twofour::cli::CommandFailed& e) {
    std::cerr << "twofour: error: " << e.what() << "\n";
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "twofour: error: " << e.what() << "\n";
    return 1;
  }
}
