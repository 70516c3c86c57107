#pragma once
// Subcommands of the `twofour` tool register themselves here, one file each, so that adding a
// command never touches main.cpp.
#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::cli {

// A bad argument or option value: one line on stderr, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A command that ran and failed on its input (file missing, malformed data...): exit code 1,
// unless the command chose another code.
struct CommandFailed : std::runtime_error {
  CommandFailed(const std::string& what, int code = 1) : std::runtime_error(what), exit_code(code) {}
  int exit_code;
};

struct Command {
  std::string name;
  std::string summary;
  // Adds the options to `sub` and returns the action run when the subcommand is selected.
  // The action returns the process exit code.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

std::vector<Command>& command_registry();

struct RegisterCommand {
  explicit RegisterCommand(Command command) { command_registry().push_back(std::move(command)); }
};

}  // namespace twofour::cli
