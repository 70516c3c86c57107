#pragma once
// Plots are drawn by small Python scripts (experiments/plots/*.py: numpy and matplotlib with the
// Agg backend, reading results.json), so the C++ side never links a plotting library. A missing
// python3 or matplotlib is not an error: the experiment's numbers are its product, plots a view.
#include <string>
#include <vector>

namespace twofour::experiments {

// Runs `python3 <source_dir()>/experiments/plots/<script> args...` (no shell, so arguments need no
// quoting). Returns true when the script exited with 0. Returns false, after one warning line on
// stderr, when python3 or matplotlib is missing, the script is absent, or it fails (its own stderr
// passes through). The availability check runs once per process.
bool run_plot(const std::string& script, const std::vector<std::string>& args);

// Whether `python3 -c "import matplotlib"` works (cached).
bool plotting_available();

// Whether python3 can import every module of `modules` (comma-separated, e.g. "onnx, numpy").
bool python_has_modules(const std::string& modules);
// Runs `python3 <source_dir()>/<script_in_source> args...` with its stdout sent to stderr; returns
// its exit status (-1 when it could not be started). For the non-plot Python steps (ONNX writing).
int run_python_script(const std::string& script_in_source, const std::vector<std::string>& args);

}  // namespace twofour::experiments
