#pragma once
// What the teaching pictures show, computed here and handed to the plot scripts as JSON:
// Figure 1 (a matrix, its 2:4 mask, the compressed values and the metadata indices, all from the
// library's own mask and compressor) and an instruction's fragments (which lane and register hold
// each element of A, B, C/D and the metadata, from sim/spec's layout functions).
#include "twofour/sim/spec/instruction.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <span>

namespace twofour::experiments {

// {"rows", "cols", "dense": [[...]], "mask": [[0/1]], "values": [[...]] (rows x cols/2),
//  "indices": [[...]] (rows x cols/2: the 2-bit position of each kept value in its group, read
//  back from the compressed metadata words), "already_24": bool}. Throws std::invalid_argument
// unless cols % 4 == 0 and rows, cols <= 64.
nlohmann::json figure1_data(std::span<const float> dense, std::size_t rows, std::size_t cols);

// {"name", "ptx", "panels": [{"title", "rows", "cols", "cells": [[row, col, lane, "label"]...]}]}:
// A (compressed for sparse rows), B, C/D, and for sparse rows E (metadata, selector 0): one cell
// per matrix element, labelled "T<lane>" over "<reg>[<element>]". Every element appears once.
nlohmann::json fragment_panels(const sim::spec::Instruction& in);

}  // namespace twofour::experiments
