# The CUDA backend is built whenever nvcc is found (it often lives in /usr/local/cuda/bin, off PATH).
# Without nvcc the build still succeeds: the CUDA targets are absent and the tool says so.
set(TWOFOUR_HAVE_CUDA OFF)
if(NOT TWOFOUR_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(TWOFOUR_NVCC nvcc HINTS /usr/local/cuda/bin /usr/local/cuda/bin ENV CUDA_HOME PATH_SUFFIXES bin)
    if(TWOFOUR_NVCC)
      set(CMAKE_CUDA_COMPILER "${TWOFOUR_NVCC}" CACHE FILEPATH "CUDA compiler")
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    enable_language(CUDA)
    # CMake 3.25 does not know nvcc's C++20 flag; teach it, so targets needing cxx_std_20 build.
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA_STANDARD 20)
    find_package(CUDAToolkit REQUIRED)
    set(TWOFOUR_HAVE_CUDA ON)
    # The instruction runner (every table row as inline PTX) also gets native code for the other
    # architectures whose rows run differently: sm_89 (native fp8 QMMA, which sm_80 code cannot
    # hold: its fp8 rows trap), sm_100 (fp8 lowered; sm_90 code does not run there) and sm_86.
    # Only that one file, which compiles in seconds per architecture: the GEMM kernels need more
    # shared memory than sm_86/sm_89 have and reach sm_100 through the compute_90 PTX.
    set(TWOFOUR_CUDA_RUNNER_ARCHITECTURES "86;89;100" CACHE STRING
        "Extra native architectures for the CUDA instruction runner (those nvcc lacks are skipped)")
    execute_process(COMMAND "${CMAKE_CUDA_COMPILER}" --list-gpu-arch OUTPUT_VARIABLE _twofour_nvcc_archs
                    ERROR_QUIET RESULT_VARIABLE _twofour_list_status)
    set(TWOFOUR_CUDA_RUNNER_GENCODE "")
    set(TWOFOUR_CUDA_RUNNER_ARCHS_USED "")
    foreach(arch IN LISTS TWOFOUR_CUDA_RUNNER_ARCHITECTURES)
      if(_twofour_list_status EQUAL 0 AND _twofour_nvcc_archs MATCHES "compute_${arch}([^0-9]|$)"
         AND NOT arch IN_LIST CMAKE_CUDA_ARCHITECTURES)
        list(APPEND TWOFOUR_CUDA_RUNNER_GENCODE "--generate-code=arch=compute_${arch},code=sm_${arch}")
        list(APPEND TWOFOUR_CUDA_RUNNER_ARCHS_USED ${arch})
      endif()
    endforeach()
    message(STATUS "twofour: CUDA backend ON (${CMAKE_CUDA_COMPILER}, architectures ${CMAKE_CUDA_ARCHITECTURES}; "
                   "instruction runner also ${TWOFOUR_CUDA_RUNNER_ARCHS_USED})")
  elseif(TWOFOUR_CUDA STREQUAL "ON")
    message(FATAL_ERROR "TWOFOUR_CUDA=ON but no nvcc was found (looked in PATH and /usr/local/cuda/bin)")
  else()
    message(STATUS "twofour: nvcc not found, the CUDA backend is not built")
  endif()
endif()
if(TWOFOUR_HAVE_CUDA)
  set(TWOFOUR_HAVE_CUDA_BOOL true)
else()
  set(TWOFOUR_HAVE_CUDA_BOOL false)
endif()
