# The simulator's GEMM fast-path kernels (sim/src/gemm_fast_kernel.inl) are built once per
# instruction set and picked at run time (sim/src/kernel_isa.cpp). Only these files get the -m
# flags; the rest of the simulator stays baseline x86-64. Shared by the main build and the fuzz
# build, which compiles the simulator's sources itself. Source properties are per directory, so
# call this from the CMakeLists that adds the sources to a target.
function(twofour_sim_kernel_flags sim_src_dir)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
    set_source_files_properties(${sim_src_dir}/gemm_fast_avx2.cpp
      PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
    set_source_files_properties(${sim_src_dir}/gemm_fast_avx512.cpp
      PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mavx2;-mfma;-mf16c")
  endif()
endfunction()
