#!/usr/bin/env python3
"""Writes sim/include/twofour/sim/spec/registry.hpp: the table of warp-level MMA instructions.

The table is data: one row per PTX variant. This script only spells the rows out (every type
combination of PTX ISA 9.1 §9.7.14.5/§9.7.14.6 for m16n8k*); run it after changing the lists below.
"""
import itertools, pathlib


def write_if_changed(path, text):
    """Rewrites `path` only when its text changes, so that builds do not recompile for nothing."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)

CXX = {"f16": "fp16", "bf16": "bf16", "tf32": "tf32", "f32": "fp32", "s32": "s32",
       "s8": "s8", "u8": "u8", "s4": "s4", "u4": "u4", "e4m3": "e4m3", "e5m2": "e5m2"}
ATOM = {"f16": "F16", "bf16": "BF16", "tf32": "TF32", "f32": "F32", "s32": "S32", "s8": "S8", "u8": "U8",
        "s4": "S4", "u4": "U4", "e4m3": "E4M3", "e5m2": "E5M2"}

# (a/b types, shape k, d, c, sparsity, metadata lanes per quad, two rows per register, min arch)
SPARSE = []
for k, lanes in ((16, 1), (32, 2)):
    SPARSE += [(("f16", "f16"), k, "f16", "f16", "two_of_four", lanes, True, 80),
               (("f16", "f16"), k, "f32", "f32", "two_of_four", lanes, True, 80),
               (("bf16", "bf16"), k, "f32", "f32", "two_of_four", lanes, True, 80)]
for k, lanes in ((8, 1), (16, 2)):
    SPARSE.append((("tf32", "tf32"), k, "f32", "f32", "one_of_two", lanes, True, 80))
for k, lanes in ((32, 2), (64, 4)):
    SPARSE += [((a, b), k, "s32", "s32", "two_of_four", lanes, False, 80) for a, b in itertools.product(("s8", "u8"), repeat=2)]
for k, lanes in ((64, 2), (128, 4)):
    SPARSE += [((a, b), k, "s32", "s32", "pairs_4of8", lanes, False, 80) for a, b in itertools.product(("s4", "u4"), repeat=2)]
SPARSE += [((a, b), 64, "f32", "f32", "two_of_four", 4, False, 89) for a, b in itertools.product(("e4m3", "e5m2"), repeat=2)]

DENSE = [(("f16", "f16"), 16, "f16", "f16", 80), (("f16", "f16"), 16, "f32", "f32", 80),
         (("bf16", "bf16"), 16, "f32", "f32", 80), (("tf32", "tf32"), 8, "f32", "f32", 80)]
DENSE += [((a, b), 32, "s32", "s32", 80) for a, b in itertools.product(("s8", "u8"), repeat=2)]
DENSE += [((a, b), 64, "s32", "s32", 80) for a, b in itertools.product(("s4", "u4"), repeat=2)]
DENSE += [((a, b), 32, "f32", "f32", 89) for a, b in itertools.product(("e4m3", "e5m2"), repeat=2)]
# fp8 with an fp16 accumulator: PTX ISA 8.7 (ptxas 13.0 rejects it under .version 8.6). sm_89 runs
# it natively (QMMA.16832.F16); sm_90 gets a lowering (docs/isa-findings.md).
DENSE += [((a, b), 32, "f16", "f16", 89) for a, b in itertools.product(("e4m3", "e5m2"), repeat=2)]

rows = []

# Execution geometry of a row: threads per instruction and where A and B come from. Every mma /
# mma.sp row is one warp with all operands in registers.
WARP = dict(threads=32, a_source="registers", b_source="registers")

def emit(name, ptx, k, a, b, c, d, sparsity, order, sat, arch, lanes, two_rows, m=16, n=8, geometry=WARP):
    rows.append(f'    {{"{name}", "{ptx}", {m}, {n}, {k}, &{CXX[a]}, &{CXX[b]}, &{CXX[c]}, &{CXX[d]}, '
                f'Sparsity::{sparsity}, MetadataOrder::{order}, {str(sat).lower()}, Arch::sm{arch}, '
                f'{{{lanes}, {str(two_rows).lower()}}}, {geometry["threads"]}, '
                f'OperandSource::{geometry["a_source"]}, OperandSource::{geometry["b_source"]}}},')

for (a, b), k, d, c, sparsity, lanes, two_rows, arch in SPARSE:
    for order in ("any", "ordered"):
        for sat in ((False, True) if d == "s32" else (False,)):
            op = "mma.sp" + ("::ordered_metadata" if order == "ordered" else "")
            ptx = f"{op}.sync.aligned.m16n8k{k}.row.col{'.satfinite' if sat else ''}.{d}.{a}.{b}.{c}"
            name = (f"SM{arch}_SP{'_ORDERED' if order == 'ordered' else ''}_16x8x{k}_"
                    f"{ATOM[d]}{ATOM[a]}{ATOM[b]}{ATOM[c]}{'_SATFINITE' if sat else ''}_TN")
            emit(name, ptx, k, a, b, c, d, sparsity, order, sat, arch, lanes, two_rows)

for (a, b), k, d, c, arch in DENSE:
    for sat in ((False, True) if d == "s32" else (False,)):
        ptx = f"mma.sync.aligned.m16n8k{k}.row.col{'.satfinite' if sat else ''}.{d}.{a}.{b}.{c}"
        name = f"SM{arch}_16x8x{k}_{ATOM[d]}{ATOM[a]}{ATOM[b]}{ATOM[c]}{'_SATFINITE' if sat else ''}_TN"
        emit(name, ptx, k, a, b, c, d, "dense", "none", sat, arch, 0, False)

warp_row_count = len(rows)  # rows with CUDA wrappers below; the warpgroup rows follow

# ---- Warpgroup rows: wgmma.mma_async(.sp) on sm_90a (PTX ISA 9.1 §9.7.15, "Asynchronous
# Warpgroup Level Matrix Multiply-Accumulate"). 128 threads; B always from shared memory through a
# matrix descriptor; A from shared memory (SS) or registers (RS). Shape m64nNk(K): dense K = 32
# bytes of A per row (k16 f16/bf16, k8 tf32, k32 8-bit), sparse K twice that. Legal N: 8..256 in
# steps of 8, except the 8-bit integer rows: 8, 16, 24, then steps of 16 up to 256.
WG_SS = dict(threads=128, a_source="shared_descriptor", b_source="shared_descriptor")
WG_RS = dict(threads=128, a_source="registers", b_source="shared_descriptor")
N_FLOAT = list(range(8, 257, 8))
N_INT = [8, 16, 24] + list(range(32, 257, 16))
# (a/b types, dense k, d = c, sparsity, metadata lanes per quad, two rows per register)
WGMMA = [(("f16", "f16"), 16, "f16", "two_of_four", 2, True), (("f16", "f16"), 16, "f32", "two_of_four", 2, True),
         (("bf16", "bf16"), 16, "f32", "two_of_four", 2, True), (("tf32", "tf32"), 8, "f32", "one_of_two", 2, True)]
WGMMA += [((a, b), 32, d, "two_of_four", 4, False)
          for d in ("f16", "f32") for a, b in itertools.product(("e4m3", "e5m2"), repeat=2)]
WGMMA += [((a, b), 32, "s32", "two_of_four", 4, False) for a, b in itertools.product(("s8", "u8"), repeat=2)]

WG_ROWS = []  # the warpgroup rows, for their CUDA wrappers below
for sparse in (True, False):
    for (a, b), dense_k, d, sparsity, lanes, two_rows in WGMMA:
        k = 2 * dense_k if sparse else dense_k
        for sat in ((False, True) if d == "s32" else (False,)):
            for n in (N_INT if d == "s32" else N_FLOAT):
                for src, geometry in (("SS", WG_SS), ("RS", WG_RS)):
                    ptx = (f"wgmma.mma_async{'.sp' if sparse else ''}.sync.aligned.m64n{n}k{k}"
                           f"{'.satfinite' if sat else ''}.{d}.{a}.{b}")
                    name = (f"SM90_{'SP_' if sparse else ''}64x{n}x{k}_{ATOM[d]}{ATOM[a]}{ATOM[b]}{ATOM[d]}"
                            f"{'_SATFINITE' if sat else ''}_{src}")
                    emit(name, ptx, k, a, b, d, d, sparsity if sparse else "dense", "any" if sparse else "none", sat,
                         90, lanes if sparse else 0, two_rows if sparse else False, m=64, n=n, geometry=geometry)
                    WG_ROWS.append(dict(index=len(rows) - 1, name=name, ptx=ptx, a=a, d=d, n=n, sparse=sparse,
                                        src=src, selectors=(4 // lanes) if sparse else 1))

out = pathlib.Path(__file__).resolve().parent.parent / "sim/include/twofour/sim/spec/registry.hpp"
write_if_changed(out, f"""#pragma once
// GENERATED by scripts/gen-instruction-table.py: the table of warp-level MMA instructions, one row
// per PTX variant (PTX ISA 9.1 §9.7.14.5 dense mma, §9.7.14.6 mma.sp, §9.7.15 wgmma.mma_async and
// wgmma.mma_async.sp; the SS and RS forms of a wgmma row share one PTX mnemonic, and a lookup by
// mnemonic finds the SS row). Edit the script, not this file.
#include "twofour/sim/spec/instruction.hpp"

#include <array>
#include <string_view>

namespace twofour::sim::spec {{

inline constexpr std::array<Instruction, {len(rows)}> instruction_table{{{{
{chr(10).join(rows)}
}}}};

// The largest per-thread register count of any row, per operand, and the most threads of any row:
// the sizes of fixed buffers (the CUDA runner's per-thread arrays).
struct RegisterLimits {{
  int threads, a, b, c;
}};
constexpr RegisterLimits register_limits() {{
  RegisterLimits l{{0, 0, 0, 0}};
  for (const Instruction& row : instruction_table) {{
    l.threads = l.threads > row.threads ? l.threads : row.threads;
    l.a = l.a > row.a_registers() ? l.a : row.a_registers();
    l.b = l.b > row.b_registers() ? l.b : row.b_registers();
    l.c = l.c > row.c_registers() ? l.c : row.c_registers();
  }}
  return l;
}}

// Looks a row up by its atom name or its PTX mnemonic (the first row with it); nullptr when unknown.
constexpr const Instruction* find_instruction(std::string_view name) {{
  for (const Instruction& row : instruction_table) {{
    if (row.name == name || row.ptx == name) return &row;
  }}
  return nullptr;
}}

}}  // namespace twofour::sim::spec
""")
print(f"wrote {out} with {len(rows)} rows")

# ---- CUDA: one device wrapper per (row, selector), register counts checked against the row ----
REGS = {"f16": 2, "bf16": 2, "tf32": 1, "f32": 1, "s32": 1, "s8": 4, "u8": 4, "s4": 8, "u4": 8, "e4m3": 4, "e5m2": 4}

def nregs(elements, ty):
    return elements // 32 // REGS[ty]

wrappers, cases = [], []
row_index = 0

def cuda_rows():
    for (a, b), k, d, c, sparsity, lanes, two_rows, arch in SPARSE:
        for order in ("any", "ordered"):
            for sat in ((False, True) if d == "s32" else (False,)):
                stored_k = k // 2
                yield (a, b, k, d, c, True, 4 // lanes, arch, stored_k)
    for (a, b), k, d, c, arch in DENSE:
        for sat in ((False, True) if d == "s32" else (False,)):
            yield (a, b, k, d, c, False, 1, arch, k)

for (a, b, k, d, c, sparse, selectors, arch, stored_k), text in zip(cuda_rows(), rows[:warp_row_count], strict=True):
    ptx = text.split('"')[3]
    na, nb = nregs(16 * stored_k, a), nregs(k * 8, b)
    nc = nregs(16 * 8, c)
    fp = c == "f32"
    for s in range(selectors):
        ops, outs, ins = [], [], []
        idx = 0
        def group(n):
            global idx
            g = "{" + ",".join(f"%{idx + i}" for i in range(n)) + "}"
            idx += n
            return g
        dg = group(nc); ag = group(na); bg = group(nb); cg = group(nc)
        operands = f"{dg}, {ag}, {bg}, {cg}"
        if sparse:
            operands += f", %{idx}, {hex(s)}"
        outs = [f'"=f"(df[{i}])' if fp else f'"=r"(d[{i}])' for i in range(nc)]
        ins = [f'"r"(a[{i}])' for i in range(na)] + [f'"r"(b[{i}])' for i in range(nb)]
        ins += [f'"f"(__uint_as_float(c[{i}]))' if fp else f'"r"(c[{i}])' for i in range(nc)]
        if sparse:
            ins.append('"r"(e)')
        body = []
        if fp:
            body.append(f"  float df[{nc}];")
        body.append(f'  asm volatile("{ptx} {operands};\\n"\n               : {", ".join(outs)}\n               : {", ".join(ins)});')
        if fp:
            body.append(f"  for (int i = 0; i < {nc}; ++i) d[i] = __float_as_uint(df[i]);")
        guard = arch
        if s == 0:  # one compile-time check per row
            wrappers.append(f"static_assert(sim::spec::instruction_table[{row_index}].threads == 32 && "
                            f"sim::spec::instruction_table[{row_index}].a_registers() == {na} && "
                            f"sim::spec::instruction_table[{row_index}].b_registers() == {nb} && "
                            f"sim::spec::instruction_table[{row_index}].c_registers() == {nc}, "
                            f"\"row {row_index}: thread and register counts differ from sim/spec\");")
        code = chr(10).join(body)
        if guard > 80:  # newer than every baseline target: trap where the instruction does not exist
            code = (f"#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= {guard}0\n{code}\n#else\n"
                    f"  (void)a; (void)b; (void)c; (void)d;\n  __trap();  // needs sm_{guard}\n#endif")
        wrappers.append(f"""template <>  // {ptx}, selector {s}
__device__ inline void mma_row<{row_index}, {s}>(const std::uint32_t* a, const std::uint32_t* b, const std::uint32_t* c,
                                         [[maybe_unused]] std::uint32_t e, std::uint32_t* d) {{
{code}
}}""")
        cases.append(f"    case {row_index * 4 + s}: mma_row<{row_index}, {s}>(a, b, c, e, d); break;")
    row_index += 1

cuda_out = pathlib.Path(__file__).resolve().parent.parent / "cuda/include/twofour/cuda/mma_instructions.cuh"
write_if_changed(cuda_out, f"""#pragma once
// GENERATED by scripts/gen-instruction-table.py: one device wrapper per instruction row of
// sim/spec/registry.hpp and per legal sparsity selector (an immediate in PTX), executing it through
// inline PTX. A static_assert per row checks that its operand counts equal the sim/spec row's.
#include "twofour/sim/spec/registry.hpp"

#include <cstdint>

namespace twofour::cuda {{

template <int Row, int Selector>
__device__ void mma_row(const std::uint32_t* a, const std::uint32_t* b, const std::uint32_t* c, std::uint32_t e,
                        std::uint32_t* d);

{chr(10).join(wrappers)}
// Runs row `row` with selector `selector` on this lane's registers; returns false when the pair is
// not a legal (row, selector).
__device__ inline bool mma_dispatch(int row, int selector, const std::uint32_t* a, const std::uint32_t* b,
                                    const std::uint32_t* c, std::uint32_t e, std::uint32_t* d) {{
  switch (row * 4 + selector) {{
{chr(10).join(cases)}
    default: return false;
  }}
  return true;
}}

inline constexpr int kInstructionRows = {row_index};

}}  // namespace twofour::cuda
""")
print(f"wrote {cuda_out}: {len(cases)} wrappers")

# ---- CUDA: one wrapper per warpgroup row (sm_90a only), register counts checked against the row ----
# Operand lists by register count, as macros, keep the header short: TWOFOUR_WG_LIST_<n> is the
# PTX vector "{%0,...,%n-1}", TWOFOUR_WG_F_<n>(x) / TWOFOUR_WG_R_<n>(x) the read-write constraints.
counts = sorted({(64 * r["n"] // 128) // (2 if r["d"] == "f16" else 1) for r in WG_ROWS})
macros = []
for c in counts:
    macros.append(f'#define TWOFOUR_WG_LIST_{c} "{{" ' + " ".join(
        f'"%{i}{"," if i + 1 < c else ""}"' for i in range(c)) + ' "}"')
    for kind, cons in (("F", "+f"), ("R", "+r")):
        macros.append(f"#define TWOFOUR_WG_{kind}_{c}(x) " + ", ".join(f'"{cons}"(x[{i}])' for i in range(c)))

def immediates(r):
    # scale-d (predicate p), then imm-scale-a/b (+1) and imm-trans-a/b (K-major) where the ISA has them.
    if r["d"] == "s32":
        return "p"
    if r["a"] in ("f16", "bf16"):
        return "p, 1, 1, 0, 0" if r["src"] == "SS" else "p, 1, 1, 0"
    return "p, 1, 1"

wg_wrappers = []
for r in WG_ROWS:
    nc = (64 * r["n"] // 128) // (2 if r["d"] == "f16" else 1)
    i = nc
    if r["src"] == "SS":
        ops = [f"%{i}"]
        i += 1
    else:
        ops = ["{" + ",".join(f"%{i + j}" for j in range(4)) + "}"]
        i += 4
    ops.append(f"%{i}")
    i += 1
    if r["sparse"]:
        ops += [f"%{i}", f"%{i + 1}"]
        i += 2
    inputs = f'TWOFOUR_WG_IN_{r["src"]}{"_SP" if r["sparse"] else ""}'
    wg_wrappers.append(f'TWOFOUR_WG_ROW({r["index"]}, {4 if r["src"] == "RS" else 0}, {nc}, {r["selectors"]}, '
                       f'{"F" if r["d"] == "f32" else "R"}, "{r["ptx"]}", "{", ".join(ops)}", "%{i}", '
                       f'"{immediates(r)}", {inputs})')

wg_out = pathlib.Path(__file__).resolve().parent.parent / "cuda/include/twofour/cuda/wgmma_instructions.cuh"
write_if_changed(wg_out, f"""#pragma once
// GENERATED by scripts/gen-instruction-table.py: one device wrapper per warpgroup row of
// sim/spec/registry.hpp (wgmma.mma_async and wgmma.mma_async.sp, PTX ISA 9.1 §9.7.15), executing
// it through inline PTX with the sparsity selector as an immediate template argument. Compile
// only for sm_90a (the wgmma instructions exist nowhere else). A static_assert per row checks its
// thread and register counts against the sim/spec row. The caller brackets a wrapper with
// wgmma.fence / wgmma.commit_group / wgmma.wait_group (docs/wgmma.md). imm-scale-a/b = +1 and
// K-major operands (imm-trans = 0); scale_d = 0 computes D = A*B.
#include "twofour/sim/spec/registry.hpp"

#include <cstddef>
#include <cstdint>

{chr(10).join(macros)}

namespace twofour::cuda {{

// Row R's wrapper: WgmmaRow<R>::run<Selector>(a, desc_a, desc_b, e, scale_d, d), d read and written.
template <int Row>
struct WgmmaRow;

constexpr bool wgmma_row_counts_match(int row, int a_registers, int c_registers) {{
  const sim::spec::Instruction& in = sim::spec::instruction_table[static_cast<std::size_t>(row)];
  return in.threads == 128 && in.a_registers() == a_registers && in.c_registers() == c_registers;
}}

// Inputs after D: A (descriptor or four registers), B's descriptor, [metadata, selector], scale-d.
#define TWOFOUR_WG_IN_SS_SP "l"(desc_a), "l"(desc_b), "r"(e), "n"(Selector), "r"(scale_d)
#define TWOFOUR_WG_IN_RS_SP "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(e), "n"(Selector), "r"(scale_d)
#define TWOFOUR_WG_IN_SS "l"(desc_a), "l"(desc_b), "r"(scale_d)
#define TWOFOUR_WG_IN_RS "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(scale_d)
// f32 accumulators travel as .f32 registers; f16x2 and s32 ones as .b32.
#define TWOFOUR_WG_BODY_F(NC, TEXT, ...)                                     \\
  float f[NC];                                                             \\
  for (int i = 0; i < NC; ++i) f[i] = __uint_as_float(d[i]);               \\
  asm volatile(TEXT : TWOFOUR_WG_F_##NC(f) : __VA_ARGS__);                 \\
  for (int i = 0; i < NC; ++i) d[i] = __float_as_uint(f[i]);
#define TWOFOUR_WG_BODY_R(NC, TEXT, ...) asm volatile(TEXT : TWOFOUR_WG_R_##NC(d) : __VA_ARGS__);
#define TWOFOUR_WG_ROW(ROW, NA, NC, SELECTORS, KIND, PTX, OPERANDS, PRED, IMMEDIATES, ...)                         \\
  template <>                                                                                                  \\
  struct WgmmaRow<ROW> {{                                                                                        \\
    static_assert(wgmma_row_counts_match(ROW, NA, NC), "row " #ROW ": counts differ from sim/spec");           \\
    static constexpr int selectors = SELECTORS;                                                                \\
    template <int Selector>                                                                                    \\
    __device__ static void run([[maybe_unused]] const std::uint32_t* a, [[maybe_unused]] std::uint64_t desc_a, \\
                               std::uint64_t desc_b, [[maybe_unused]] std::uint32_t e, int scale_d,            \\
                               std::uint32_t* d) {{                                                             \\
      TWOFOUR_WG_BODY_##KIND(NC, "{{\\n.reg .pred p;\\nsetp.ne.b32 p, " PRED ", 0;\\n" PTX " " TWOFOUR_WG_LIST_##NC   \\
                             ", " OPERANDS ", " IMMEDIATES ";\\n}}\\n", __VA_ARGS__)                                \\
    }}                                                                                                          \\
  }};

{chr(10).join(wg_wrappers)}

}}  // namespace twofour::cuda
""")
print(f"wrote {wg_out}: {len(wg_wrappers)} warpgroup wrappers")
